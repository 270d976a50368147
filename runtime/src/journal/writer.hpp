// The journal writer: appends the events a bus admits (of the chosen types) to segment files
// (libra/journal_format.hpp). Two sides, so that disk never stalls the bus:
// - the subscriber side, a scheduled CAF actor fed like any other subscriber, puts events back in
//   admission order (append_in_order) and encodes them into a fill buffer (append);
// - a writer thread of its own takes the whole fill buffer whenever it is free (double buffering:
//   one buffer fills while the other is written), writes it with write(2) and fsyncs as the policy
//   says. It takes the buffer when it reaches buffer_bytes, or `linger` after the first record
//   of a batch: one wake-up and one write(2) per buffer on a busy bus, not one per delivery.
// No event is lost: when the thread is still writing one buffer and the other is full, the
// subscriber waits for it, its credit window stays full and the bus's back-pressure applies (the
// broker holds the backlog within bus.capacity, then publishers see a full bus).
// Member functions are thread-safe (one mutex; no disk I/O is done under it).
#pragma once

#include "codec.hpp"
#include "config.hpp"

#include <libra/bus.hpp>
#include <libra/delivery.hpp>

#include <caf/fwd.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <queue>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace libra::journal {

/// A snapshot of a writer's counters.
struct journal_stats {
  std::uint64_t records = 0;  ///< records written (a failed write: none of its buffer)
  std::uint64_t bytes = 0;    ///< segment bytes written, headers included
  std::uint64_t segments = 0; ///< segments this run created
  std::uint64_t fsyncs = 0;
  std::uint64_t max_lag_events = 0;
  std::uint64_t max_held = 0; ///< most events held back to restore admission order
  std::uint64_t writes = 0;   ///< buffers handed to the writer thread and written
  std::uint64_t waits = 0;    ///< times the subscriber waited for the writer thread (back-pressure)
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

  /// Encodes e into the fill buffer now, whatever its type and sequence; waits while the buffer
  /// is full and the writer thread still writes the other one.
  void append(const event& e);
  /// append() for each of events, under one lock (as append_delivery() takes one per delivery).
  void append(std::span<const event> events);
  /// The subscriber's path: events arrive in the bus's dispatch order (by priority) and are
  /// written in admission order. e waits until every lower sequence number (from expect_from())
  /// has arrived, then goes if its type is journaled. Numbers that never arrive (dropped by a
  /// stop that timed out) are given up on at close(), or once max_held events wait.
  void append_in_order(const event& e);
  /// append_in_order() for each event of d, under one lock; the lowest sequence number seen.
  std::uint64_t append_delivery(delivery& d);
  /// The first sequence number append_in_order() waits for.
  void expect_from(std::uint64_t seq);
  /// Most events append_in_order() holds back before it gives up on a missing number.
  static constexpr std::size_t max_held = std::size_t{1} << 20;
  /// The end of a batch: hands the fill buffer to the writer thread if it is idle (which writes
  /// it, then fsyncs as the policy says), without waiting; lag is the batch's writer lag in
  /// events. False once a write failed (error() says which; later records are not written).
  bool flush(std::uint64_t lag = 0);
  /// Writes out everything appended, fsyncs (unless the policy is none), ends the writer thread
  /// and closes; idempotent. False on an error.
  bool close();
  /// Called once, from the writer thread, when a write or fsync fails (with error()).
  void on_error(std::function<void(const std::string&)> f);
  /// With fsync every_batch: called (from the writer thread, or the subscriber's in flush())
  /// with the highest sequence number up to which every event is on disk and synced, or was not
  /// of a journaled type: the bus's write-ahead confirmation (bus::write_ahead).
  void on_durable(std::function<void(std::uint64_t)> f);
  /// Bytes at which the fill buffer is handed over (and the subscriber waits if the other buffer
  /// is still being written).
  static constexpr std::size_t buffer_bytes = std::size_t{256} << 10;
  /// How long the writer thread lets a buffer fill before it writes what it has: the most a
  /// record waits for write(2) (and, with fsync every_batch, for its fsync) on a quiet bus.
  static constexpr std::chrono::milliseconds linger{1};

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
  void admit(const event& e);
  void wait_for_space(std::unique_lock<std::mutex>& lock);
  // The writer thread's side (and the constructor's, before it starts): no lock held.
  void run();
  bool write_out(const std::vector<std::byte>& out, const std::vector<std::size_t>& cuts, bool sync_after);
  void open_segment();
  bool write_range(const std::byte* p, std::size_t n);
  bool sync();
  void fail(const std::string& what);

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // the writer thread waits for a buffer
  std::condition_variable space_cv_; // the subscriber waits for the writer thread
  std::thread thread_;
  std::function<void(const std::string&)> on_error_;
  std::function<void(std::uint64_t)> on_durable_;
  journal_config cfg_;
  trace_id run_;
  int lock_fd_ = -1;
  int fd_ = -1;
  std::filesystem::path segment_path_;
  std::uint32_t next_file_ = 1;
  std::uint32_t run_index_ = 0;
  std::uint64_t segment_size_ = 0;    // bytes written to the current segment (writer thread)
  std::vector<std::byte> fill_;       // encoded records waiting for the writer thread
  std::vector<std::size_t> cuts_;     // offsets in fill_ after which a new segment starts
  std::uint64_t fill_records_ = 0;    // records in fill_
  std::uint64_t encoded_segment_ = 0; // the current segment's size once fill_ is written
  bool want_flush_ = false;           // a batch ended: write fill_ even if not full
  bool writer_idle_ = false;          // waiting (asleep or lingering), not writing
  bool writer_asleep_ = false;        // waiting for a first record
  bool stopping_ = false;
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

/// Spawns the writer's actor (scheduled; the writer thread does the I/O) and subscribes it to b
/// for every type. on_error is called once, from the writer thread, when a write fails. With
/// write_ahead (fsync every_batch, not in deterministic mode, where only the driver's thread may
/// touch the broker), the bus hands an event to the other subscribers only once it is on disk
/// and synced: nothing a handler saw is missing from the journal after a kill.
caf::actor spawn_journal(caf::actor_system& sys, bus& b, std::shared_ptr<journal_writer> w,
                         std::function<void(const std::string&)> on_error, bool write_ahead = false);

} // namespace libra::journal
