#include "writer.hpp"

#include "reader.hpp"

#include <libra/delivery.hpp>

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/spawn_options.hpp>
#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <random>
#include <sys/file.h>
#include <unistd.h>
#include <utility>

namespace libra::journal {

namespace jf = journal_format;
using clock = std::chrono::steady_clock;

namespace {

std::string errno_text() { return std::strerror(errno); }

bool write_all(int fd, const std::byte* p, std::size_t n) {
  while (n > 0) {
    const auto w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// "libra" "determin": what a deterministic run writes as its run id.
constexpr trace_id deterministic_run_id{0x6c69627261, 0x64657465726d696e};

trace_id random_run_id() {
  std::random_device rd;
  auto r64 = [&] { return (std::uint64_t{rd()} << 32) | rd(); };
  trace_id id{r64(), r64()};
  if (!id.valid())
    id.lo = 1;
  return id;
}

} // namespace

const char* to_string(fsync_policy p) noexcept {
  switch (p) {
    case fsync_policy::none:
      return "none";
    case fsync_policy::interval:
      return "interval";
    case fsync_policy::every_batch:
      break;
  }
  return "every_batch";
}

journal_writer::journal_writer(journal_config cfg)
  : cfg_{std::move(cfg)}, run_{cfg_.deterministic ? deterministic_run_id : random_run_id()} {
  const auto& dir = cfg_.dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir))
    throw journal_error(fmt::format("journal '{}': not a directory and cannot be created{}", dir.string(),
                                    ec ? ": " + ec.message() : std::string{}));
  const auto lock_path = dir / "LOCK";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644); // NOLINT: POSIX vararg
  if (lock_fd_ < 0)
    throw journal_error(fmt::format("journal '{}': cannot open its lock file: {}", dir.string(), errno_text()));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd_);
    throw journal_error(
      fmt::format("journal '{}': locked: another libra-runtime run writes this journal", dir.string()));
  }
  try {
    recover();
    opened_ = last_sync_ = clock::now();
    open_segment();
  } catch (...) {
    ::close(lock_fd_);
    if (fd_ >= 0)
      ::close(fd_);
    throw;
  }
  encoded_segment_ = segment_size_;
  fill_.reserve(buffer_bytes + buffer_bytes / 4);
  if (cfg_.fsync != fsync_policy::none)
    sync_thread_ = std::thread{[this] { sync_loop(); }};
}

journal_writer::~journal_writer() {
  close();
  if (lock_fd_ >= 0)
    ::close(lock_fd_);
}

void journal_writer::recover() {
  std::vector<std::filesystem::path> segments;
  try {
    segments = list_segments(cfg_.dir);
  } catch (const std::filesystem::filesystem_error& ex) {
    throw journal_error(fmt::format("journal '{}': cannot list: {}", cfg_.dir.string(), ex.code().message()));
  }
  // A crash between creating a segment and naming it leaves its temporary file: nothing in it.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator{cfg_.dir, ec})
    if (const auto name = entry.path().filename().string();
        name.ends_with(std::string{jf::segment_extension} + ".tmp")) {
      std::filesystem::remove(entry.path(), ec);
      notes_.push_back(fmt::format("removed '{}': a segment a crash left unnamed", entry.path().string()));
    }
  if (segments.empty())
    return;
  const auto& last = segments.back();
  next_file_ = static_cast<std::uint32_t>(std::stoul(last.filename().string().substr(0, 8))) + 1;
  segment_reader rd{last};
  if (!rd.opened()) {
    if (rd.size() < jf::segment_header_size) {
      // A crash while the segment was being created: nothing of it can be read.
      std::filesystem::remove(last);
      notes_.push_back(
        fmt::format("removed '{}': {} bytes, a segment header cut short by a crash", last.string(), rd.size()));
    } else {
      notes_.push_back(fmt::format("left as it is: {}", rd.last_problem().to_string()));
    }
    return;
  }
  record r;
  for (;;) {
    const auto s = rd.next(r);
    if (s == segment_reader::status::record)
      continue;
    if (s == segment_reader::status::torn_tail) {
      if (::truncate(last.c_str(), static_cast<off_t>(rd.valid_end())) != 0)
        throw journal_error(fmt::format("journal '{}': cannot truncate the torn tail of '{}': {}", cfg_.dir.string(),
                                        last.string(), errno_text()));
      notes_.push_back(fmt::format("truncated a torn tail: {} ({} bytes cut)", rd.last_problem().to_string(),
                                   rd.size() - rd.valid_end()));
    } else if (s == segment_reader::status::corrupt) {
      notes_.push_back(fmt::format("left as it is: {}", rd.last_problem().to_string()));
    }
    return;
  }
}

void journal_writer::open_segment(std::unique_lock<std::mutex>* lock) {
  if (fd_ >= 0) {
    // The fsync thread may be syncing this file: it ends first. The segment's end is synced here.
    if (lock != nullptr)
      sync_cv_.wait(*lock, [&] { return !syncing_; });
    if (cfg_.fsync != fsync_policy::none)
      sync();
    ::close(fd_);
  }
  segment_path_ = cfg_.dir / fmt::format("{:08}{}", next_file_++, jf::segment_extension);
  // Written under a temporary name, then linked to its own: a segment file always has its whole
  // header, so a short header is corruption, never a crash during creation.
  auto tmp = segment_path_;
  tmp += ".tmp";
  auto fail_open = [&](const char* what) {
    const auto err = errno_text();
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
    ::unlink(tmp.c_str());
    return journal_error(
      fmt::format("journal '{}': {} '{}': {}", cfg_.dir.string(), what, segment_path_.string(), err));
  };
  fd_ = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644); // NOLINT: POSIX vararg
  if (fd_ < 0)
    throw fail_open("cannot create");
  segment_header h;
  h.created = cfg_.deterministic ? timestamp{} : utc_now();
  h.run = run_;
  h.index = run_index_++;
  h.types = cfg_.types;
  const auto bytes = encode_header(h);
  if (!write_all(fd_, bytes.data(), bytes.size()))
    throw fail_open("writing the header of");
  if (::link(tmp.c_str(), segment_path_.c_str()) != 0) // fails, rather than replace, if it exists
    throw fail_open("cannot create");
  ::unlink(tmp.c_str());
  if (cfg_.fsync != fsync_policy::none) {
    ::fdatasync(fd_);
    // The new file's name is durable too.
    const int dfd = ::open(cfg_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); // NOLINT: POSIX vararg
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }
  segment_size_ = bytes.size();
  stats_.bytes += bytes.size();
  ++stats_.segments;
}

void journal_writer::fail(const std::string& what) {
  if (error_.empty())
    error_ = fmt::format("journal '{}': {}", cfg_.dir.string(), what);
}

void journal_writer::report_error(std::unique_lock<std::mutex>& lock) {
  // After the lock is released: on_error may call back into the writer (stats(), error()).
  if (error_.empty() || error_reported_)
    return;
  error_reported_ = true;
  auto report = on_error_;
  const auto text = error_;
  lock.unlock();
  if (report)
    report(text);
}

void journal_writer::on_durable(std::function<void(std::uint64_t)> f) {
  std::lock_guard guard{mu_};
  on_durable_ = std::move(f);
}

void journal_writer::on_error(std::function<void(const std::string&)> f) {
  std::lock_guard guard{mu_};
  on_error_ = std::move(f);
}

bool journal_writer::write_range(const std::byte* p, std::size_t n) {
  if (n == 0)
    return true;
  const auto t0 = clock::now();
  const bool ok = write_all(fd_, p, n);
  const auto err = ok ? std::string{} : errno_text();
  busy_ += clock::now() - t0;
  if (!ok) {
    // A write cut short (disk full) leaves part of a record: cut the segment back to its last
    // whole record, so that the journal verifies clean up to there.
    const bool cut = ::ftruncate(fd_, static_cast<off_t>(segment_size_)) == 0;
    fail(fmt::format("writing '{}' failed: {}; the journal ends at its last complete record{}", segment_path_.string(),
                     err, cut ? "" : " (cutting the partial record failed: verify reports a torn tail)"));
    return false;
  }
  segment_size_ += n;
  stats_.bytes += n;
  return true;
}

bool journal_writer::sync() {
  const auto t0 = clock::now();
  const bool ok = ::fdatasync(fd_) == 0;
  const auto err = ok ? std::string{} : errno_text();
  const auto t1 = clock::now();
  busy_ += t1 - t0;
  last_sync_ = t1;
  ++stats_.fsyncs;
  if (!ok)
    fail(fmt::format("fsync of '{}' failed: {}", segment_path_.string(), err));
  return ok;
}

bool journal_writer::write_fill(std::unique_lock<std::mutex>& lock, bool final) {
  if (!error_.empty()) {
    // Nothing more is written after a failure: the journal ends at its last complete record.
    fill_.clear();
    cuts_.clear();
    fill_records_ = 0;
    return false;
  }
  const bool sync_after =
    cfg_.fsync == fsync_policy::every_batch
    || (cfg_.fsync == fsync_policy::interval && (final || clock::now() - last_sync_ >= cfg_.fsync_interval));
  if (fill_.empty() && !(final && sync_after))
    return true;
  std::size_t at = 0;
  bool ok = true;
  for (const auto cut : cuts_) {
    // Records never span segments: the segment ends after the record that reached its size.
    if (!write_range(fill_.data() + at, cut - at)) {
      ok = false;
      break;
    }
    at = cut;
    try {
      open_segment(&lock);
    } catch (const journal_error& ex) {
      fail(ex.what());
      ok = false;
      break;
    }
  }
  ok = ok && write_range(fill_.data() + at, fill_.size() - at);
  if (ok) {
    // The records on disk (a failed write leaves none of its buffer's: it is cut back). fill_
    // held every journaled number below next_seq_ not written before.
    stats_.records += fill_records_;
    written_through_ = next_seq_ - 1;
  }
  if (!fill_.empty()) {
    ++stats_.writes;
    written_since_sync_ = true;
  }
  fill_.clear();
  cuts_.clear();
  fill_records_ = 0;
  if (ok && sync_after) {
    if (final) {
      // The fsync thread has ended (close()).
      ok = sync();
    } else {
      want_sync_ = true;
      sync_cv_.notify_all();
    }
  }
  return ok;
}

void journal_writer::write_if_full(std::unique_lock<std::mutex>& lock) {
  if (fill_.size() >= buffer_bytes)
    write_fill(lock, false);
}

void journal_writer::sync_loop() {
  std::unique_lock lock{mu_};
  for (;;) {
    sync_cv_.wait(lock, [&] { return want_sync_ || stopping_; });
    if (stopping_)
      return;
    want_sync_ = false;
    if (!error_.empty())
      continue;
    // Every number up to written_through_ is written (in this segment, or an earlier one synced
    // at its end), or was not journaled; later ones may wait in fill_.
    const auto through = written_through_;
    written_since_sync_ = false;
    syncing_ = true;
    const int fd = fd_; // stays open: a segment's end waits for !syncing_
    lock.unlock();
    const auto t0 = clock::now();
    const bool ok = ::fdatasync(fd) == 0;
    const auto err = ok ? std::string{} : errno_text();
    const auto t1 = clock::now();
    lock.lock();
    syncing_ = false;
    sync_cv_.notify_all();
    busy_ += t1 - t0;
    last_sync_ = t1;
    ++stats_.fsyncs;
    if (!ok) {
      fail(fmt::format("fsync of '{}' failed: {}", segment_path_.string(), err));
      if (!error_reported_) {
        report_error(lock);
        lock.lock();
      }
      continue;
    }
    if (cfg_.fsync == fsync_policy::every_batch && on_durable_) {
      // Nothing written meanwhile, or nothing waiting: what arrived was not journaled, and is
      // safe too.
      const auto safe = !written_since_sync_ && fill_.empty() ? next_seq_ - 1 : through;
      auto f = on_durable_;
      lock.unlock();
      f(safe);
      lock.lock();
    }
  }
}

void journal_writer::append(const event& e) { append(std::span{&e, 1}); }

void journal_writer::append(std::span<const event> events) {
  std::unique_lock lock{mu_};
  for (const auto& e : events) {
    write_record(e);
    write_if_full(lock);
  }
  report_error(lock);
}

void journal_writer::expect_from(std::uint64_t seq) {
  std::lock_guard guard{mu_};
  next_seq_ = seq;
}

void journal_writer::append_in_order(const event& e) {
  std::unique_lock lock{mu_};
  admit(e);
  write_if_full(lock);
  report_error(lock);
}

std::uint64_t journal_writer::append_delivery(delivery& d) {
  // One lock for the whole delivery.
  std::unique_lock lock{mu_};
  std::uint64_t oldest = std::numeric_limits<std::uint64_t>::max();
  d.consume([&](const event& e) {
    oldest = std::min(oldest, e.sequence());
    admit(e);
    write_if_full(lock);
  });
  report_error(lock);
  return oldest;
}

void journal_writer::admit(const event& e) {
  if (e.sequence() < next_seq_) {
    // Admitted before the subscription was complete (or after a number given up on): its turn
    // has passed, so it goes now.
    if ((cfg_.types & type_bit(e.type())) != 0)
      write_record(e);
    return;
  }
  if (e.sequence() == next_seq_ && held_.empty()) {
    // In order (the common case): written at once, no copy held.
    if ((cfg_.types & type_bit(e.type())) != 0)
      write_record(e);
    ++next_seq_;
    return;
  }
  held_.push(e);
  stats_.max_held = std::max<std::uint64_t>(stats_.max_held, held_.size());
  release_held(false);
}

void journal_writer::release_held(bool all) {
  while (!held_.empty()) {
    const auto seq = held_.top().sequence();
    // A number that never comes (dropped by a stop that timed out) is given up on at close, or
    // when the held events pass max_held: then the next one goes.
    if (seq != next_seq_ && !all && held_.size() < max_held)
      return;
    if ((cfg_.types & type_bit(held_.top().type())) != 0)
      write_record(held_.top());
    next_seq_ = seq + 1;
    held_.pop();
  }
}

void journal_writer::write_record(const event& e) {
  if (closed_ || !error_.empty())
    return;
  const auto before = fill_.size();
  encode_record(e, fill_);
  ++fill_records_;
  encoded_segment_ += fill_.size() - before;
  if (encoded_segment_ >= cfg_.segment_bytes) {
    // Records never span segments: this segment ends after the record that reached its size.
    cuts_.push_back(fill_.size());
    encoded_segment_ = jf::segment_header_size;
  }
}

bool journal_writer::flush(std::uint64_t lag) {
  std::unique_lock lock{mu_};
  stats_.max_lag_events = std::max(stats_.max_lag_events, lag);
  if (fill_.empty() && !written_since_sync_ && !want_sync_ && !syncing_ && error_.empty() && on_durable_
      && cfg_.fsync == fsync_policy::every_batch) {
    // Nothing buffered, and every buffer written is synced: the batch was of types not journaled.
    const auto through = next_seq_ - 1;
    lock.unlock();
    on_durable_(through);
    return true;
  }
  return error_.empty();
}

bool journal_writer::pending() const {
  std::lock_guard guard{mu_};
  return !fill_.empty() && error_.empty() && !closed_;
}

bool journal_writer::write_pending() {
  std::unique_lock lock{mu_};
  if (closed_)
    return error_.empty();
  write_fill(lock, false);
  const bool ok = error_.empty();
  report_error(lock);
  return ok;
}

bool journal_writer::close() {
  std::unique_lock lock{mu_};
  if (closed_)
    return error_.empty();
  release_held(true);
  closed_ = true;
  stopping_ = true;
  sync_cv_.notify_all();
  if (sync_thread_.joinable()) {
    lock.unlock();
    sync_thread_.join();
    lock.lock();
  }
  write_fill(lock, true);
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
  const bool ok = error_.empty();
  report_error(lock);
  return ok;
}

journal_stats journal_writer::stats() const {
  std::lock_guard guard{mu_};
  auto s = stats_;
  s.busy_s = std::chrono::duration<double>(busy_).count();
  s.open_s = std::chrono::duration<double>(clock::now() - opened_).count();
  return s;
}

std::string journal_writer::error() const {
  std::lock_guard guard{mu_};
  return error_;
}

namespace {

using linger_atom = caf::atom_constant<caf::atom("jlinger")>;

caf::behavior journal_actor(caf::event_based_actor* self, std::shared_ptr<journal_writer> w, bus* b) {
  // One linger timer at a time: set by the first batch left in the buffer, and again after it
  // fires while records wait (a full buffer is written at once, in append_delivery). Not in
  // deterministic mode, where a timer would move virtual time: the runner's driver writes what
  // waits (write_pending) between its steps.
  auto timer_set = std::make_shared<bool>(w->config().deterministic);
  auto arm = [self, w, timer_set] {
    if (!*timer_set && w->pending()) {
      *timer_set = true;
      self->delayed_send(self, journal_writer::linger, linger_atom::value);
    }
  };
  return {[w, b, arm](delivery& d) {
            const auto oldest = w->append_delivery(d);
            const auto admitted = b->published();
            const auto lag = oldest <= admitted ? admitted - oldest : 0;
            w->flush(lag); // a failure is reported by on_error
            arm();
          },
          [w, timer_set](linger_atom) {
            *timer_set = false;
            w->write_pending();
          }};
}

} // namespace

caf::actor spawn_journal(caf::actor_system& sys, bus& b, std::shared_ptr<journal_writer> w,
                         std::function<void(const std::string&)> on_error, bool write_ahead) {
  auto* writer = w.get();
  writer->on_error(std::move(on_error));
  write_ahead = write_ahead && writer->config().fsync == fsync_policy::every_batch;
  // Scheduled, not detached: write(2) to the page cache takes about the time encoding the buffer
  // did, fsync runs on the writer's own thread, and a detached actor costs a thread wake-up per
  // delivery when it sleeps (bench/README.md, the journal).
  auto a = sys.spawn(journal_actor, std::move(w), &b);
  // Every type, whatever the journal keeps: admission order needs every sequence number.
  for (auto t : all_event_types)
    b.subscribe(t, a);
  writer->expect_from(b.published() + 1);
  if (write_ahead)
    writer->on_durable(b.write_ahead(a));
  return a;
}

} // namespace libra::journal
