// libra-bench-conflation: a slow subscriber that conflates by instrument under a tick flood.
//
// One publisher thread publishes N ticks round-robin over --instruments instruments as fast as
// the bus takes them (a flood: retried when the bus is full), or paced at each of --rates ticks/s
// (0: as fast; the case is 1M ticks/s, where "does not drop" means the counting
// subscriber still gets every tick at the offered rate: x A ~ 1), in bursts of 100 with the
// publisher asleep in between. Variants, interleaved trial by
// trial in one actor system (configure_system(cfg, 2)), each with its own bus at the defaults:
//   A  one counting subscriber ("the others"): the bus's throughput alone.
//   B  the same counting subscriber plus a slow one (--handler-us, 10 us: 100k ticks/s) subscribed
//      with conflation::by_instrument.
//   C  as B, without conflation (what a slow subscriber costs today: it holds capacity, the
//      publisher is back-pressured down to its pace). Skipped with --no-plain.
//   A' as A, plus a CAF actor that spins --handler-us per message and sends itself the next one
//      while the flood lasts: the slow subscriber's CPU without its subscription. On 2 vCPUs the
//      slow handler keeps one of them (and one of the 2 CAF workers) busy, so B / A' is what
//      conflation itself costs the others, and A' / A what the machine does.
// Reported: the counting subscriber's throughput (N / time to its N-th tick) and its ratio to A
// in the same round; for the slow subscriber, at each handler start, how many newer ticks of the
// same instrument had been published already ("behind"), and the event's age (publish -> handler
// start), both only for the calls that started while the flood was still being published (after
// it, a conflating subscriber gets the newest per instrument: trivially not behind); ticks it
// handled, and stats().conflated. Within one handler call of the newest means:
// behind <= the ticks of one instrument published during one handler call (rate x handler time /
// instruments, reported beside it).
#include "common.hpp"

#include <libra/system_config.hpp>

#include <CLI/CLI.hpp>
#include <caf/atom.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>
#include <future>
#include <mutex>
#include <thread>

namespace {

using namespace libra;
using namespace libra::bench;

struct options {
  std::size_t events = 1'000'000;
  std::size_t trials = 5;
  std::size_t instruments = 100;
  double handler_us = 10;
  std::vector<double> rates{0}; // ticks/s; 0: as fast as the bus takes them
  bool plain = true;
  bool quick = false;
  double timeout_s = 120;
  std::string json;
};

enum class kind { alone, busy, conflating, plain };

/// Ticks per burst of a paced run (--rates > 0).
constexpr std::size_t pace_burst = 100;

using spin_atom = caf::atom_constant<caf::atom("spin")>;

/// B and C have the slow subscriber (A' only its CPU).
bool has_slow_subscriber(kind k) { return k == kind::conflating || k == kind::plain; }

const char* name_of(kind k) {
  switch (k) {
    case kind::alone:
      return "A counting subscriber alone";
    case kind::busy:
      return "A' + a CAF actor spinning as long per message, off the bus";
    case kind::conflating:
      return "B + slow subscriber, conflate by_instrument";
    default:
      return "C + slow subscriber, no conflation";
  }
}

/// The flood: tick i is of instrument i % instruments, and carries i in bid_size.
std::vector<event> make_flood(std::size_t n, std::size_t instruments) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < instruments; ++i)
    names.push_back(fmt::format("I{:03}", i));
  std::vector<event> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto px = price::from_raw(1'000'000'000 + static_cast<std::int64_t>(i % 50));
    const auto q = quantity::from_raw(static_cast<std::int64_t>(i));
    out.push_back(event::create(event_type::tick, source_id{std::string_view{"gateway.bench"}},
                                tick{instrument_id{std::string_view{names[i % instruments]}}, px, px, q, q, {}, {}}));
  }
  return out;
}

struct trial {
  double seconds = 0;   // first publish -> the counting subscriber's N-th tick
  double publish_s = 0; // first publish -> last publish accepted
  std::uint64_t slow_calls = 0;
  std::uint64_t conflated = 0;
  std::vector<std::int64_t> behind; // per slow handler call
  std::vector<std::int64_t> age_ns; // per slow handler call
};

/// What the slow subscriber sees; latest[i] is the index of the newest tick of instrument i
/// published so far (written by the publisher after each accepted publish).
struct slow_probe {
  slow_probe(std::size_t instruments, std::size_t n) : latest(instruments), published_at(n) {}
  std::vector<std::atomic<std::int64_t>> latest;
  std::vector<std::atomic<std::int64_t>> published_at; // steady ns just before tick i's publish
  std::mutex mu;                                       // the main thread reads the samples after wait_idle
  std::vector<std::int64_t> behind;
  std::vector<std::int64_t> age_ns;
  std::atomic<std::uint64_t> calls{0};
  std::atomic<bool> flooding{false}; // samples count only while the publisher is still publishing
};

trial run_trial(caf::actor_system& sys, kind how, const std::vector<event>& flood, const options& opt, double rate) {
  const auto n = flood.size();
  bus_config cfg;
  cfg.name = "bench.conflation";
  bus b{sys, cfg};
  auto counting = std::make_shared<completion>(n);
  b.subscribe(event_type::tick, [counting](const event&) { counting->count(); });
  auto probe = std::make_shared<slow_probe>(opt.instruments, n);
  for (auto& l : probe->latest)
    l.store(-1);
  const auto work = std::chrono::nanoseconds{static_cast<std::int64_t>(opt.handler_us * 1e3)};
  if (has_slow_subscriber(how)) {
    const auto instruments = opt.instruments;
    b.subscribe(
      event_type::tick,
      [probe, work, instruments](const event& e) {
        const auto start = bench_clock::now();
        const auto i = e.get<tick>().bid_size.raw();
        const auto inst = static_cast<std::size_t>(i) % instruments;
        const auto newest = probe->latest[inst].load(std::memory_order_acquire);
        if (probe->flooding.load(std::memory_order_acquire)) {
          std::lock_guard guard{probe->mu};
          // The tick's own index is its place in the flood; instrument-mates are instruments apart.
          probe->behind.push_back((newest - i) / static_cast<std::int64_t>(instruments));
          probe->age_ns.push_back(start.time_since_epoch().count()
                                  - probe->published_at[static_cast<std::size_t>(i)].load(std::memory_order_relaxed));
        }
        probe->calls.fetch_add(1, std::memory_order_relaxed);
        spin_for(work - (bench_clock::now() - start));
      },
      {}, subscribe_options{how == kind::conflating ? conflation::by_instrument : conflation::none});
  }
  auto spinning = std::make_shared<std::atomic<bool>>(true);
  caf::actor spinner;
  if (how == kind::busy) {
    spinner = sys.spawn([spinning, work](caf::event_based_actor* self) -> caf::behavior {
      return {[=](spin_atom) {
        spin_for(work);
        if (spinning->load(std::memory_order_relaxed))
          self->send(self, spin_atom::value);
      }};
    });
    caf::anon_send(spinner, spin_atom::value);
  }
  b.start();
  auto pub = b.make_publisher();
  auto done = counting->done.get_future();
  const auto deadline =
    bench_clock::now()
    + std::chrono::duration_cast<bench_clock::duration>(std::chrono::duration<double>(opt.timeout_s));
  probe->flooding.store(true);
  const double period_ns = rate > 0 ? 1e9 / rate : 0;
  const auto t0 = bench_clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    if (period_ns > 0 && i % pace_burst == 0) {
      // Paced: a burst of pace_burst ticks every pace_burst periods (as a feed delivers them), and
      // the publisher sleeps in between, so that it does not keep a CPU busy spinning.
      const auto due = t0 + std::chrono::nanoseconds{static_cast<std::int64_t>(static_cast<double>(i) * period_ns)};
      std::this_thread::sleep_until(due);
    }
    const auto now = bench_clock::now();
    // Before the publish: the bus's hand-off (release/acquire) makes it visible to the handler.
    probe->published_at[i].store(now.time_since_epoch().count(), std::memory_order_relaxed);
    while (!pub.publish(flood[i])) {
      if (bench_clock::now() > deadline)
        throw bench_failure(fmt::format("{}: publish {} refused until the timeout", name_of(how), i));
      std::this_thread::yield();
    }
    probe->latest[i % opt.instruments].store(static_cast<std::int64_t>(i), std::memory_order_release);
  }
  const auto t_pub = bench_clock::now();
  probe->flooding.store(false);
  if (done.wait_until(deadline) != std::future_status::ready)
    throw bench_failure(fmt::format("{}: counting subscriber saw {} of {}", name_of(how), counting->seen.load(), n));
  spinning->store(false);
  if (spinner)
    caf::anon_send_exit(spinner, caf::exit_reason::user_shutdown);
  trial t;
  t.seconds = seconds_between(t0, done.get());
  t.publish_s = seconds_between(t0, t_pub);
  if (!b.wait_idle(std::chrono::milliseconds{static_cast<std::int64_t>(opt.timeout_s * 1000)}))
    throw bench_failure(fmt::format("{}: not idle after the flood", name_of(how)));
  const auto s = b.stats();
  t.slow_calls = probe->calls.load();
  t.conflated = s.conflated;
  if (s.published != n || s.dispatched != n || s.pending != 0 || s.errors != 0 || s.handler_calls != n + t.slow_calls
      || (how != kind::conflating && s.conflated != 0) || (how == kind::plain && t.slow_calls != n)
      || (how == kind::conflating && t.slow_calls + s.conflated != n))
    throw bench_failure(fmt::format("{}: wrong counters: published={} dispatched={} pending={} errors={} "
                                    "handler_calls={} slow calls={} conflated={}",
                                    name_of(how), s.published, s.dispatched, s.pending, s.errors, s.handler_calls,
                                    t.slow_calls, s.conflated));
  std::lock_guard guard{probe->mu};
  t.behind = std::move(probe->behind);
  t.age_ns = std::move(probe->age_ns);
  b.stop(std::chrono::seconds{1});
  return t;
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  CLI::App app{"libra-bench-conflation: a slow conflating subscriber under a tick flood"};
  app.add_option("--events", opt.events, "ticks per trial")->check(CLI::PositiveNumber);
  app.add_option("--trials", opt.trials, "trials per variant")->check(CLI::PositiveNumber);
  app.add_option("--instruments", opt.instruments, "instruments the ticks cycle through")->check(CLI::PositiveNumber);
  app.add_option("--handler-us", opt.handler_us, "the slow subscriber's work per tick, us")->check(CLI::PositiveNumber);
  app.add_option("--rates", opt.rates, "publish rates, ticks/s (0: as fast as the bus takes them)")
    ->delimiter(',')
    ->check(CLI::NonNegativeNumber);
  app.add_flag("!--no-plain", opt.plain, "skip C (the slow subscriber without conflation)");
  const bench_cli cli{app, opt.quick, opt.json, "50k ticks, 2 trials"};
  app.add_option("--timeout", opt.timeout_s, "seconds before a trial counts as hung")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  cli.quick("--events", opt.events, 50'000).quick("--trials", opt.trials, 2);
  spdlog::set_level(spdlog::level::warn);
  caf::actor_system_config cfg;
  configure_system(cfg, 2);
  caf::actor_system sys{cfg};
  const auto env = probe_environment();
  const auto flood = make_flood(opt.events, opt.instruments);

  std::vector<kind> kinds{kind::alone, kind::busy, kind::conflating};
  if (opt.plain)
    kinds.push_back(kind::plain);
  // trials[rate][variant]
  std::vector<std::vector<std::vector<trial>>> trials(opt.rates.size(), std::vector<std::vector<trial>>(kinds.size()));
  try {
    for (auto k : kinds) // warm-up, not recorded
      (void)run_trial(sys, k, flood, opt, opt.rates.front());
    for (std::size_t r = 0; r < opt.trials; ++r) {
      for (std::size_t ri = 0; ri < opt.rates.size(); ++ri)
        for (std::size_t i = 0; i < kinds.size(); ++i) {
          const auto v = r % 2 == 0 ? i : kinds.size() - 1 - i;
          trials[ri][v].push_back(run_trial(sys, kinds[v], flood, opt, opt.rates[ri]));
        }
      fmt::print(stderr, "conflation: round {}/{} done\n", r + 1, opt.trials);
    }
  } catch (const bench_failure& e) {
    fmt::print(stderr, "libra-bench-conflation: FAILED: {}\n", e.what());
    return 2;
  }

  print_header("libra-bench-conflation", env);
  std::string json;
  libra::json_writer jw{json};
  begin_results(jw, "libra-bench-conflation", env);
  jw.field("events", opt.events)
    .field("instruments", opt.instruments)
    .field("handler_us", opt.handler_us)
    .field("trials", opt.trials)
    .key("runs")
    .begin_array();
  for (std::size_t ri = 0; ri < opt.rates.size(); ++ri) {
    const auto rate = opt.rates[ri];
    fmt::print("{} ticks round-robin over {} instruments, {}; a counting subscriber, and (B, C) a slow subscriber "
               "spending {} us per tick; {} trials per variant, interleaved; bus at the defaults.\n\n",
               opt.events, opt.instruments,
               rate > 0
                 ? fmt::format("published at {:.0f} ticks/s (paced: bursts of {}, asleep between)", rate, pace_burst)
                 : std::string{"published as fast as the bus takes them"},
               opt.handler_us, opt.trials);
    fmt::print("| variant | counting subscriber, median Mev/s | x A (median of per-round) | publisher, median Mev/s | "
               "slow handler calls, median | conflated, median | slow, during the flood: newer ticks of its "
               "instrument already published at handler start, p50 / p90 / p99 / max | ticks of one instrument per "
               "handler call at that rate | slow, during the flood: age at handler start p50 / p90 / p99 us |\n");
    fmt::print("|---|---|---|---|---|---|---|---|---|\n");
    jw.begin_object().field("rate", rate).key("variants").begin_array();
    for (std::size_t v = 0; v < kinds.size(); ++v) {
      const auto& rows = trials[ri];
      std::vector<double> achieved;
      std::vector<double> ratio;
      std::vector<double> pub_rate;
      std::vector<double> calls;
      std::vector<double> conflated;
      std::vector<std::int64_t> behind;
      std::vector<std::int64_t> age;
      for (std::size_t r = 0; r < rows[v].size(); ++r) {
        const auto& t = rows[v][r];
        achieved.push_back(static_cast<double>(opt.events) / t.seconds);
        ratio.push_back(rows[0][r].seconds / t.seconds);
        pub_rate.push_back(static_cast<double>(opt.events) / t.publish_s);
        calls.push_back(static_cast<double>(t.slow_calls));
        conflated.push_back(static_cast<double>(t.conflated));
        behind.insert(behind.end(), t.behind.begin(), t.behind.end());
        age.insert(age.end(), t.age_ns.begin(), t.age_ns.end());
      }
      const auto b = percentiles_of(behind);
      const auto a = percentiles_of(age);
      const auto per_call = spread_of(pub_rate).median * opt.handler_us * 1e-6 / static_cast<double>(opt.instruments);
      const bool slow = has_slow_subscriber(kinds[v]);
      fmt::print("| {} | {:.2f} | {:.2f} | {:.2f} | {} | {} | {} | {} | {} |\n", name_of(kinds[v]),
                 spread_of(achieved).median / 1e6, spread_of(ratio).median, spread_of(pub_rate).median / 1e6,
                 slow ? fmt::format("{:.0f}", spread_of(calls).median) : "–",
                 slow ? fmt::format("{:.0f}", spread_of(conflated).median) : "–",
                 slow ? fmt::format("{:.0f} / {:.0f} / {:.0f} / {:.0f}", b.p50, b.p90, b.p99, b.max) : "–",
                 slow ? fmt::format("{:.2f}", per_call) : "–",
                 slow ? fmt::format("{} / {} / {}", us(a.p50), us(a.p90), us(a.p99)) : "–");
      jw.begin_object()
        .field("name", name_of(kinds[v]))
        .field("counting_mev_s", spread_of(achieved).median / 1e6)
        .field("ratio_to_alone", spread_of(ratio).median)
        .field("publisher_mev_s", spread_of(pub_rate).median / 1e6)
        .field("slow_calls", spread_of(calls).median)
        .field("conflated", spread_of(conflated).median)
        .key("behind")
        .begin_object()
        .field("p50", b.p50)
        .field("p90", b.p90)
        .field("p99", b.p99)
        .field("max", b.max)
        .end()
        .key("age");
      write_percentiles(jw, a);
      jw.end();
    }
    jw.end().end();
    fmt::print("\n");
  }
  jw.end().end();
  if (!opt.json.empty()) {
    write_file(opt.json, json + "\n");
    fmt::print("\nJSON: {}\n", opt.json);
  }
  return 0;
}
