// libra-bench-throughput: events per second from one publisher thread to one subscriber's handler,
// through the bus, relative to a plain CAF forwarding actor measured in the same process.
//
// One caf::actor_system configured by libra::configure_system(cfg, 2); variants run interleaved,
// trial by trial (A, B, C, ..., A, B, C, ...), because this machine's speed drifts:
//   A  raw CAF: a std::thread anon_sends N events, one per message, to a forwarding actor that
//      sends each on to a counting sink actor. No flow control: the forwarder's mailbox may grow.
//   B  bus publish(): a fresh bus per trial, one callback subscriber counting ticks, one publisher
//      (bus::make_publisher) calling publish() N times, retrying (yield) while the bus is full.
//   C  bus publish_many() in chunks of --chunk (64), otherwise as B.
// B and C run once per (W, k) in --combos. Timed: first send/publish -> the counting actor saw
// the N-th event (the end time is taken there). Events are created before the clock starts; each
// send/publish copies one (128 bytes). Ratios are per trial (same round), then the median.
#include <libra/bus.hpp>
#include <libra/system_config.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <future>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

// libra::event has no inspect(): it never leaves the process, and only the baseline sends it in a
// CAF message of its own (the bus wraps events in libra::delivery).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(libra::event)

namespace {

using bench_clock = std::chrono::steady_clock;

struct options {
  std::size_t events = 1'000'000;
  std::size_t trials = 5;
  bool quick = false;
  std::string json;
  std::vector<std::string> combos{"16:8", "64:32"};
  std::size_t chunk = 64;
  double timeout_s = 30;
};

enum class method { raw_caf, publish, publish_many };

struct variant {
  std::string name;
  method how = method::raw_caf;
  std::uint32_t window = 0; // W (bus variants only)
  std::uint32_t batch = 0;  // k (bus variants only)
};

struct trial {
  double seconds = 0;         // first send -> N-th event counted
  double publish_seconds = 0; // first send -> publisher thread done
  std::uint64_t retries = 0;  // publish/publish_many calls refused (bus full)
};

/// A variant did not complete as it must (hang, lost or duplicated events, wrong counters).
class bench_failure : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

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

double seconds_between(bench_clock::time_point a, bench_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::vector<libra::event> make_events(std::size_t n) {
  std::vector<libra::event> out;
  out.reserve(n);
  const libra::instrument_id eurusd{"EUR/USD"};
  for (std::size_t i = 0; i < n; ++i) {
    const auto px = libra::price::from_raw(1'121'200'000 + static_cast<std::int64_t>(i % 50) * 1000);
    const auto size = libra::quantity::from_double(1e6);
    out.push_back(
      libra::event::create(libra::event_type::tick, "gateway.bench",
                           libra::tick{eurusd, px, px + libra::price::from_raw(20'000), size, size, {}, {}}));
  }
  return out;
}

// -- A: raw CAF ---------------------------------------------------------------------------------

caf::behavior raw_sink(caf::event_based_actor* /*self*/, std::shared_ptr<completion> c) {
  return {[c](const libra::event&) { c->count(); }};
}

caf::behavior raw_forwarder(caf::event_based_actor* self, caf::actor sink) {
  return {[self, sink](libra::event& e) { self->send(sink, std::move(e)); }};
}

trial run_raw(caf::actor_system& sys, std::span<const libra::event> events, const options& opt) {
  auto done = std::make_shared<completion>(events.size());
  auto finished = done->done.get_future();
  auto sink = sys.spawn(raw_sink, done);
  auto forwarder = sys.spawn(raw_forwarder, sink);
  bench_clock::time_point t0;
  bench_clock::time_point published;
  std::thread publisher{[&] {
    t0 = bench_clock::now();
    for (const auto& e : events)
      caf::anon_send(forwarder, e);
    published = bench_clock::now();
  }};
  const bool ok = finished.wait_for(std::chrono::duration<double>(opt.timeout_s)) == std::future_status::ready;
  const auto seen_at_timeout = done->seen.load();
  publisher.join();
  caf::anon_send_exit(forwarder, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  if (!ok)
    throw bench_failure(fmt::format("raw CAF: the sink counted {} of {} events within {} s", seen_at_timeout,
                                    events.size(), opt.timeout_s));
  const auto t1 = finished.get();
  return {seconds_between(t0, t1), seconds_between(t0, published), 0};
}

// -- B, C: the bus ------------------------------------------------------------------------------

std::string describe(const libra::bus_stats& s) {
  return fmt::format("published={} dispatched={} pending={} rejected_full={} rejected_closed={} dropped={} "
                     "errors={} handler_calls={}",
                     s.published, s.dispatched, s.pending, s.rejected_full, s.rejected_closed, s.dropped, s.errors,
                     s.handler_calls);
}

trial run_bus(caf::actor_system& sys, std::span<const libra::event> events, const variant& v, const options& opt) {
  libra::bus_config cfg;
  cfg.credit_window = v.window;
  cfg.batch_size = v.batch;
  cfg.name = "bench";
  libra::bus bus{sys, cfg};
  auto done = std::make_shared<completion>(events.size());
  auto finished = done->done.get_future();
  bus.subscribe(libra::event_type::tick, [done](const libra::event&) { done->count(); });
  bus.start();

  const auto n = events.size();
  std::atomic<bool> give_up{false}; // set on timeout, so a publisher refused forever ends
  std::uint64_t retries = 0;
  bench_clock::time_point t0;
  bench_clock::time_point published;
  std::thread publisher{[&] {
    auto pub = bus.make_publisher(); // producer tokens, created before the clock starts
    auto refused = [&] {
      ++retries;
      std::this_thread::yield();
      return !give_up.load(std::memory_order_relaxed);
    };
    t0 = bench_clock::now();
    if (v.how == method::publish) {
      for (const auto& e : events)
        while (!pub.publish(e))
          if (!refused())
            return;
    } else {
      for (std::size_t i = 0; i < n; i += opt.chunk) {
        auto rest = events.subspan(i, std::min(opt.chunk, n - i));
        for (;;) {
          rest = rest.subspan(pub.publish_many(rest));
          if (rest.empty())
            break;
          if (!refused())
            return;
        }
      }
    }
    published = bench_clock::now();
  }};
  const auto timeout = std::chrono::duration<double>(opt.timeout_s);
  const bool ok = finished.wait_for(timeout) == std::future_status::ready;
  const auto seen_at_timeout = done->seen.load();
  if (!ok)
    give_up.store(true);
  publisher.join();
  if (!ok)
    throw bench_failure(fmt::format("{} (W={}, k={}): the handler counted {} of {} events within {} s; "
                                    "publisher retries={}; bus: {}",
                                    v.name, v.window, v.batch, seen_at_timeout, n, opt.timeout_s, retries,
                                    describe(bus.stats())));
  const auto t1 = finished.get();
  // Not timed: the bus must now be quiet with exact counters.
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  if (!bus.wait_idle(ms))
    throw bench_failure(fmt::format("{} (W={}, k={}): all {} events handled, but wait_idle({} ms) failed; bus: {}",
                                    v.name, v.window, v.batch, n, ms.count(), describe(bus.stats())));
  const auto s = bus.stats();
  if (done->seen.load() != n || s.published != n || s.dispatched != n || s.pending != 0 || s.handler_calls != n
      || s.rejected_full != retries || s.rejected_closed != 0 || s.dropped != 0 || s.errors != 0)
    throw bench_failure(fmt::format("{} (W={}, k={}): wrong counts after {} events: handled={} retries={}; bus: {}",
                                    v.name, v.window, v.batch, n, done->seen.load(), retries, describe(s)));
  return {seconds_between(t0, t1), seconds_between(t0, published), retries};
}

trial run(caf::actor_system& sys, std::span<const libra::event> events, const variant& v, const options& opt) {
  return v.how == method::raw_caf ? run_raw(sys, events, opt) : run_bus(sys, events, v, opt);
}

// -- statistics and reporting -------------------------------------------------------------------

struct spread {
  double median = 0;
  double min = 0;
  double max = 0;
};

spread spread_of(std::vector<double> xs) {
  if (xs.empty())
    return {};
  std::sort(xs.begin(), xs.end());
  const auto m = xs.size() / 2;
  const double median = xs.size() % 2 == 1 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
  return {median, xs.front(), xs.back()};
}

struct environment {
  std::string commit = LIBRA_BENCH_COMMIT;
  std::string host;
  std::string cpu;
  std::string compiler;
  std::string date;
  unsigned hardware_threads = std::thread::hardware_concurrency();
};

environment probe_environment() {
  environment env;
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) == 0)
    env.host = host;
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
#else
  env.compiler = "unknown";
#endif
  const auto now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &utc);
  env.date = buf;
  return env;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\')
      out += fmt::format("\\{}", c);
    else if (static_cast<unsigned char>(c) < 0x20)
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    else
      out += c;
  }
  return out + "\"";
}

struct results {
  std::vector<variant> variants;
  std::vector<std::vector<trial>> trials; // [variant][trial]
};

double rate(std::size_t n, double seconds) { return static_cast<double>(n) / seconds; }

/// Per-trial ratio of variant v's rate to the baseline's (variant 0) in the same round.
std::vector<double> ratios(const results& r, std::size_t v) {
  std::vector<double> out;
  for (std::size_t t = 0; t < r.trials[v].size(); ++t)
    out.push_back(r.trials[0][t].seconds / r.trials[v][t].seconds);
  return out;
}

std::vector<double> rates(const results& r, std::size_t v, std::size_t n, bool publisher_side = false) {
  std::vector<double> out;
  for (const auto& t : r.trials[v])
    out.push_back(rate(n, publisher_side ? t.publish_seconds : t.seconds));
  return out;
}

std::string wk(const variant& v, std::uint32_t x) { return v.how == method::raw_caf ? "–" : std::to_string(x); }

void print_tables(const results& r, std::size_t n) {
  fmt::print("| variant | W | k | median Mev/s | min | max | x A (median of per-trial) | x A min–max | "
             "publisher done, median Mev/s | retries (bus full), median |\n");
  fmt::print("|---|---|---|---|---|---|---|---|---|---|\n");
  for (std::size_t v = 0; v < r.variants.size(); ++v) {
    const auto& var = r.variants[v];
    const auto s = spread_of(rates(r, v, n));
    const auto q = spread_of(ratios(r, v));
    const auto p = spread_of(rates(r, v, n, true));
    std::vector<double> retries;
    for (const auto& t : r.trials[v])
      retries.push_back(static_cast<double>(t.retries));
    fmt::print("| {} | {} | {} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.2f}–{:.2f} | {:.2f} | {:.0f} |\n", var.name,
               wk(var, var.window), wk(var, var.batch), s.median / 1e6, s.min / 1e6, s.max / 1e6, q.median, q.min,
               q.max, p.median / 1e6, spread_of(retries).median);
  }
  fmt::print("\nPer trial, Mev/s (round by round; the ratio columns above compare within a row):\n\n| trial |");
  for (const auto& var : r.variants)
    fmt::print(" {}{} |", var.name, var.how == method::raw_caf ? "" : fmt::format(" {}/{}", var.window, var.batch));
  fmt::print("\n|---|");
  for (std::size_t v = 0; v < r.variants.size(); ++v)
    fmt::print("---|");
  fmt::print("\n");
  for (std::size_t t = 0; t < r.trials[0].size(); ++t) {
    fmt::print("| {} |", t + 1);
    for (std::size_t v = 0; v < r.variants.size(); ++v)
      fmt::print(" {:.2f} |", rate(n, r.trials[v][t].seconds) / 1e6);
    fmt::print("\n");
  }
}

void write_json(const std::string& path, const environment& env, const options& opt, const results& r,
                std::size_t workers, std::size_t max_throughput) {
  const auto n = opt.events;
  std::string out = "{\n";
  out += fmt::format("  \"benchmark\": \"libra-bench-throughput\",\n  \"commit\": {},\n  \"host\": {},\n"
                     "  \"cpu\": {},\n  \"hardware_threads\": {},\n  \"compiler\": {},\n  \"date\": {},\n",
                     json_string(env.commit), json_string(env.host), json_string(env.cpu), env.hardware_threads,
                     json_string(env.compiler), json_string(env.date));
  out += fmt::format("  \"events\": {},\n  \"trials\": {},\n  \"scheduler_workers\": {},\n"
                     "  \"scheduler_max_throughput\": {},\n  \"max_queue_size\": {},\n"
                     "  \"publish_many_chunk\": {},\n  \"variants\": [\n",
                     n, opt.trials, workers, max_throughput, libra::bus_config{}.max_queue_size, opt.chunk);
  for (std::size_t v = 0; v < r.variants.size(); ++v) {
    const auto& var = r.variants[v];
    const auto s = spread_of(rates(r, v, n));
    const auto q = spread_of(ratios(r, v));
    std::string trials;
    for (const auto& t : r.trials[v])
      trials += fmt::format("{}{{\"seconds\": {:.6f}, \"events_per_s\": {:.0f}, \"publish_seconds\": {:.6f}, "
                            "\"retries\": {}}}",
                            trials.empty() ? "" : ", ", t.seconds, rate(n, t.seconds), t.publish_seconds, t.retries);
    out += fmt::format("    {{\"name\": {}, \"credit_window\": {}, \"batch_size\": {}, \"events_per_s\": "
                       "{{\"median\": {:.0f}, \"min\": {:.0f}, \"max\": {:.0f}}}, \"ratio_to_baseline\": "
                       "{{\"median\": {:.4f}, \"min\": {:.4f}, \"max\": {:.4f}}}, \"trials\": [{}]}}{}\n",
                       json_string(var.name), var.window, var.batch, s.median, s.min, s.max, q.median, q.min, q.max,
                       trials, v + 1 < r.variants.size() ? "," : "");
  }
  out += "  ]\n}\n";
  std::ofstream f{path};
  f << out;
  if (!f)
    throw std::runtime_error(fmt::format("cannot write {}", path));
}

std::vector<variant> make_variants(const options& opt) {
  std::vector<variant> vs{{"A raw CAF", method::raw_caf, 0, 0}};
  for (const auto& combo : opt.combos) {
    unsigned w = 0;
    unsigned k = 0;
    char tail = 0;
    if (std::sscanf(combo.c_str(), "%u:%u%c", &w, &k, &tail) != 2 || w == 0 || k == 0 || k > w)
      throw CLI::ValidationError("--combos", fmt::format("'{}' is not W:k with 1 <= k <= W", combo));
    vs.push_back({"B publish", method::publish, w, k});
    vs.push_back({"C publish_many", method::publish_many, w, k});
  }
  return vs;
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  CLI::App app{"libra-bench-throughput: bus throughput vs a plain CAF forwarding actor, interleaved"};
  app.add_option("--events", opt.events, "events per trial")->check(CLI::PositiveNumber);
  app.add_option("--trials", opt.trials, "trials per variant")->check(CLI::PositiveNumber);
  app.add_flag("--quick", opt.quick, "CI smoke run: 50k events, 2 trials (unless given)");
  app.add_option("--json", opt.json, "also write the results to this JSON file");
  app.add_option("--combos", opt.combos, "bus (credit window W : batch size k) pairs, e.g. 16:8,64:32")->delimiter(',');
  app.add_option("--chunk", opt.chunk, "publish_many chunk size")->check(CLI::PositiveNumber);
  app.add_option("--timeout", opt.timeout_s, "seconds before a trial counts as hung")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  if (opt.quick) {
    if (app.count("--events") == 0)
      opt.events = 50'000;
    if (app.count("--trials") == 0)
      opt.trials = 2;
  }
  std::vector<variant> variants;
  try {
    variants = make_variants(opt);
  } catch (const CLI::Error& e) {
    return app.exit(e);
  }

  spdlog::set_level(spdlog::level::warn); // the bus logs every stop at info
  caf::actor_system_config cfg;
  libra::configure_system(cfg, 2);
  caf::actor_system sys{cfg};
  const auto workers = sys.scheduler().num_workers();
  const auto max_throughput = caf::get_or(sys.config(), "scheduler.max-throughput", std::size_t{0});
  const auto env = probe_environment();

  const auto events = make_events(opt.events);
  results r{variants, std::vector<std::vector<trial>>(variants.size())};
  try {
    // A full warm-up round, not recorded: the baseline's first run of N messages grows the heap
    // (the forwarder's mailbox has no bound) and was 2-3x slower than later ones.
    for (const auto& v : variants)
      (void)run(sys, events, v, opt);
    for (std::size_t t = 0; t < opt.trials; ++t)
      for (std::size_t v = 0; v < variants.size(); ++v)
        r.trials[v].push_back(run(sys, events, variants[v], opt));
  } catch (const bench_failure& e) {
    std::fflush(stdout);
    fmt::print(stderr, "libra-bench-throughput: FAILED: {}\n", e.what());
    return 2;
  }

  const libra::bus_config defaults;
  fmt::print("## libra-bench-throughput\n\n");
  fmt::print("commit {} | host {} | cpu {} ({} hw threads) | {} | {}\n\n", env.commit, env.host, env.cpu,
             env.hardware_threads, env.compiler, env.date);
  fmt::print("{} events per trial, {} trials per variant, interleaved (after 1 warm-up round); actor system: "
             "{} workers, max-throughput {}; bus: max_queue_size {}, default W={} k={}; publish_many chunk {}; one "
             "publisher thread, one subscriber (count only)\n\n",
             opt.events, opt.trials, workers, max_throughput, defaults.max_queue_size, defaults.credit_window,
             defaults.batch_size, opt.chunk);
  print_tables(r, opt.events);
  if (!opt.json.empty()) {
    write_json(opt.json, env, opt, r, workers, max_throughput);
    fmt::print("\nJSON: {}\n", opt.json);
  }
  return 0;
}
