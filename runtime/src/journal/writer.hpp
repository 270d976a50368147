// The journal writer: appends the events a bus admits (of the chosen types) to segment files
// (libra/journal_format.hpp). It runs as a detached subscriber actor (its own thread), fed like
// any other subscriber: it never drops an event; when the disk is slower than the bus, its credit
// window stays full and the bus's back-pressure applies (the broker holds the backlog within
// bus.capacity, then publishers see a full bus). Records are written in admission order
// (append_in_order). journal_writer itself is the file side; its
// member functions are thread-safe (one mutex: the actor appends and flushes, the runner reads
// stats and closes).
#pragma once

#include "codec.hpp"
#include "config.hpp"

#include <libra/bus.hpp>

#include <caf/fwd.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <queue>
#include <stdexcept>
#include <string>
#include <vector>

namespace libra::journal {

/// A snapshot of a writer's counters.
struct journal_stats {
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;    ///< segment bytes written, headers included
  std::uint64_t segments = 0; ///< segments this run created
  std::uint64_t fsyncs = 0;
  std::uint64_t max_lag_events = 0;
  std::uint64_t max_held = 0; ///< most events held back to restore admission order ///< most events the bus admitted
                              ///< past one before it was written
  double busy_s = 0;          ///< time in write(2) and fsync(2)
  double open_s = 0;          ///< time since the writer opened
  [[nodiscard]] double mb_per_s() const noexcept { return busy_s > 0 ? static_cast<double>(bytes) / 1e6 / busy_s : 0; }
};

/// The journal cannot be opened (directory, lock, first segment); what() names the journal.
class journal_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

class journal_writer {
public:
  /// Creates dir when missing, locks it (one writer per directory), truncates a torn tail left
  /// in its last segment by a crash (notes() says so), and starts this run's first segment.
  /// Throws journal_error.
  explicit journal_writer(journal_config cfg);
  journal_writer(const journal_writer&) = delete;
  journal_writer& operator=(const journal_writer&) = delete;
  ~journal_writer();

  /// Encodes e into the write buffer now, whatever its type and sequence (a full segment is
  /// written out and a new one started).
  void append(const event& e);
  /// The subscriber's path: events arrive in the bus's dispatch order (by priority) and are
  /// written in admission order. e waits until every lower sequence number (from expect_from())
  /// has arrived, then goes if its type is journaled. Numbers that never arrive (dropped by a
  /// stop that timed out) are given up on at close(), or once max_held events wait.
  void append_in_order(const event& e);
  /// The first sequence number append_in_order() waits for.
  void expect_from(std::uint64_t seq);
  /// Most events append_in_order() holds back before it gives up on a missing number.
  static constexpr std::size_t max_held = std::size_t{1} << 20;
  /// Writes the buffer to the segment, then fsyncs as the policy says; lag is the batch's writer
  /// lag in events. False on a write error (error() says which; later calls do nothing).
  bool flush(std::uint64_t lag = 0);
  /// Flushes, fsyncs (unless the policy is none) and closes; idempotent. False on an error.
  bool close();

  [[nodiscard]] journal_stats stats() const;
  /// What opening found and did (a torn tail truncated, a corrupt segment left as it was).
  [[nodiscard]] const std::vector<std::string>& notes() const noexcept { return notes_; }
  /// The first write error, "" when none.
  [[nodiscard]] std::string error() const;
  [[nodiscard]] const journal_config& config() const noexcept { return cfg_; }
  /// The run id written in this run's segment headers.
  [[nodiscard]] const trace_id& run_id() const noexcept { return run_; }

private:
  void recover();
  void write_record(const event& e);
  void release_held(bool all);
  void open_segment();
  bool write_buffer();
  bool sync();
  void fail(const std::string& what);

  mutable std::mutex mu_;
  journal_config cfg_;
  trace_id run_;
  int lock_fd_ = -1;
  int fd_ = -1;
  std::filesystem::path segment_path_;
  std::uint32_t next_file_ = 1;
  std::uint32_t run_index_ = 0;
  std::uint64_t segment_size_ = 0;
  std::vector<std::byte> buf_;
  journal_stats stats_;
  struct later_first {
    bool operator()(const event& a, const event& b) const noexcept { return a.sequence() > b.sequence(); }
  };
  std::priority_queue<event, std::vector<event>, later_first> held_; // lowest sequence on top
  std::uint64_t next_seq_ = 1;
  std::chrono::steady_clock::time_point opened_;
  std::chrono::steady_clock::time_point last_sync_;
  std::chrono::nanoseconds busy_{0};
  std::vector<std::string> notes_;
  std::string error_;
  bool closed_ = false;
};

/// Spawns the writer's actor (detached: its own thread) and subscribes it to b for every type in
/// w's config. on_error is called once, from the actor's thread, when a write fails.
caf::actor spawn_journal(caf::actor_system& sys, bus& b, std::shared_ptr<journal_writer> w,
                         std::function<void(const std::string&)> on_error);

} // namespace libra::journal
