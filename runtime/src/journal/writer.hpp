// The journal writer: appends the events a bus admits (of the chosen types) to segment files
// (libra/journal_format.hpp). It runs on the journal's subscriber, a CAF actor fed like any other
// subscriber: the subscriber puts events back in admission order (append_in_order), encodes them
// into a fill buffer (append) and, when it holds buffer_bytes, writes it with write(2) (to the
// page cache: about the time encoding it took); a buffer not full is written `linger` after its
// first record (write_pending(), on a timer of the actor's). One thread encodes and writes, so
// the buffer stays in its cache: handing it to a writer thread on another core made every byte
// cross cores twice and cost 0.5-0.6 of the writer's rate (bench/README.md, the journal).
// fsync, which takes the disk's time, runs on a thread of its own (with an fsync policy): it
// syncs after the writes and confirms them durable (on_durable), while the subscriber goes on.
// No event is lost: while the subscriber writes, its credit window fills and the bus's
// back-pressure applies (the broker holds the backlog within bus.capacity, then publishers see a
// full bus).
// Member functions are thread-safe (one mutex, held during write(2) and a segment end's fsync,
// never during the fsync thread's).
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
  std::uint64_t writes = 0;   ///< buffers written (write(2) calls, but for segment ends)
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

  /// Encodes e into the fill buffer now, whatever its type and sequence; writes the buffer when
  /// it is full.
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
  /// The end of a batch; lag is its writer lag in events. With fsync every_batch and nothing
  /// buffered (a batch of types not journaled), confirms it durable (on_durable) at once. False
  /// once a write failed (error() says which; later records are not written).
  bool flush(std::uint64_t lag = 0);
  /// True while records wait in the fill buffer: write_pending() is due `linger` later.
  [[nodiscard]] bool pending() const;
  /// Writes what the fill buffer holds, then fsyncs as the policy says (every_batch: always) and
  /// confirms it durable (on_durable). False on an error.
  bool write_pending();
  /// Writes out everything appended, fsyncs (unless the policy is none) and closes; idempotent.
  /// False on an error.
  bool close();
  /// Called once, from the thread whose write or fsync failed (the subscriber's, or the fsync
  /// thread), after it released the writer's lock (with error()).
  void on_error(std::function<void(const std::string&)> f);
  /// With fsync every_batch: called (from the fsync thread, or the subscriber's in flush()) with
  /// the highest sequence number up to which every event is on disk and synced, or was not of a
  /// journaled type: the bus's write-ahead confirmation (bus::write_ahead).
  void on_durable(std::function<void(std::uint64_t)> f);
  /// Bytes at which the fill buffer is written.
  static constexpr std::size_t buffer_bytes = std::size_t{256} << 10;
  /// How long a buffer not full waits for more records before it is written: the most a record
  /// waits for write(2) (and, with fsync every_batch, for its fsync) on a quiet bus.
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
  // Called with mu_ held; write_fill() releases it around on_durable, report_error() for good.
  void recover();
  void write_record(const event& e);
  void release_held(bool all);
  void admit(const event& e);
  bool write_fill(std::unique_lock<std::mutex>& lock, bool final);
  /// write_fill() once the fill buffer holds buffer_bytes (the appending paths).
  void write_if_full(std::unique_lock<std::mutex>& lock);
  void open_segment(std::unique_lock<std::mutex>* lock = nullptr);
  bool write_range(const std::byte* p, std::size_t n);
  bool sync();
  void sync_loop();
  void fail(const std::string& what);
  void report_error(std::unique_lock<std::mutex>& lock);

  mutable std::mutex mu_;
  std::condition_variable sync_cv_;   // the fsync thread waits for work, a segment's end for it
  std::thread sync_thread_;           // with an fsync policy
  bool want_sync_ = false;            // a write is waiting for its fsync
  bool syncing_ = false;              // the fsync thread is in fdatasync (on fd_)
  bool written_since_sync_ = false;   // bytes written since the last fsync began
  std::uint64_t written_through_ = 0; // every number up to it is written, or not journaled
  bool stopping_ = false;
  std::function<void(const std::string&)> on_error_;
  std::function<void(std::uint64_t)> on_durable_;
  journal_config cfg_;
  trace_id run_;
  int lock_fd_ = -1;
  int fd_ = -1;
  std::filesystem::path segment_path_;
  std::uint32_t next_file_ = 1;
  std::uint32_t run_index_ = 0;
  std::uint64_t segment_size_ = 0;    // bytes written to the current segment
  byte_buffer fill_;                  // encoded records not written yet
  std::vector<std::size_t> cuts_;     // offsets in fill_ after which a new segment starts
  std::uint64_t fill_records_ = 0;    // records in fill_
  std::uint64_t encoded_segment_ = 0; // the current segment's size once fill_ is written
  bool error_reported_ = false;
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

/// Spawns the writer's actor (scheduled: it encodes and writes; fsync runs on the writer's own
/// thread) and subscribes it to b for every type. on_error is called once, from the thread whose
/// write or fsync failed, when one fails. With
/// write_ahead (fsync every_batch, not in deterministic mode, where only the driver's thread may
/// touch the broker), the bus hands an event to the other subscribers only once it is on disk
/// and synced: nothing a handler saw is missing from the journal after a kill.
caf::actor spawn_journal(caf::actor_system& sys, bus& b, std::shared_ptr<journal_writer> w,
                         std::function<void(const std::string&)> on_error, bool write_ahead = false);

} // namespace libra::journal
