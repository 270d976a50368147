// What every libra benchmark shares: the run's environment, statistics over samples, the raw CAF
// baseline (publisher -> forwarding actor -> sink, one event per message), events, JSON output.
//
// Conventions (this machine is shared; its speed drifts 3-7x minute to minute):
// - every figure is measured beside a baseline in the same process, interleaved trial by trial,
//   and reported as a ratio;
// - latencies are kept as raw samples (nanoseconds) and reduced to percentiles here;
// - a benchmark that sees lost, duplicated or late-forever events throws bench_failure and exits 2.
#pragma once

#include "commit.hpp"

#include <libra/actor_registry.hpp>
#include <libra/bus.hpp>
#include <libra/json.hpp>

#include <CLI/CLI.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <fstream>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

// The baseline sends libra::event in a CAF message of its own; it never leaves the process.
// libra/actor_registry.hpp allows that (CAF_ALLOW_UNSAFE_MESSAGE_TYPE may appear only once, and
// libra-bench-net reaches that header through the runtime's topology.hpp).

namespace libra::bench {

/// The options every benchmark has: --quick (a CI smoke run: smaller figures for the options not
/// given on the command line) and --json FILE.
class bench_cli {
public:
  bench_cli(CLI::App& app, bool& quick, std::string& json, const std::string& quick_means) : app_{app}, quick_{quick} {
    app.add_flag("--quick", quick, "CI smoke run: " + quick_means + " (unless given)");
    app.add_option("--json", json, "also write the results to this JSON file");
  }
  /// After parsing: in a --quick run, `target` becomes `value` unless `option` was given.
  template <class T, class V>
  const bench_cli& quick(const char* option, T& target, V value) const {
    if (quick_ && app_.count(option) == 0)
      target = T(value);
    return *this;
  }

private:
  CLI::App& app_;
  bool& quick_;
};

using bench_clock = std::chrono::steady_clock;

/// A benchmark did not complete as it must (hang, lost or duplicated events, wrong counters).
class bench_failure : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

inline double seconds_between(bench_clock::time_point a, bench_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

inline std::int64_t ns_between(bench_clock::time_point a, bench_clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
}

// -- statistics ---------------------------------------------------------------------------------

struct spread {
  double median = 0;
  double min = 0;
  double max = 0;
};

inline spread spread_of(std::vector<double> xs) {
  if (xs.empty())
    return {};
  std::sort(xs.begin(), xs.end());
  const auto m = xs.size() / 2;
  const double median = xs.size() % 2 == 1 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
  return {median, xs.front(), xs.back()};
}

/// Percentiles of raw samples (nearest rank). Sorts its copy.
struct percentiles {
  std::size_t count = 0;
  double p50 = 0;
  double p90 = 0;
  double p99 = 0;
  double p999 = 0;
  double max = 0;
};

template <class T>
percentiles percentiles_of(std::vector<T> xs) {
  percentiles p;
  p.count = xs.size();
  if (xs.empty())
    return p;
  std::sort(xs.begin(), xs.end());
  auto at = [&](double q) {
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(xs.size())));
    return static_cast<double>(xs[std::min(xs.size() - 1, rank == 0 ? 0 : rank - 1)]);
  };
  p.p50 = at(0.50);
  p.p90 = at(0.90);
  p.p99 = at(0.99);
  p.p999 = at(0.999);
  p.max = static_cast<double>(xs.back());
  return p;
}

/// Nanoseconds as microseconds with one decimal, for tables.
inline std::string us(double ns) { return fmt::format("{:.1f}", ns / 1e3); }

/// s as a JSON object (median, min, max).
inline void write_spread(json_writer& w, const spread& s) {
  w.begin_object().field("median", s.median).field("min", s.min).field("max", s.max).end();
}

/// p as a JSON object (count, p50_ns ... max_ns).
inline void write_percentiles(json_writer& w, const percentiles& p) {
  w.begin_object()
    .field("count", p.count)
    .field("p50_ns", p.p50)
    .field("p90_ns", p.p90)
    .field("p99_ns", p.p99)
    .field("p999_ns", p.p999)
    .field("max_ns", p.max)
    .end();
}

// -- environment --------------------------------------------------------------------------------

struct environment {
  std::string commit;
  std::string host;
  std::string cpu;
  std::string compiler;
  std::string date;
  unsigned hardware_threads = std::thread::hardware_concurrency();
};

inline environment probe_environment() {
  environment env;
  env.commit = build_commit();
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) == 0)
    env.host = host.data();
  std::ifstream cpuinfo{"/proc/cpuinfo"};
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      env.cpu = colon == std::string::npos ? line : line.substr(line.find_first_not_of(' ', colon + 1));
      break;
    }
  }
#if defined(__clang__)
  env.compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
  env.compiler = "gcc " __VERSION__;
#endif
  const auto now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  std::array<char, 32> buf{};
  std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &utc);
  env.date = buf.data();
  return env;
}

/// Opens a benchmark's results object: {"benchmark": name, then where it ran (close it with end()).
inline void begin_results(json_writer& w, std::string_view name, const environment& env) {
  w.begin_object()
    .field("benchmark", name)
    .field("commit", env.commit)
    .field("host", env.host)
    .field("cpu", env.cpu)
    .field("hardware_threads", env.hardware_threads)
    .field("compiler", env.compiler)
    .field("date", env.date);
}

inline void print_header(const std::string& name, const environment& env) {
  fmt::print("## {}\n\ncommit {} | cpu {} ({} hw threads) | {} | {}\n\n", name, env.commit, env.cpu,
             env.hardware_threads, env.compiler, env.date);
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream f{path};
  f << text;
  if (!f)
    throw std::runtime_error(fmt::format("cannot write {}", path));
}

/// Resident set size of this process, bytes (/proc/self/statm).
inline std::size_t rss_bytes() {
  std::ifstream statm{"/proc/self/statm"};
  std::size_t pages = 0;
  std::size_t resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// -- events -------------------------------------------------------------------------------------

/// A MARKET_DATA tick (128 bytes like every event), varied a little so nothing is constant-folded.
inline event make_tick(std::size_t i) {
  const instrument_id eurusd{"EUR/USD"};
  const auto px = price::from_raw(1'121'200'000 + static_cast<std::int64_t>(i % 50) * 1000);
  const auto size = quantity::from_double(1e6);
  return event::create(event_type::tick, "gateway.bench",
                       tick{eurusd, px, px + price::from_raw(20'000), size, size, {}, {}});
}

inline std::vector<event> make_ticks(std::size_t n) {
  std::vector<event> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(make_tick(i));
  return out;
}

/// Spins for about `d` (a handler's work); the clock read is part of the work.
inline void spin_for(std::chrono::nanoseconds d) {
  const auto until = bench_clock::now() + d;
  while (bench_clock::now() < until) {
  }
}

// -- completion: the N-th handled event ---------------------------------------------------------

/// Counts events on one actor; fulfils `done` with the time the target was reached.
struct completion {
  explicit completion(std::uint64_t n) : target{n} {}
  void count() {
    // Single writer (the counting actor); atomic only so a timed-out main thread may read it.
    const auto n = seen.load(std::memory_order_relaxed) + 1;
    seen.store(n, std::memory_order_relaxed);
    if (n == target)
      done.set_value(bench_clock::now());
  }
  const std::uint64_t target;
  std::atomic<std::uint64_t> seen{0};
  std::promise<bench_clock::time_point> done;
};

// -- the raw CAF baseline: publisher -> forwarder -> sink, plain send ---------------------------

/// The sink calls on_event for each event it receives, in order.
template <class F>
caf::behavior raw_sink(caf::event_based_actor* /*self*/, F on_event) {
  return {[on_event](const event& e) mutable { on_event(e); }};
}

/// Forwards each event to the sink; urgent events (RISK) as high-priority messages when
/// `urgent_risk`, otherwise everything in the normal category (FIFO).
inline caf::behavior raw_forwarder(caf::event_based_actor* self, caf::actor sink, bool urgent_risk) {
  return {[self, sink, urgent_risk](event& e) {
    if (urgent_risk && e.priority() == priority::risk)
      self->send<caf::message_priority::high>(sink, std::move(e));
    else
      self->send(sink, std::move(e));
  }};
}

/// Counters of a bus that must hold after a clean run of n events, one subscriber.
inline void check_exact(const bus& b, std::uint64_t n, std::uint64_t handled, std::uint64_t retries,
                        const std::string& what) {
  const auto s = b.stats();
  if (handled != n || s.published != n || s.dispatched != n || s.pending != 0 || s.rejected_full != retries
      || s.rejected_closed != 0 || s.dropped != 0 || s.errors != 0)
    throw bench_failure(fmt::format("{}: wrong counts after {} events: handled={} retries={} published={} "
                                    "dispatched={} pending={} rejected_full={} dropped={} errors={}",
                                    what, n, handled, retries, s.published, s.dispatched, s.pending, s.rejected_full,
                                    s.dropped, s.errors));
}

} // namespace libra::bench
