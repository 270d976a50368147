// Reading a journal: the segment files of a directory, and the records of one segment, with torn
// tails and corruption reported as file:offset. One reader per thread.
#pragma once

#include "codec.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace libra::journal {

/// Something wrong at a place in a segment file.
struct problem {
  std::filesystem::path file;
  std::uint64_t offset = 0;
  std::string what;
  [[nodiscard]] std::string to_string() const;
};

/// The segment files of a journal directory, in write order (by name); empty when it has none.
/// Throws std::filesystem::filesystem_error when dir cannot be listed.
[[nodiscard]] std::vector<std::filesystem::path> list_segments(const std::filesystem::path& dir);

/// The records of one segment file, read through a read-only mapping.
class segment_reader {
public:
  /// What next() found.
  enum class status {
    record,    ///< a record: the out parameter holds it
    end,       ///< the end of the file, after a complete record (or the header)
    torn_tail, ///< the last record is incomplete or fails its checksum (problem() says where)
    corrupt,   ///< a bad record with data after it (problem() says where); skip() resynchronises
  };

  /// Opens path and checks its header; on failure opened() is false and problem() says why.
  explicit segment_reader(std::filesystem::path path);
  segment_reader(const segment_reader&) = delete;
  segment_reader& operator=(const segment_reader&) = delete;
  ~segment_reader();

  [[nodiscard]] bool opened() const noexcept { return opened_; }
  [[nodiscard]] const segment_header& header() const noexcept { return header_; }
  [[nodiscard]] const problem& last_problem() const noexcept { return problem_; }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
  /// Offset of the record next() returned last.
  [[nodiscard]] std::uint64_t record_offset() const noexcept { return record_offset_; }
  /// End of the last complete, valid record (or of the header): where a torn tail begins.
  [[nodiscard]] std::uint64_t valid_end() const noexcept { return valid_end_; }

  /// The next record.
  status next(record& out);
  /// After corrupt: moves to the next offset where a whole record with a valid checksum starts;
  /// false when there is none (the rest of the file is skipped). Returns how many bytes were
  /// skipped in skipped.
  bool skip(std::uint64_t& skipped);

private:
  status fail(status s, std::uint64_t at, std::string what);
  [[nodiscard]] bool whole_record_at(std::uint64_t at) const noexcept;
  [[nodiscard]] bool valid_record_after(std::uint64_t at) const noexcept;
  /// Only zero bytes from at to the end of the file (space extended but never written).
  [[nodiscard]] bool zeros_from(std::uint64_t at) const noexcept;

  std::filesystem::path path_;
  const std::byte* data_ = nullptr;
  std::uint64_t size_ = 0;
  std::uint64_t pos_ = 0;
  std::uint64_t record_offset_ = 0;
  std::uint64_t valid_end_ = 0;
  bool opened_ = false;
  segment_header header_;
  problem problem_;
};

} // namespace libra::journal
