// libra-bench-journal: what journaling costs. (1) The journal writer's MB/s (encode, checksum,
// write(2) of whole buffers on the same thread) beside a plain sequential write(2) of
// the same bytes in the same chunks (the disk's limit), interleaved trial by trial, and the
// encoder alone (the writer's floor on one thread). (2) Bus throughput, one publisher
// and one counting subscriber, with the journal subscribed (fsync none, every_batch) beside the same bus without it,
// and beside it with a second counting subscriber instead (what any second subscriber costs).
#include "common.hpp"

#include <journal/reader.hpp>
#include <journal/writer.hpp>

#include <libra/system_config.hpp>

#include <CLI/CLI.hpp>
#include <caf/actor_system_config.hpp>
#include <fcntl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <span>

namespace {

using namespace libra;
using namespace libra::bench;

struct options {
  std::size_t events = 1'000'000;
  std::size_t trials = 5;
  std::size_t batch = 8;
  std::size_t sync_events = 20'000; // every_batch fsyncs each batch: ms each, so fewer events
  bool quick = false;
  std::string json;
  std::string dir;
  bool writer_only = false; // for a profiler: the writer trials alone
};

std::filesystem::path fresh_dir(const std::filesystem::path& base, const std::string& name) {
  auto d = base / name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

/// The writer trial's events: count of them, cycling through a working set that stays in cache,
/// as events fresh from the bus are (a walk through a million events built up front would time
/// the memory's latency, not the writer: each is a separate allocation).
inline constexpr std::size_t working_set = 4096;
const event& nth(const std::vector<event>& events, std::size_t i) {
  return events[i % std::min(events.size(), working_set)];
}

/// Seconds to journal `count` events with the writer (append, flush every batch), fsync none.
double writer_trial(const std::filesystem::path& dir, const std::vector<event>& events, std::size_t count,
                    std::size_t batch, std::uint64_t& bytes) {
  journal::journal_config cfg;
  cfg.dir = dir;
  cfg.segment_bytes = std::uint64_t{16} << 30; // one segment: the baseline writes one file
  const auto t0 = bench_clock::now();
  {
    journal::journal_writer w{cfg};
    // A batch under one lock, then flush: what the journal's subscriber does per delivery. The
    // batches are slices of the working set (cut at its end).
    const std::size_t set = std::min(events.size(), working_set);
    for (std::size_t i = 0; i < count;) {
      const auto at = i % set;
      const auto n = std::min({batch, count - i, set - at});
      w.append(std::span{events}.subspan(at, n));
      i += n;
      if (!w.flush())
        throw bench_failure(w.error());
    }
    if (!w.close())
      throw bench_failure(w.error());
    bytes = w.stats().bytes;
  }
  return seconds_between(t0, bench_clock::now());
}

/// Seconds to encode `count` events into a buffer of the writer's size (cleared when full), with
/// no lock, thread or I/O: the encoder's share of the writer's time.
double encode_trial(const std::vector<event>& events, std::size_t count) {
  journal::byte_buffer buf; // the writer's own buffer type
  buf.reserve(journal::journal_writer::buffer_bytes + 4096);
  const auto t0 = bench_clock::now();
  for (std::size_t i = 0; i < count; ++i) {
    journal::encode_record(nth(events, i), buf);
    if (buf.size() >= journal::journal_writer::buffer_bytes)
      buf.clear();
  }
  return seconds_between(t0, bench_clock::now());
}

/// Seconds to write the same bytes with write(2), in the same chunks.
double plain_trial(const std::filesystem::path& file, const std::vector<std::byte>& bytes,
                   const std::vector<std::size_t>& chunks) {
  const auto t0 = bench_clock::now();
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644); // NOLINT
  if (fd < 0)
    throw bench_failure("cannot create " + file.string());
  std::size_t at = 0;
  for (auto n : chunks) {
    if (::write(fd, bytes.data() + at, n) != static_cast<ssize_t>(n))
      throw bench_failure("write failed");
    at += n;
  }
  ::close(fd);
  return seconds_between(t0, bench_clock::now());
}

/// events/s through a bus with one counting subscriber, and the journal when dir is given, or a
/// second counting subscriber (the control: what any second subscriber costs) when second.
double bus_trial(caf::actor_system& sys, const std::vector<event>& events, const std::filesystem::path* dir,
                 journal::fsync_policy policy, bool second = false) {
  bus b{sys};
  completion done{events.size()};
  b.subscribe(event_type::tick, [&done](const event&) { done.count(); });
  std::uint64_t second_count = 0;
  if (second)
    b.subscribe(event_type::tick, [&second_count](const event&) { ++second_count; });
  std::shared_ptr<journal::journal_writer> w;
  caf::actor jactor;
  if (dir != nullptr) {
    journal::journal_config cfg;
    cfg.dir = *dir;
    cfg.fsync = policy;
    w = std::make_shared<journal::journal_writer>(cfg);
    jactor = journal::spawn_journal(sys, b, w, [](const std::string&) {}); // close() reports it
  }
  b.start();
  auto pub = b.make_publisher();
  const auto t0 = bench_clock::now();
  for (const auto& e : events)
    while (!pub.publish(e))
      std::this_thread::yield();
  auto fut = done.done.get_future();
  if (fut.wait_for(std::chrono::seconds{120}) != std::future_status::ready)
    throw bench_failure("bus trial hung");
  // The journal must have every event too: wait for the bus to be idle.
  if (!b.wait_idle(std::chrono::seconds{120}))
    throw bench_failure("bus never idle");
  const auto t1 = bench_clock::now();
  b.stop();
  if (second && second_count != events.size())
    throw bench_failure(fmt::format("the second subscriber counted {} of {}", second_count, events.size()));
  if (w) {
    if (!w->close())
      throw bench_failure(w->error());
    if (w->stats().records != events.size())
      throw bench_failure(fmt::format("journal has {} records of {}", w->stats().records, events.size()));
    caf::anon_send_exit(jactor, caf::exit_reason::user_shutdown);
  }
  return static_cast<double>(events.size()) / seconds_between(t0, t1);
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  CLI::App app{"libra-bench-journal: journal MB/s beside write(2); bus throughput with and without the journal"};
  app.add_option("--events", opt.events, "events per trial")->check(CLI::PositiveNumber);
  app.add_option("--trials", opt.trials, "trials (interleaved)")->check(CLI::PositiveNumber);
  app.add_option("--batch", opt.batch, "events per write batch (the credit window's batch)")
    ->check(CLI::PositiveNumber);
  app.add_option("--sync-events", opt.sync_events, "events per trial with fsync every_batch")
    ->check(CLI::PositiveNumber);
  app.add_option("--dir", opt.dir, "where to write (default: a temporary directory)");
  app.add_flag("--writer-only", opt.writer_only, "run the writer trials alone (to profile them)");
  const bench_cli cli{app, opt.quick, opt.json, "20k events, 2 trials"};
  CLI11_PARSE(app, argc, argv);
  cli.quick("--events", opt.events, 20'000)
    .quick("--trials", opt.trials, 2)
    .quick("--sync-events", opt.sync_events, 2'000);
  spdlog::set_level(spdlog::level::warn);
  std::filesystem::path base =
    opt.dir.empty() ? std::filesystem::temp_directory_path() / "libra-bench-journal" : std::filesystem::path{opt.dir};
  std::filesystem::create_directories(base);
  const auto env = probe_environment();
  const auto events = make_ticks(opt.events);
  const std::vector<event> sync_events{
    events.begin(), events.begin() + static_cast<std::ptrdiff_t>(std::min(opt.sync_events, events.size()))};

  caf::actor_system_config cfg;
  configure_system(cfg, 2);
  caf::actor_system sys{cfg};

  std::vector<double> writer_mbs;
  std::vector<double> encode_mbs;
  std::vector<double> plain_mbs;
  std::vector<double> bus_plain;
  std::vector<double> bus_two;
  std::vector<double> bus_none;
  std::vector<double> bus_batch;
  try {
    // The bytes the writer produces, chunked as it writes them: the baseline writes exactly these.
    std::vector<std::byte> bytes;
    std::vector<std::size_t> chunks;
    {
      const auto h = journal::encode_header({});
      bytes.assign(h.begin(), h.end());
      chunks.push_back(h.size());
      // The writer writes whole buffers (journal_writer::buffer_bytes, cut at a record):
      // the baseline writes the same chunks.
      std::size_t chunk = 0;
      for (std::size_t i = 0; !opt.writer_only && i < events.size(); ++i) {
        const auto before = bytes.size();
        journal::encode_record(nth(events, i), bytes);
        chunk += bytes.size() - before;
        if (chunk >= journal::journal_writer::buffer_bytes) {
          chunks.push_back(chunk);
          chunk = 0;
        }
      }
      if (chunk > 0)
        chunks.push_back(chunk);
    }
    for (std::size_t t = 0; t < opt.trials; ++t) {
      std::uint64_t written = 0;
      const auto tw = writer_trial(fresh_dir(base, "writer"), events, events.size(), opt.batch, written);
      if (opt.writer_only) {
        writer_mbs.push_back(static_cast<double>(written) / 1e6 / tw);
        continue;
      }
      if (written != bytes.size())
        throw bench_failure(fmt::format("writer wrote {} bytes, expected {}", written, bytes.size()));
      const auto tp = plain_trial(fresh_dir(base, "plain") / "plain.bin", bytes, chunks);
      writer_mbs.push_back(static_cast<double>(bytes.size()) / 1e6 / tw);
      encode_mbs.push_back(static_cast<double>(bytes.size()) / 1e6 / encode_trial(events, events.size()));
      plain_mbs.push_back(static_cast<double>(bytes.size()) / 1e6 / tp);
      const auto d1 = fresh_dir(base, "bus-none");
      const auto d2 = fresh_dir(base, "bus-batch");
      bus_plain.push_back(bus_trial(sys, events, nullptr, journal::fsync_policy::none));
      bus_two.push_back(bus_trial(sys, events, nullptr, journal::fsync_policy::none, true));
      bus_none.push_back(bus_trial(sys, events, &d1, journal::fsync_policy::none));
      bus_batch.push_back(bus_trial(sys, sync_events, &d2, journal::fsync_policy::every_batch));
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "libra-bench-journal: FAILED: {}\n", e.what());
    return 2;
  }
  std::filesystem::remove_all(base);
  if (opt.writer_only) {
    fmt::print("journal writer MB/s: {:.1f}\n", spread_of(writer_mbs).median);
    return 0;
  }

  print_header("libra-bench-journal", env);
  const auto w_spread = spread_of(writer_mbs);
  const auto enc = spread_of(encode_mbs);
  const auto p = spread_of(plain_mbs);
  const auto bp = spread_of(bus_plain);
  const auto b2 = spread_of(bus_two);
  const auto bn = spread_of(bus_none);
  const auto bb = spread_of(bus_batch);
  fmt::print("{} TICK events per trial ({} with fsync every_batch), {} trials interleaved, write batch {} events "
             "(flush calls; the writer writes {} KiB buffers, as write(2) does), bus W:k {}:{} (the defaults) with "
             "one counting subscriber; fsync none unless said.\n\n",
             opt.events, sync_events.size(), opt.trials, opt.batch, journal::journal_writer::buffer_bytes / 1024,
             bus_config{}.credit_window, bus_config{}.batch_size);
  fmt::print("| what | median | min | max | ratio |\n|---|---|---|---|---|\n");
  fmt::print("| journal writer, MB/s | {:.1f} | {:.1f} | {:.1f} | {:.2f} of write(2) |\n", w_spread.median,
             w_spread.min, w_spread.max, w_spread.median / p.median);
  fmt::print("| encoder alone (no lock, thread or I/O), MB/s | {:.1f} | {:.1f} | {:.1f} | {:.2f} of write(2) |\n",
             enc.median, enc.min, enc.max, enc.median / p.median);
  fmt::print("| plain write(2) of the same bytes, MB/s | {:.1f} | {:.1f} | {:.1f} | 1 |\n", p.median, p.min, p.max);
  fmt::print("| bus, no journal, events/s | {:.0f} | {:.0f} | {:.0f} | 1 |\n", bp.median, bp.min, bp.max);
  fmt::print("| bus + a second counting subscriber (control), events/s | {:.0f} | {:.0f} | {:.0f} | {:.2f} |\n",
             b2.median, b2.min, b2.max, b2.median / bp.median);
  fmt::print("| bus + journal (fsync none), events/s | {:.0f} | {:.0f} | {:.0f} | {:.2f} ({:.2f} of the control) |\n",
             bn.median, bn.min, bn.max, bn.median / bp.median, bn.median / b2.median);
  fmt::print("| bus + journal (fsync every_batch), events/s | {:.0f} | {:.0f} | {:.0f} | {:.2f} |\n", bb.median, bb.min,
             bb.max, bb.median / bp.median);
  if (!opt.json.empty()) {
    std::string out;
    json_writer w{out};
    begin_results(w, "journal", env);
    w.field("events", opt.events)
      .field("trials", opt.trials)
      .field("batch", opt.batch)
      .field("writer_mb_s", w_spread.median)
      .field("encoder_mb_s", enc.median)
      .field("write2_mb_s", p.median)
      .field("writer_ratio", w_spread.median / p.median)
      .field("encoder_ratio", enc.median / p.median)
      .field("bus_events_s", bp.median)
      .field("bus_two_subscribers_events_s", b2.median)
      .field("bus_journal_none_events_s", bn.median)
      .field("bus_journal_every_batch_events_s", bb.median)
      .field("ratio_none", bn.median / bp.median)
      .field("ratio_every_batch", bb.median / bp.median)
      .end();
    write_file(opt.json, out + "\n");
    fmt::print("\nJSON: {}\n", opt.json);
  }
  return 0;
}
