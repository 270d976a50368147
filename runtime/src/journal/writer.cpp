#include "writer.hpp"

#include "reader.hpp"

#include <libra/delivery.hpp>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/spawn_options.hpp>
#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <sys/file.h>
#include <unistd.h>

namespace libra::journal {

namespace jf = journal_format;
using clock = std::chrono::steady_clock;

namespace {

/// Flush the buffer past this many bytes even inside a delivery (order books can be large).
constexpr std::size_t max_buffer = std::size_t{1} << 20;

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

journal_writer::journal_writer(journal_config cfg) : cfg_{std::move(cfg)}, run_{random_run_id()} {
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

void journal_writer::open_segment() {
  if (fd_ >= 0) {
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
  h.created = utc_now();
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

bool journal_writer::write_buffer() {
  if (buf_.empty())
    return true;
  const auto t0 = clock::now();
  const bool ok = write_all(fd_, buf_.data(), buf_.size());
  busy_ += clock::now() - t0;
  if (!ok) {
    fail(fmt::format("writing '{}' failed: {}", segment_path_.string(), errno_text()));
    return false;
  }
  segment_size_ += buf_.size();
  stats_.bytes += buf_.size();
  buf_.clear();
  return true;
}

bool journal_writer::sync() {
  const auto t0 = clock::now();
  const bool ok = ::fdatasync(fd_) == 0;
  const auto t1 = clock::now();
  busy_ += t1 - t0;
  last_sync_ = t1;
  ++stats_.fsyncs;
  if (!ok)
    fail(fmt::format("fsync of '{}' failed: {}", segment_path_.string(), errno_text()));
  return ok;
}

void journal_writer::append(const event& e) {
  std::lock_guard guard{mu_};
  write_record(e);
}

void journal_writer::expect_from(std::uint64_t seq) {
  std::lock_guard guard{mu_};
  next_seq_ = seq;
}

void journal_writer::append_in_order(const event& e) {
  std::lock_guard guard{mu_};
  if (e.sequence() < next_seq_) {
    // Admitted before the subscription was complete (or after a number given up on): its turn
    // has passed, so it goes now.
    if ((cfg_.types & type_bit(e.type())) != 0)
      write_record(e);
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
  encode_record(e, buf_);
  ++stats_.records;
  if (segment_size_ + buf_.size() >= cfg_.segment_bytes) {
    // Records never span segments: this segment ends after the record that reached its size.
    if (!write_buffer())
      return;
    try {
      open_segment();
    } catch (const journal_error& ex) {
      fail(ex.what());
    }
  } else if (buf_.size() >= max_buffer) {
    write_buffer();
  }
}

bool journal_writer::flush(std::uint64_t lag) {
  std::lock_guard guard{mu_};
  if (closed_ || !error_.empty())
    return error_.empty();
  stats_.max_lag_events = std::max(stats_.max_lag_events, lag);
  if (!write_buffer())
    return false;
  if (cfg_.fsync == fsync_policy::every_batch
      || (cfg_.fsync == fsync_policy::interval && clock::now() - last_sync_ >= cfg_.fsync_interval))
    return sync();
  return true;
}

bool journal_writer::close() {
  std::lock_guard guard{mu_};
  if (closed_)
    return error_.empty();
  release_held(true);
  closed_ = true;
  if (error_.empty() && write_buffer() && cfg_.fsync != fsync_policy::none)
    sync();
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
  return error_.empty();
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

caf::behavior journal_actor(caf::event_based_actor* /*self*/, std::shared_ptr<journal_writer> w, bus* b,
                            std::function<void(const std::string&)> on_error) {
  auto reported = std::make_shared<bool>(false);
  return {[w, b, on_error, reported](delivery& d) {
    std::uint64_t oldest = std::numeric_limits<std::uint64_t>::max();
    d.consume([&](const event& e) {
      w->append_in_order(e);
      oldest = std::min(oldest, e.sequence());
    });
    const auto admitted = b->published();
    const auto lag = oldest <= admitted ? admitted - oldest : 0;
    if (!w->flush(lag) && !*reported) {
      *reported = true;
      on_error(w->error());
    }
  }};
}

} // namespace

caf::actor spawn_journal(caf::actor_system& sys, bus& b, std::shared_ptr<journal_writer> w,
                         std::function<void(const std::string&)> on_error) {
  auto* writer = w.get();
  auto a = sys.spawn<caf::detached>(journal_actor, std::move(w), &b, std::move(on_error));
  // Every type, whatever the journal keeps: admission order needs every sequence number.
  for (auto t : all_event_types)
    b.subscribe(t, a);
  writer->expect_from(b.published() + 1);
  return a;
}

} // namespace libra::journal
