// What a run journals, where and how: the topology's `journal:` block and --journal DIR.
#pragma once

#include <libra/event_type.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>

namespace libra::journal {

/// When the writer calls fsync(2) (fdatasync).
enum class fsync_policy {
  none,        ///< never: a crash of the process loses nothing written, a crash of the machine may
  interval,    ///< at a write batch when fsync_interval passed since the last one, and at close
  every_batch, ///< after every write batch (the events of one delivery, up to the credit window)
};

/// "none", "interval", "every_batch".
[[nodiscard]] const char* to_string(fsync_policy p) noexcept;

/// A mask of every event type.
inline constexpr std::uint32_t all_types = (std::uint32_t{1} << event_type_count) - 1;

struct journal_config {
  std::filesystem::path dir;
  std::uint32_t types = all_types;                        ///< mask of event types (type_bit)
  std::uint64_t segment_bytes = std::uint64_t{256} << 20; ///< a segment ends past this size
  fsync_policy fsync = fsync_policy::none;
  std::chrono::milliseconds fsync_interval{100}; ///< for fsync_policy::interval
  /// Deterministic mode: a fixed run id and a zero creation time in the segment headers, so that
  /// two runs over the same input write the same bytes.
  bool deterministic = false;
};

} // namespace libra::journal
