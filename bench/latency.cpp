// libra-bench-latency: publish -> handler latency at fixed offered rates, beside a plain CAF
// forwarding actor (publisher -> forwarder -> sink) offered the same rate in the same run.
//
// Coordinated omission: event i is due at t0 + i / rate. The publisher waits (spinning: sleeps
// are far coarser than 2 us) until it is due, then publishes it (retrying while the bus is full);
// the handler records now - due, not now - actual send. A stall of the publisher, the bus or the
// machine therefore shows in every event it delays, as it would for a feed that does not wait.
// The handler side knows i because one publisher and one subscriber keep FIFO order.
//
// Rates: --rates (default 10k, 100k, 500k ev/s), then the highest sustained rate, found by
// doubling from the last one while the bus keeps up (achieved >= 95% of offered and p50 under
// 1 ms); the baseline runs at each rate too. Variants alternate per trial, and samples are pooled.
#include "common.hpp"

#include <libra/system_config.hpp>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>

using namespace libra;
using namespace libra::bench;

namespace {

struct options {
  std::vector<double> rates{10'000, 100'000, 500'000};
  double seconds = 1.0; // per trial
  std::size_t trials = 3;
  bool find_max = true;
  bool quick = false;
  std::string json;
};

/// What the receiving side records: latency of event i from its due time.
struct recorder {
  recorder(bench_clock::time_point start, double rate, std::size_t n)
    : t0{start}, period_ns{1e9 / rate}, latencies(n), target{n} {}
  void on_event() {
    const auto i = seen.load(std::memory_order_relaxed);
    const auto due = t0 + std::chrono::nanoseconds{static_cast<std::int64_t>(static_cast<double>(i) * period_ns)};
    latencies[i] = ns_between(due, bench_clock::now());
    seen.store(i + 1, std::memory_order_relaxed);
    if (i + 1 == target)
      done.set_value(bench_clock::now());
  }
  bench_clock::time_point t0;
  double period_ns;
  std::vector<std::int64_t> latencies;
  std::size_t target;
  std::atomic<std::size_t> seen{0};
  std::promise<bench_clock::time_point> done;
};

struct run_result {
  std::vector<std::int64_t> latencies;
  double achieved = 0; // events / (last handled - t0)
};

/// Paces events from a thread of its own: event i goes out at t0 + i * period (or as soon after as
/// `send` accepts it). Returns the number of send refusals (bus full).
template <class Send>
std::uint64_t paced(const std::vector<event>& events, std::size_t n, bench_clock::time_point t0, double period_ns,
                    Send&& send) {
  std::uint64_t refusals = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto due = t0 + std::chrono::nanoseconds{static_cast<std::int64_t>(static_cast<double>(i) * period_ns)};
    while (bench_clock::now() < due) {
    }
    while (!send(events[i % events.size()]))
      ++refusals;
  }
  return refusals;
}

run_result finish(recorder& rec, std::future<bench_clock::time_point>& fut, double timeout_s, const char* what) {
  if (fut.wait_for(std::chrono::duration<double>(timeout_s)) != std::future_status::ready)
    throw bench_failure(fmt::format("{}: {} of {} events handled in time", what, rec.seen.load(), rec.target));
  const auto end = fut.get();
  return {std::move(rec.latencies), static_cast<double>(rec.target) / seconds_between(rec.t0, end)};
}

run_result run_raw(caf::actor_system& sys, const std::vector<event>& events, std::size_t n, double rate,
                   const options& opt) {
  // Start a little ahead so that spawning is not in the first event's latency.
  auto rec = std::make_shared<recorder>(bench_clock::now() + std::chrono::milliseconds{5}, rate, n);
  auto fut = rec->done.get_future();
  auto sink =
    sys.spawn([rec](caf::event_based_actor*) -> caf::behavior { return {[rec](const event&) { rec->on_event(); }}; });
  auto fwd = sys.spawn(raw_forwarder, sink, false);
  std::thread pub{[&] {
    (void)paced(events, n, rec->t0, rec->period_ns, [&](const event& e) {
      caf::anon_send(fwd, e);
      return true;
    });
  }};
  pub.join();
  auto r = finish(*rec, fut, opt.seconds * 20 + 10, "raw CAF");
  caf::anon_send_exit(fwd, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  return r;
}

run_result run_bus(caf::actor_system& sys, const std::vector<event>& events, std::size_t n, double rate,
                   const options& opt) {
  bus_config cfg;
  cfg.name = "bench";
  bus b{sys, cfg};
  auto rec = std::make_shared<recorder>(bench_clock::now() + std::chrono::milliseconds{5}, rate, n);
  auto fut = rec->done.get_future();
  b.subscribe(event_type::tick, [rec](const event&) { rec->on_event(); });
  b.start();
  std::uint64_t refusals = 0;
  std::thread pub{[&] {
    auto p = b.make_publisher();
    refusals = paced(events, n, rec->t0, rec->period_ns, [&](const event& e) { return p.publish(e); });
  }};
  pub.join();
  auto r = finish(*rec, fut, opt.seconds * 20 + 10, "libra");
  if (!b.wait_idle(std::chrono::seconds{10}))
    throw bench_failure("libra: bus not idle after the run");
  check_exact(b, n, rec->seen.load(), refusals, "libra");
  return r;
}

struct rate_row {
  double offered = 0;
  bool searched = false; // found by the max search
  std::vector<std::int64_t> bus;
  std::vector<std::int64_t> raw;
  std::vector<double> bus_achieved;
  std::vector<double> raw_achieved;
};

rate_row measure(caf::actor_system& sys, double rate, const options& opt, bool searched) {
  rate_row row{rate, searched, {}, {}, {}, {}};
  const auto n = std::max<std::size_t>(1000, static_cast<std::size_t>(rate * opt.seconds));
  const auto events = make_ticks(std::min<std::size_t>(n, 65'536)); // reused round robin
  for (std::size_t t = 0; t < opt.trials; ++t) {
    auto b = run_bus(sys, events, n, rate, opt);
    auto r = run_raw(sys, events, n, rate, opt);
    row.bus.insert(row.bus.end(), b.latencies.begin(), b.latencies.end());
    row.raw.insert(row.raw.end(), r.latencies.begin(), r.latencies.end());
    row.bus_achieved.push_back(b.achieved);
    row.raw_achieved.push_back(r.achieved);
  }
  return row;
}

bool sustained(const rate_row& row) {
  const auto p = percentiles_of(row.bus);
  return spread_of(row.bus_achieved).median >= 0.95 * row.offered && p.p50 < 1e6;
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  CLI::App app{"libra-bench-latency: publish -> handler latency at fixed rates vs plain CAF, from the due time"};
  app.add_option("--rates", opt.rates, "offered rates, events/s")->delimiter(',');
  app.add_option("--seconds", opt.seconds, "seconds per trial")->check(CLI::PositiveNumber);
  app.add_option("--trials", opt.trials, "trials per rate and variant")->check(CLI::PositiveNumber);
  app.add_flag("!--no-max", opt.find_max, "skip the search for the highest sustained rate");
  const bench_cli cli{app, opt.quick, opt.json, "0.2 s, 1 trial, rates 10k,100k, no search"};
  CLI11_PARSE(app, argc, argv);
  cli.quick("--seconds", opt.seconds, 0.2)
    .quick("--trials", opt.trials, 1)
    .quick("--rates", opt.rates, decltype(opt.rates){10'000, 100'000})
    .quick("--no-max", opt.find_max, false);

  spdlog::set_level(spdlog::level::warn);
  caf::actor_system_config cfg;
  configure_system(cfg, 2);
  caf::actor_system sys{cfg};
  const auto env = probe_environment();

  std::vector<rate_row> rows;
  try {
    {
      auto warm = opt; // warm-up, not recorded
      warm.seconds = 0.1;
      warm.trials = 1;
      (void)measure(sys, 100'000, warm, false);
    }
    for (const auto r : opt.rates) {
      rows.push_back(measure(sys, r, opt, false));
      fmt::print(stderr, "latency: {:.0f} ev/s done\n", r);
    }
    if (opt.find_max && !rows.empty() && sustained(rows.back())) {
      for (double r = rows.back().offered * 2; r <= 32e6; r *= 2) {
        auto row = measure(sys, r, opt, true);
        fmt::print(stderr, "latency: search {:.0f} ev/s: achieved {:.0f}\n", r, spread_of(row.bus_achieved).median);
        if (!sustained(row))
          break;
        rows.push_back(std::move(row));
      }
    }
  } catch (const bench_failure& e) {
    std::fflush(stdout);
    fmt::print(stderr, "libra-bench-latency: FAILED: {}\n", e.what());
    return 2;
  }

  print_header("libra-bench-latency", env);
  fmt::print("{} s per trial, {} trials per rate and variant (alternating), samples pooled; latency = handler "
             "start - due time of the event (coordinated omission corrected), in us. Bus: default config "
             "(W={}, k={}). Target at 100k ev/s: p50 <= 10 us, p90 <= 30 us. 'max sustained' = the highest rate of "
             "a doubling search at which the bus achieved >= 95% of offered with p50 < 1 ms.\n\n",
             opt.seconds, opt.trials, bus_config{}.credit_window, bus_config{}.batch_size);
  fmt::print("| offered ev/s | variant | achieved ev/s | p50 | p90 | p99 | p99.9 | max | p50 ratio raw/libra | "
             "p99 ratio raw/libra |\n|---|---|---|---|---|---|---|---|---|---|\n");
  std::string json;
  libra::json_writer jw{json};
  begin_results(jw, "libra-bench-latency", env);
  jw.field("seconds", opt.seconds).field("trials", opt.trials).key("rows").begin_array();
  for (const auto& row : rows) {
    const auto b = percentiles_of(row.bus);
    const auto r = percentiles_of(row.raw);
    const auto label = fmt::format("{:.0f}{}", row.offered, row.searched ? " (search)" : "");
    fmt::print("| {} | libra | {:.0f} | {} | {} | {} | {} | {} | {:.2f} | {:.2f} |\n", label,
               spread_of(row.bus_achieved).median, us(b.p50), us(b.p90), us(b.p99), us(b.p999), us(b.max),
               r.p50 / b.p50, r.p99 / b.p99);
    fmt::print("| {} | raw CAF | {:.0f} | {} | {} | {} | {} | {} | | |\n", label, spread_of(row.raw_achieved).median,
               us(r.p50), us(r.p90), us(r.p99), us(r.p999), us(r.max));
    jw.begin_object()
      .field("offered", row.offered)
      .field("searched", row.searched)
      .key("libra")
      .begin_object()
      .field("achieved", spread_of(row.bus_achieved).median)
      .key("latency");
    write_percentiles(jw, b);
    jw.end().key("raw_caf").begin_object().field("achieved", spread_of(row.raw_achieved).median).key("latency");
    write_percentiles(jw, r);
    jw.end().end();
  }
  jw.end().end();
  const auto at100k = std::find_if(rows.begin(), rows.end(), [](const rate_row& r) { return r.offered == 100'000; });
  if (at100k != rows.end()) {
    const auto b = percentiles_of(at100k->bus);
    fmt::print("\nTarget at 100k ev/s: p50 {} us ({}), p90 {} us ({})\n", us(b.p50),
               b.p50 <= 10'000 ? "met" : "not met", us(b.p90), b.p90 <= 30'000 ? "met" : "not met");
  }
  if (!rows.empty() && opt.find_max)
    fmt::print("Highest sustained rate measured: {:.0f} ev/s\n", rows.back().offered);
  if (!opt.json.empty()) {
    write_file(opt.json, json + "\n");
    fmt::print("\nJSON: {}\n", opt.json);
  }
  return 0;
}
