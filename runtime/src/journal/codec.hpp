// Encoding and decoding of journal records and segment headers (libra/journal_format.hpp has the
// layout). Pure functions on buffers; thread-safe.
#pragma once

#include <libra/event.hpp>
#include <libra/journal_format.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace libra::journal {

/// A segment file's header, decoded.
struct segment_header {
  std::uint16_t version = journal_format::format_version;
  timestamp created{};
  trace_id run;            ///< the run's random id (the same in each of its segments)
  std::uint32_t index = 0; ///< segment index within the run
  std::uint32_t types = 0; ///< mask of journaled event types (type_bit)
};

/// One decoded record: the event and what the format carries beside it.
struct record {
  // A placeholder with a fixed trace and time: the defaults would draw ids from this thread's
  // trace-id sequence, shifting every id a deterministic run (gateway.journal) makes after it.
  event ev = event::create(event_type::gateway_connected, source_id{}, trace_context{}, timestamp{});
  std::optional<libra::span_id> parent; ///< the parent span, when the record has one
};

/// The 64 header bytes of a segment.
[[nodiscard]] std::array<std::byte, journal_format::segment_header_size> encode_header(const segment_header& h);
/// Decodes a segment header; an error message (bad magic, newer version, checksum) when invalid.
[[nodiscard]] std::optional<std::string> decode_header(std::span<const std::byte> bytes, segment_header& out);

/// Bytes that the encoder fills: growing does not zero them (a std::vector's resize did, a pass
/// over every record's memory before the encoder's own).
class byte_buffer {
public:
  /// Grows by n bytes, uninitialised; their start.
  std::byte* extend(std::size_t n) {
    auto* p = spare(n);
    size_ += n;
    return p;
  }
  /// At least n bytes of room after the end, uninitialised; their start. commit() takes them.
  std::byte* spare(std::size_t n) {
    if (n > cap_ - size_) [[unlikely]]
      reserve(std::max(size_ + n, 2 * cap_));
    return data_.get() + size_;
  }
  /// Grows by n bytes of what spare() gave.
  void commit(std::size_t n) noexcept { size_ += n; }
  void reserve(std::size_t n);
  void clear() noexcept { size_ = 0; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] const std::byte* data() const noexcept { return data_.get(); }

private:
  std::unique_ptr<std::byte[]> data_; // NOLINT(*-avoid-c-arrays): a buffer of raw bytes
  std::size_t size_ = 0;
  std::size_t cap_ = 0;
};

/// Appends one whole record (length, checksum, body) for e to out.
void encode_record(const event& e, std::vector<std::byte>& out, std::optional<span_id> parent = std::nullopt);
/// Appends one whole record for e to out.
void encode_record(const event& e, byte_buffer& out, std::optional<span_id> parent = std::nullopt);
/// The bytes of e's whole record (header and body).
[[nodiscard]] std::size_t record_size(const event& e, std::optional<span_id> parent = std::nullopt) noexcept;
/// Writes e's whole record at out, which has size = record_size(e, parent) bytes.
void encode_record_at(const event& e, std::byte* out, std::size_t size,
                      std::optional<span_id> parent = std::nullopt) noexcept;
/// Decodes a record body (its checksum already checked); an error message when a field is out of
/// range or the body's length does not match its fields.
[[nodiscard]] std::optional<std::string> decode_body(std::span<const std::byte> body, record& out);

/// Decodes the whole record that starts `bytes` (length, checksum, body); sets `size` to its
/// length with the header. An error message when the bytes hold no whole, valid record there.
/// For records in memory (a link's batch); a segment's reader tells torn tails from corruption.
[[nodiscard]] std::optional<std::string> decode_record(std::span<const std::byte> bytes, record& out,
                                                       std::size_t& size);

/// XXH3-64 of a body, seeded with its length (the record header's checksum).
[[nodiscard]] std::uint64_t body_checksum(std::span<const std::byte> body) noexcept;

/// Little-endian loads (for record headers).
[[nodiscard]] std::uint32_t load_u32(const std::byte* p) noexcept;
[[nodiscard]] std::uint64_t load_u64(const std::byte* p) noexcept;

} // namespace libra::journal
