// libra-bench-memory: bytes per staged event and the process's RSS while a bus is held at capacity,
// over repeated fill/drain cycles ("memory bounded by capacity").
//
// One caf::actor_system configured by libra::configure_system(cfg, 2). For each --capacities C
// (default 100,000 and 1,000,000), one bus with capacity C, started, with one callback
// subscriber to TICK whose handler blocks on a gate (std::atomic<bool>::wait) while the gate is
// closed. Why a blocked subscriber rather than a bus that is not started: it is the production
// shape (a stalled consumer behind a running broker), the broker keeps dispatching and releasing
// capacity as usual (the W events sent to the subscriber before it blocked are in flight, counted
// as dispatched), the drain goes through the real dispatch path, and a started bus can be filled
// and drained any number of times (a bus that was never started can be drained only once, by
// start()). The handler blocks one of the two CAF workers while the gate is closed; the broker runs
// on the other.
//
// Each cycle (--cycles, default 4): close the gate; make 2C publish() attempts (one publisher
// handle, ticks made on the fly with make_tick so that no event vector inflates RSS); admitted =
// attempts that returned true. The bus then holds its MARKET_DATA share of C (80%) pending, plus W
// in flight. Checks: after the first refusal at most W more publishes are accepted (the broker may
// hand its first W events to the subscriber, which then blocks, just after the publisher first saw
// the bus full), pending == that share exactly, stats().rejected_full grew by exactly the refused
// attempts. RSS is read before the fill, at full, and after the gate opens and the bus
// drains (wait_idle; every admitted event handled exactly once, counters exact).
// Bytes per staged event = (RSS at full - RSS of the empty bus) / admitted, first cycle (later
// cycles reuse the queue blocks the first one allocated). RSS is read from /proc/self/statm; free
// heap is returned to the OS (malloc_trim) before the baseline readings, so that one capacity's
// freed memory does not hide the next one's growth.
#include "common.hpp"

#include <libra/system_config.hpp>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <malloc.h>

#include <cstdio>
#include <optional>

namespace {

using namespace libra;
using namespace libra::bench;

struct options {
  std::vector<std::size_t> capacities{100'000, 1'000'000};
  std::size_t cycles = 4;
  double attempts_factor = 2; // publish attempts per fill, x capacity
  std::size_t publishers = 1; // publisher handles, used round robin, one per cycle
  bool quick = false;
  std::string json;
  double timeout_s = 60;
};

/// Share of capacity MARKET_DATA may fill (bus_config.hpp: admission shares).
constexpr double market_data_share = 0.80;

/// A handler's gate: closed, it blocks the subscriber actor until opened.
struct gate {
  void close() { closed.store(true); }
  void open() {
    closed.store(false);
    closed.notify_all();
  }
  void pass() const { closed.wait(true); }
  std::atomic<bool> closed{false};
};

struct cycle {
  std::uint64_t attempts = 0;
  std::uint64_t admitted = 0;
  std::uint64_t first_refusal = 0; // index of the first refused attempt
  std::uint64_t late_admits = 0;   // admitted after the first refusal (at most the W in flight)
  std::uint64_t pending_full = 0;  // stats().pending at full
  std::uint64_t in_flight = 0;     // dispatched during the fill (to the blocked subscriber)
  std::uint64_t rejected_full = 0; // stats().rejected_full grew by this much
  std::size_t rss_before = 0;      // before the fill
  std::size_t rss_full = 0;        // at full
  std::size_t rss_drained = 0;     // after the drain
  double fill_s = 0;
  double drain_s = 0;
};

struct capacity_run {
  std::size_t capacity = 0;
  std::uint32_t window = 0;
  std::size_t rss_start = 0;   // before the bus exists (after malloc_trim)
  std::size_t rss_empty = 0;   // bus created, started, subscribed, empty
  std::size_t rss_stopped = 0; // bus destroyed
  std::size_t rss_trimmed = 0; // then malloc_trim(0)
  std::vector<cycle> cycles;
};

std::string describe(const bus_stats& s) {
  return fmt::format("published={} dispatched={} pending={} rejected_full={} rejected_closed={} dropped={} "
                     "errors={} handler_calls={}",
                     s.published, s.dispatched, s.pending, s.rejected_full, s.rejected_closed, s.dropped, s.errors,
                     s.handler_calls);
}

std::size_t trimmed_rss() {
  malloc_trim(0);
  return rss_bytes();
}

capacity_run run_capacity(caf::actor_system& sys, std::size_t capacity, const options& opt) {
  capacity_run out;
  out.capacity = capacity;
  const auto ms = std::chrono::milliseconds{static_cast<std::int64_t>(opt.timeout_s * 1000)};
  const auto share =
    std::max<std::uint64_t>(1, static_cast<std::uint64_t>(static_cast<double>(capacity) * market_data_share));
  out.rss_start = trimmed_rss();
  {
    bus_config cfg;
    cfg.capacity = capacity;
    cfg.name = "bench.memory";
    out.window = cfg.credit_window;
    bus b{sys, cfg};
    auto g = std::make_shared<gate>();
    auto handled = std::make_shared<std::atomic<std::uint64_t>>(0);
    b.subscribe(event_type::tick, [g, handled](const event&) {
      g->pass();
      handled->fetch_add(1, std::memory_order_relaxed);
    });
    b.start();
    std::vector<publisher> pubs;
    for (std::size_t i = 0; i < opt.publishers; ++i)
      pubs.push_back(b.make_publisher());
    if (!b.wait_idle(ms))
      throw bench_failure("a new bus is not idle");
    out.rss_empty = trimmed_rss();

    std::string failure;
    for (std::size_t c = 0; c < opt.cycles && failure.empty(); ++c) {
      cycle cy;
      cy.attempts = static_cast<std::uint64_t>(static_cast<double>(capacity) * opt.attempts_factor);
      const auto before = b.stats();
      const auto handled_before = handled->load();
      g->close();
      cy.rss_before = rss_bytes();
      bool refused = false;
      std::uint64_t accepted_after_refusal = 0;
      auto& pub = pubs[c % pubs.size()];
      const auto t0 = bench_clock::now();
      for (std::uint64_t i = 0; i < cy.attempts; ++i) {
        if (pub.publish(make_tick(i))) {
          ++cy.admitted;
          accepted_after_refusal += refused ? 1 : 0;
        } else if (!refused) {
          refused = true;
          cy.first_refusal = i;
        }
      }
      cy.fill_s = seconds_between(t0, bench_clock::now());
      cy.late_admits = accepted_after_refusal;
      const auto full = b.stats();
      cy.rss_full = rss_bytes();
      cy.pending_full = full.pending;
      cy.in_flight = full.dispatched - before.dispatched;
      cy.rejected_full = full.rejected_full - before.rejected_full;
      const auto early = handled->load() - handled_before; // the subscriber is blocked: 0

      const auto t1 = bench_clock::now();
      g->open();
      const bool idle = b.wait_idle(ms);
      cy.drain_s = seconds_between(t1, bench_clock::now());
      cy.rss_drained = rss_bytes();
      const auto after = b.stats();
      const auto got = handled->load() - handled_before;

      // A running broker may release its first W events (sent to the subscriber, which then
      // blocks) only after the publisher first saw the bus full: up to W more are admitted then.
      if (!refused || accepted_after_refusal > cy.in_flight || early != 0)
        failure = fmt::format("C={} cycle {}: not held at capacity: refused={} first refusal at {} admitted={} "
                              "accepted after the first refusal={} (in flight {}) handled while blocked={}",
                              capacity, c + 1, refused, cy.first_refusal, cy.admitted, accepted_after_refusal,
                              cy.in_flight, early);
      else if (cy.pending_full != share || cy.admitted != cy.pending_full + cy.in_flight
               || cy.rejected_full != cy.attempts - cy.admitted)
        failure = fmt::format("C={} cycle {}: at full: pending={} (want the MARKET_DATA share {}), in flight={}, "
                              "admitted={}, rejected_full grew by {} (want {})",
                              capacity, c + 1, cy.pending_full, share, cy.in_flight, cy.admitted, cy.rejected_full,
                              cy.attempts - cy.admitted);
      else if (!idle || got != cy.admitted || after.published - before.published != cy.admitted
               || after.dispatched - before.dispatched != cy.admitted || after.pending != 0
               || after.handler_calls - before.handler_calls != cy.admitted || after.rejected_closed != 0
               || after.dropped != 0 || after.errors != 0)
        failure = fmt::format("C={} cycle {}: drain: idle={} handled={} of {}; before: {}; after: {}", capacity, c + 1,
                              idle, got, cy.admitted, describe(before), describe(after));
      out.cycles.push_back(cy);
      fmt::print(stderr, "memory: capacity {} cycle {}/{} done\n", capacity, c + 1, opt.cycles);
    }
    g->open(); // never leave the subscriber blocked (the bus's stop drains)
    if (!failure.empty())
      throw bench_failure(failure);
    b.stop(ms);
  }
  // The broker and the subscriber actor hold the bus's core (its queues) until they have
  // terminated, which happens asynchronously after stop(): wait for them.
  sys.await_all_actors_done();
  out.rss_stopped = rss_bytes();
  out.rss_trimmed = trimmed_rss();
  return out;
}

// -- reporting ----------------------------------------------------------------------------------

double mib(double bytes) { return bytes / (1024.0 * 1024.0); }
double sdiff(std::size_t a, std::size_t b) { return static_cast<double>(a) - static_cast<double>(b); }

double bytes_per_event(const capacity_run& r) {
  const auto& c = r.cycles.front();
  return sdiff(c.rss_full, r.rss_empty) / static_cast<double>(c.admitted);
}

/// RSS at full in later cycles minus the first cycle's (max over cycles), bytes.
double later_growth(const capacity_run& r) {
  double worst = 0;
  for (const auto& c : r.cycles)
    worst = std::max(worst, sdiff(c.rss_full, r.cycles.front().rss_full));
  return worst;
}

/// Bounded: later cycles at full stay within 1 MiB + 2% of the first fill's growth.
bool bounded(const capacity_run& r) {
  const auto first = sdiff(r.cycles.front().rss_full, r.rss_empty);
  return later_growth(r) <= 1024.0 * 1024.0 + 0.02 * std::max(0.0, first);
}

void print_tables(const std::vector<capacity_run>& runs) {
  fmt::print("### Per cycle (RSS in MiB; each fill makes attempts = {}x capacity publish() calls)\n\n",
             runs.empty() ? 0.0
                          : static_cast<double>(runs.front().cycles.front().attempts)
                              / static_cast<double>(runs.front().capacity));
  fmt::print("| capacity | cycle | admitted | pending at full | in flight (W) | refused = rejected_full | "
             "RSS before fill | RSS at full | fill growth | bytes / admitted event | RSS after drain | fill ms | "
             "drain ms |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& r : runs)
    for (std::size_t i = 0; i < r.cycles.size(); ++i) {
      const auto& c = r.cycles[i];
      const auto growth = sdiff(c.rss_full, c.rss_before);
      fmt::print("| {} | {} | {} | {} | {} | {} | {:.1f} | {:.1f} | {:.1f} | {:.0f} | {:.1f} | {:.0f} | {:.0f} |\n",
                 r.capacity, i + 1, c.admitted, c.pending_full, c.in_flight, c.rejected_full,
                 mib(static_cast<double>(c.rss_before)), mib(static_cast<double>(c.rss_full)), mib(growth),
                 growth / static_cast<double>(c.admitted), mib(static_cast<double>(c.rss_drained)), c.fill_s * 1e3,
                 c.drain_s * 1e3);
    }
  fmt::print("\n### Summary (RSS in MiB; sizeof(libra::event) = {} bytes)\n\n", sizeof(event));
  fmt::print("| capacity | RSS before the bus | empty bus | at full, cycle 1 | bytes per staged event (cycle 1) | "
             "x sizeof(event) | later cycles at full vs cycle 1, max | bounded | after drain, last cycle | "
             "bus destroyed | then malloc_trim |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& r : runs) {
    const auto bpe = bytes_per_event(r);
    fmt::print("| {} | {:.1f} | {:.1f} | {:.1f} | {:.0f} | {:.2f} | {:+.2f} | {} | {:.1f} | {:.1f} | {:.1f} |\n",
               r.capacity, mib(static_cast<double>(r.rss_start)), mib(static_cast<double>(r.rss_empty)),
               mib(static_cast<double>(r.cycles.front().rss_full)), bpe, bpe / static_cast<double>(sizeof(event)),
               mib(later_growth(r)), bounded(r) ? "**yes**" : "**no**",
               mib(static_cast<double>(r.cycles.back().rss_drained)), mib(static_cast<double>(r.rss_stopped)),
               mib(static_cast<double>(r.rss_trimmed)));
  }
}

void write_json(const std::string& path, const environment& env, const options& opt,
                const std::vector<capacity_run>& runs) {
  std::string out;
  libra::json_writer w{out};
  begin_results(w, "libra-bench-memory", env);
  w.field("cycles", opt.cycles)
    .field("attempts_factor", opt.attempts_factor)
    .field("publishers", opt.publishers)
    .field("sizeof_event", sizeof(event))
    .field("market_data_share", market_data_share)
    .key("capacities")
    .begin_array();
  for (const auto& r : runs) {
    w.begin_object()
      .field("capacity", r.capacity)
      .field("credit_window", r.window)
      .field("rss_start", r.rss_start)
      .field("rss_empty_bus", r.rss_empty)
      .field("bytes_per_staged_event", bytes_per_event(r))
      .field("later_cycles_growth_bytes", later_growth(r))
      .field("bounded", bounded(r))
      .field("rss_bus_destroyed", r.rss_stopped)
      .field("rss_after_trim", r.rss_trimmed)
      .key("cycles")
      .begin_array();
    for (const auto& c : r.cycles)
      w.begin_object()
        .field("attempts", c.attempts)
        .field("admitted", c.admitted)
        .field("pending_at_full", c.pending_full)
        .field("in_flight", c.in_flight)
        .field("rejected_full", c.rejected_full)
        .field("admitted_after_first_refusal", c.late_admits)
        .field("rss_before", c.rss_before)
        .field("rss_full", c.rss_full)
        .field("rss_drained", c.rss_drained)
        .field("fill_s", c.fill_s)
        .field("drain_s", c.drain_s)
        .end();
    w.end().end();
  }
  w.end().end();
  write_file(path, out + "\n");
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  CLI::App app{"libra-bench-memory: bytes per staged event and RSS with the bus held at capacity"};
  app.add_option("--capacities", opt.capacities, "bus capacity values")->delimiter(',')->check(CLI::PositiveNumber);
  app.add_option("--cycles", opt.cycles, "fill/drain cycles per capacity")->check(CLI::PositiveNumber);
  app.add_option("--attempts", opt.attempts_factor, "publish attempts per fill, x capacity (>= 1)")
    ->check(CLI::Range(1.0, 100.0));
  app.add_option("--publishers", opt.publishers, "publisher handles, one per cycle round robin (default 1)")
    ->check(CLI::PositiveNumber);
  const bench_cli cli{app, opt.quick, opt.json, "capacity 20k, 2 cycles"};
  app.add_option("--timeout", opt.timeout_s, "seconds before a drain counts as hung")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  cli.quick("--capacities", opt.capacities, decltype(opt.capacities){20'000}).quick("--cycles", opt.cycles, 2);

  spdlog::set_level(spdlog::level::warn); // the bus logs every stop at info
  caf::actor_system_config cfg;
  configure_system(cfg, 2);
  caf::actor_system sys{cfg};
  const auto env = probe_environment();

  std::vector<capacity_run> runs;
  try {
    for (const auto c : opt.capacities)
      runs.push_back(run_capacity(sys, c, opt));
  } catch (const bench_failure& e) {
    std::fflush(stdout);
    fmt::print(stderr, "libra-bench-memory: FAILED: {}\n", e.what());
    return 2;
  }

  print_header("libra-bench-memory", env);
  fmt::print("Bus started, one TICK subscriber blocked in its handler (gate) during each fill; fills of {}x capacity "
             "publish() attempts (cycle c uses publisher handle c mod P, P = {}), then the gate opens and the bus "
             "drains (wait_idle). MARKET_DATA may fill {:.0f}% of capacity; W events are in flight to the blocked "
             "subscriber. {} cycles per capacity. Bytes per staged event = (RSS at full - RSS of the empty bus) / "
             "admitted, cycle 1. 'bounded' = later cycles at full within 1 MiB + 2% of the first fill's growth.\n\n",
             opt.attempts_factor, opt.publishers, market_data_share * 100, opt.cycles);
  print_tables(runs);
  if (!opt.json.empty()) {
    write_json(opt.json, env, opt, runs);
    fmt::print("\nJSON: {}\n", opt.json);
  }
  return 0;
}
