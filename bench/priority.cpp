// libra-bench-priority: how long a CIRCUIT_BREAKER (RISK), an ORDER_NEW (ORDERS) or a SIGNAL
// (SIGNALS) event waits behind a MARKET_DATA backlog held for a slow subscriber, through the bus and
// through plain CAF actors, in the same process. Below, "the CB" is that one probe event; the CAF
// baselines always send a CIRCUIT_BREAKER (CAF knows no event priorities, only its two categories).
//
// One caf::actor_system configured by libra::configure_system(cfg, 2). Each variant keeps its actors
// (and, for the bus, its bus) for the whole run, like a long-lived deployment; the warm-up round
// (not recorded) pays the first-use costs (queue blocks, producer tokens, mailbox growth). Variants
// run interleaved, trial by trial (A, B, C, then C, B, A, ...: odd rounds reversed), because this
// machine's speed drifts:
//   A  the bus (one variant per --combos W:k and --probes type; default: bus_config's W and k,
//      and each of CIRCUIT_BREAKER, ORDER_NEW, SIGNAL). One subscriber actor (libra::on_events)
//      subscribed to TICK and the probe's type; capacity --capacity. The main thread publishes N
//      ticks through a bus::make_publisher() handle (each publish must return true), then the probe.
//   B  plain CAF, FIFO: the main thread caf::anon_sends N ticks, then the CIRCUIT_BREAKER, all in
//      the normal category, to raw_forwarder(urgent_risk=false) -> sink actor.
//   C  as B, but the CIRCUIT_BREAKER is anon_sent with message_priority::high and the forwarder
//      (urgent_risk=true) forwards it with high priority: what CAF's own urgent category gives.
// The subscriber / sink spins --spin-us (1 us) per tick (spin_for) and, on the CIRCUIT_BREAKER,
// records now - (time taken just before the publish/send call).
//
// "Staged": after the last tick went out, the main thread waits until the subscriber has handled
// --staged-after ticks (default N/100): the subscriber is then busy in steady state (for the bus,
// its credit window full), with the rest of the backlog behind it (for the bus in the broker's
// stages: stats().pending_of(priority::market_data) is read just before the CB and reported; for
// CAF in the forwarder's and the sink's mailboxes). The same rule holds for every variant, and
// the backlog left at that moment (N - ticks handled) is reported.
//
// Also reported: ticks handled between the CB's publish and its handler (handler work ahead of
// it), the CB's publish/send call time, and the drain time (first tick out -> last tick handled).
// After each trial: the bus must be idle (wait_idle) with exact counter deltas (N+1 published and
// dispatched and handled, nothing pending, refused or dropped), every sink exactly N ticks + 1 CB.
// Ratios B/A and C/A are per trial round (same round, same machine state), then the median.
// Between trials (untimed) malloc_trim(0) consolidates the heap, so that no trial's send pays for
// sorting the previous trial's 100k freed messages (see run_trial).
//
// Controls (unless --no-controls): A0 = the bus and B0 = plain CAF with no backlog (the CB alone,
// subscriber idle), in the same rounds, each after --control-gap-us (1 ms) of idleness so that both
// find CAF's workers in the same state: the floor a hop costs on the machine at that moment, so
// that a missed target can be told apart from a slow machine.
// --caf-aggressive-poll / --caf-moderate-sleep-us override CAF's work-stealing idle polling
// (work-stealing.aggressive-poll-attempts, .moderate-sleep-duration) for experiments; the default
// run uses configure_system(cfg, 2) only.
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
  std::size_t events = 100'000;
  std::size_t trials = 25;
  bool quick = false;
  std::string json;
  std::vector<std::string> combos; // empty: bus_config's defaults
  std::vector<std::string> probes{"CIRCUIT_BREAKER", "ORDER_NEW", "SIGNAL"};
  double spin_us = 1.0;
  std::size_t capacity = 1'000'000;
  std::size_t staged_after = 0; // 0: events / 100
  double timeout_s = 60;
  bool controls = true;
  std::int64_t control_gap_us = 1000;      // controls: idle time before the CB (same worker state for A0 and B0)
  std::int64_t caf_aggressive_poll = -1;   // < 0: CAF's default
  std::int64_t caf_moderate_sleep_us = -1; // < 0: CAF's default
};

// Targets (issue 16): RISK, ORDER_NEW and SIGNAL p50 <= 10 us, p90 <= 30 us, >= 20x better at p50
// than plain CAF FIFO.
constexpr double target_p50_ns = 10'000;
constexpr double target_p90_ns = 30'000;
constexpr double target_ratio = 20;

enum class kind { bus, caf_fifo, caf_urgent };

struct variant {
  std::string name;
  kind how = kind::bus;
  std::uint32_t window = 0;                       // W (bus only)
  std::uint32_t batch = 0;                        // k (bus only)
  bool idle = false;                              // control: no backlog, the CB alone
  event_type probe = event_type::circuit_breaker; // bus only: the event published behind the ticks
};

std::int64_t now_ns() { return bench_clock::now().time_since_epoch().count(); }

/// What the subscriber (or sink) observes. Written by that one actor; read by the main thread,
/// which resets it between trials while the actor is idle.
struct probe {
  probe(std::chrono::nanoseconds work, event_type probe_type) : spin{work}, type{probe_type} {}

  void reset(std::uint64_t n_ticks) {
    n = n_ticks;
    ticks.store(0);
    cbs.store(0);
    others.store(0);
    cb_latency_ns.store(0);
    ticks_at_cb.store(0);
    last_tick_ns.store(0);
    finished = false;
    done = std::promise<void>{};
  }

  void on_event(const event& e) {
    if (e.type() == event_type::tick) {
      spin_for(spin);
      const auto t = ticks.load(std::memory_order_relaxed) + 1;
      ticks.store(t, std::memory_order_relaxed);
      if (t == n)
        last_tick_ns.store(now_ns(), std::memory_order_relaxed);
    } else if (e.type() == type) {
      cb_latency_ns.store(now_ns() - cb_sent_ns.load(std::memory_order_acquire), std::memory_order_relaxed);
      ticks_at_cb.store(ticks.load(std::memory_order_relaxed), std::memory_order_relaxed);
      cbs.fetch_add(1, std::memory_order_relaxed);
    } else {
      others.fetch_add(1, std::memory_order_relaxed);
    }
    if (!finished && ticks.load(std::memory_order_relaxed) == n && cbs.load(std::memory_order_relaxed) != 0) {
      finished = true;
      done.set_value();
    }
  }

  const std::chrono::nanoseconds spin;
  const event_type type; // the probe's
  std::uint64_t n = 0;
  std::atomic<std::uint64_t> ticks{0};
  std::atomic<std::uint64_t> cbs{0};
  std::atomic<std::uint64_t> others{0};
  std::atomic<std::int64_t> cb_sent_ns{0}; // main thread, just before the CB's publish/send
  std::atomic<std::int64_t> cb_latency_ns{0};
  std::atomic<std::uint64_t> ticks_at_cb{0};
  std::atomic<std::int64_t> last_tick_ns{0};
  bool finished = false; // subscriber only
  std::promise<void> done;
};

struct trial {
  std::int64_t latency_ns = 0;      // CB publish/send -> CB handler start
  std::int64_t sent_at_ns = 0;      // steady clock when the CB was published (to match perf -k CLOCK_MONOTONIC)
  std::int64_t send_call_ns = 0;    // duration of the CB's publish/send call
  std::uint64_t backlog = 0;        // ticks not yet handled when the CB was published
  std::uint64_t ticks_ahead = 0;    // ticks handled between the CB's publish and its handler
  std::uint64_t pending_market = 0; // bus only: stats().pending_of(priority::market_data) before the CB
  double publish_s = 0;             // first tick out -> last tick out
  double drain_s = 0;               // first tick out -> last tick handled
};

/// The event published behind the ticks: a CIRCUIT_BREAKER (RISK), an ORDER_NEW (ORDERS) or a
/// SIGNAL (SIGNALS).
event make_probe_event(event_type t) {
  switch (payload_kind_of(t)) {
    case payload_kind::risk:
      return event::create(t, "risk.bench",
                           risk{risk_rule::circuit_breaker,
                                {},
                                0.05,
                                0.07,
                                std::make_shared<const std::string>("bench: drawdown 7% > 5%, trading halted")});
    case payload_kind::order: {
      order o;
      o.client_id = client_order_id{1};
      o.instrument = "EUR/USD";
      o.quantity = quantity::from_double(1);
      o.side = side::buy;
      return event::create(t, "execution.bench", o);
    }
    case payload_kind::signal:
      return event::create(t, "strategy.bench", signal{"EUR/USD", side::buy, 0.5, price::from_raw(1)});
    default:
      throw CLI::ValidationError("--probes", fmt::format("{}: not a RISK, order or SIGNAL type", to_string(t)));
  }
}

/// One variant's long-lived actors (and bus).
struct rig {
  variant v;
  std::shared_ptr<probe> pr;
  std::unique_ptr<bus> b;
  std::optional<publisher> pub;
  caf::actor subscriber; // bus: the subscriber actor; CAF: the sink
  caf::actor forwarder;  // CAF only
  event cb;              // the probe event published (sent) behind the ticks
};

rig make_rig(caf::actor_system& sys, const variant& v, const options& opt) {
  rig r{v,
        std::make_shared<probe>(std::chrono::nanoseconds{static_cast<std::int64_t>(opt.spin_us * 1e3)}, v.probe),
        {},
        {},
        {},
        {},
        make_probe_event(v.probe)};
  auto pr = r.pr;
  if (v.how == kind::bus) {
    bus_config cfg;
    cfg.capacity = opt.capacity;
    cfg.credit_window = v.window;
    cfg.batch_size = v.batch;
    cfg.name = "bench.priority";
    r.b = std::make_unique<bus>(sys, cfg);
    r.subscriber = sys.spawn([pr](caf::event_based_actor*) -> caf::behavior {
      return {on_events([pr](const event& e) { pr->on_event(e); })};
    });
    r.b->subscribe(event_type::tick, r.subscriber);
    r.b->subscribe(v.probe, r.subscriber);
    r.b->start();
    r.pub.emplace(r.b->make_publisher());
  } else {
    r.subscriber = sys.spawn(raw_sink<std::function<void(const event&)>>,
                             std::function<void(const event&)>{[pr](const event& e) { pr->on_event(e); }});
    r.forwarder = sys.spawn(raw_forwarder, r.subscriber, v.how == kind::caf_urgent);
  }
  return r;
}

void end_rig(rig& r) {
  r.pub.reset();
  r.b.reset(); // stops the bus (idle by now)
  if (r.forwarder)
    caf::anon_send_exit(r.forwarder, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(r.subscriber, caf::exit_reason::user_shutdown);
}

std::string describe(const bus_stats& s) {
  return fmt::format("published={} dispatched={} pending={} rejected_full={} rejected_closed={} dropped={} "
                     "errors={} handler_calls={}",
                     s.published, s.dispatched, s.pending, s.rejected_full, s.rejected_closed, s.dropped, s.errors,
                     s.handler_calls);
}

trial run_trial(rig& r, const std::vector<event>& ticks, const options& opt) {
  const auto& cb = r.cb;
  auto& pr = *r.pr;
  const auto n = r.v.idle ? std::size_t{0} : ticks.size();
  const auto staged_after =
    r.v.idle ? std::size_t{0} : (opt.staged_after == 0 ? std::max<std::size_t>(1, n / 100) : opt.staged_after);
  const auto timeout = std::chrono::duration<double>(opt.timeout_s);
  const auto deadline = bench_clock::now() + std::chrono::duration_cast<bench_clock::duration>(timeout);
  pr.reset(n);
  auto done = pr.done.get_future();
  const auto before = r.b ? r.b->stats() : bus_stats{};
  trial t;

  const auto t0 = bench_clock::now();
  if (r.b) {
    for (std::size_t i = 0; i < n; ++i)
      if (!r.pub->publish(ticks[i]))
        throw bench_failure(
          fmt::format("{}: publish of tick {} refused; bus: {}", r.v.name, i, describe(r.b->stats())));
  } else {
    for (std::size_t i = 0; i < n; ++i)
      caf::anon_send(r.forwarder, ticks[i]);
  }
  const auto t_published = bench_clock::now();
  while (pr.ticks.load(std::memory_order_relaxed) < staged_after) {
    if (bench_clock::now() > deadline)
      throw bench_failure(fmt::format("{}: subscriber handled {} of {} ticks within {} s", r.v.name, pr.ticks.load(),
                                      staged_after, opt.timeout_s));
    std::this_thread::sleep_for(std::chrono::microseconds{50});
  }
  if (r.b)
    t.pending_market = r.b->stats().pending_of(priority::market_data);
  if (r.v.idle) // controls start from the same state: CAF's workers idle (polling) for this long
    std::this_thread::sleep_for(std::chrono::microseconds{opt.control_gap_us});
  const auto handled_before = pr.ticks.load(std::memory_order_relaxed);
  const auto t_cb = now_ns();
  pr.cb_sent_ns.store(t_cb, std::memory_order_release);
  if (r.b) {
    if (!r.pub->publish(cb))
      throw bench_failure(fmt::format("{}: publish of the probe event refused", r.v.name));
  } else if (r.v.how == kind::caf_urgent) {
    caf::anon_send<caf::message_priority::high>(r.forwarder, cb);
  } else {
    caf::anon_send(r.forwarder, cb);
  }
  t.send_call_ns = now_ns() - t_cb;

  if (done.wait_until(deadline) != std::future_status::ready)
    throw bench_failure(fmt::format("{}: subscriber saw {} of {} ticks and {} circuit breakers within {} s{}", r.v.name,
                                    pr.ticks.load(), n, pr.cbs.load(), opt.timeout_s,
                                    r.b ? "; bus: " + describe(r.b->stats()) : std::string{}));
  t.latency_ns = pr.cb_latency_ns.load();
  t.sent_at_ns = t_cb;
  t.backlog = n - handled_before;
  t.ticks_ahead = pr.ticks_at_cb.load() - handled_before;
  t.publish_s = seconds_between(t0, t_published);
  t.drain_s = n == 0 ? 0 : static_cast<double>(pr.last_tick_ns.load() - t0.time_since_epoch().count()) / 1e9;

  // Not timed: exact counts.
  if (r.b) {
    const auto ms = std::chrono::milliseconds{static_cast<std::int64_t>(opt.timeout_s * 1000)};
    if (!r.b->wait_idle(ms))
      throw bench_failure(fmt::format("{}: not idle after the trial; bus: {}", r.v.name, describe(r.b->stats())));
  }
  if (pr.ticks.load() != n || pr.cbs.load() != 1 || pr.others.load() != 0)
    throw bench_failure(fmt::format("{}: subscriber saw {} ticks (of {}), {} circuit breakers (of 1), {} others",
                                    r.v.name, pr.ticks.load(), n, pr.cbs.load(), pr.others.load()));
  if (r.b) {
    const auto s = r.b->stats();
    const auto want = n + 1;
    if (s.published - before.published != want || s.dispatched - before.dispatched != want || s.pending != 0
        || s.handler_calls - before.handler_calls != want || s.rejected != before.rejected || s.dropped != 0
        || s.errors != 0)
      throw bench_failure(fmt::format("{}: wrong counters after {} events; before: {}; after: {}", r.v.name, want,
                                      describe(before), describe(s)));
  }
  // Untimed: consolidate the heap (the previous trial's 100k messages, freed on other threads) so
  // that the next trial's first allocation on this thread (the CB's mailbox element) does not pay
  // for sorting them; measured: without it, the trial after C paid 10-50 us in its send call.
  malloc_trim(0);
  return t;
}

// -- reporting ----------------------------------------------------------------------------------

struct results {
  std::vector<variant> variants;
  std::vector<std::vector<trial>> trials; // [variant][round]
  std::size_t fifo = 0;                   // index of B
  std::size_t urgent = 0;                 // index of C
};

std::vector<std::int64_t> latencies(const std::vector<trial>& ts) {
  std::vector<std::int64_t> out;
  for (const auto& t : ts)
    out.push_back(t.latency_ns);
  return out;
}

template <class F>
spread spread_by(const std::vector<trial>& ts, F f) {
  std::vector<double> xs;
  for (const auto& t : ts)
    xs.push_back(static_cast<double>(f(t)));
  return spread_of(xs);
}

/// Per round: baseline latency / bus latency.
std::vector<double> round_ratios(const results& r, std::size_t baseline, std::size_t v) {
  std::vector<double> out;
  for (std::size_t t = 0; t < r.trials[v].size(); ++t)
    out.push_back(static_cast<double>(r.trials[baseline][t].latency_ns)
                  / static_cast<double>(std::max<std::int64_t>(1, r.trials[v][t].latency_ns)));
  return out;
}

std::string wk(const variant& v, std::uint32_t x) { return v.how == kind::bus ? std::to_string(x) : "–"; }
const char* met(bool ok) { return ok ? "**met**" : "**missed**"; }

struct verdict {
  percentiles p;
  spread fifo_ratio;
  spread urgent_ratio;
  bool p50_ok = false;
  bool p90_ok = false;
  bool ratio_ok = false;
};

verdict judge(const results& r, std::size_t v) {
  verdict d;
  d.p = percentiles_of(latencies(r.trials[v]));
  d.fifo_ratio = spread_of(round_ratios(r, r.fifo, v));
  d.urgent_ratio = spread_of(round_ratios(r, r.urgent, v));
  d.p50_ok = d.p.p50 <= target_p50_ns;
  d.p90_ok = d.p.p90 <= target_p90_ns;
  d.ratio_ok = d.fifo_ratio.median >= target_ratio;
  return d;
}

/// One row per W:k, the probes' p50 / p90 side by side (RISK's beside ORDER_NEW's and SIGNAL's).
void print_by_probe(const results& r, const options& opt) {
  fmt::print("\n### Behind the same backlog, per priority: p50 / p90 us (publish -> handler start)\n\n| W:k |");
  for (const auto& name : opt.probes)
    fmt::print(" {} |", name);
  fmt::print("\n|---|");
  for (std::size_t i = 0; i < opt.probes.size(); ++i)
    fmt::print("---|");
  fmt::print("\n");
  for (std::size_t v = 0; v < r.variants.size();) {
    const auto& first = r.variants[v];
    if (first.how != kind::bus || first.idle) {
      ++v;
      continue;
    }
    fmt::print("| {}:{} |", first.window, first.batch);
    for (; v < r.variants.size() && r.variants[v].how == kind::bus && !r.variants[v].idle
           && r.variants[v].window == first.window && r.variants[v].batch == first.batch;
         ++v) {
      const auto p = percentiles_of(latencies(r.trials[v]));
      fmt::print(" {} / {} |", us(p.p50), us(p.p90));
    }
    fmt::print("\n");
  }
}

void print_tables(const results& r, const options& opt, std::size_t n) {
  fmt::print("### Probe latency behind the backlog (publish/send -> handler start, us; the CAF rows send a "
             "CIRCUIT_BREAKER)\n\n");
  fmt::print("| variant | W | k | p50 | p90 | p99 | max | ticks handled ahead of the CB, median (max) | "
             "their spin, median us | backlog at the CB, median | bus stage MARKET_DATA at the CB, median | "
             "CB publish/send call, median us | drain, median ms | drain, median Mev/s |\n");
  fmt::print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (std::size_t v = 0; v < r.variants.size(); ++v) {
    const auto& var = r.variants[v];
    const auto& ts = r.trials[v];
    const auto p = percentiles_of(latencies(ts));
    const auto ahead = spread_by(ts, [](const trial& t) { return t.ticks_ahead; });
    const auto drain = spread_by(ts, [](const trial& t) { return t.drain_s; });
    fmt::print("| {} | {} | {} | {} | {} | {} | {} | {:.0f} ({:.0f}) | {:.1f} | {:.0f} | {} | {:.2f} | {} | {} |\n",
               var.name, wk(var, var.window), wk(var, var.batch), us(p.p50), us(p.p90), us(p.p99), us(p.max),
               ahead.median, ahead.max, ahead.median * opt.spin_us,
               spread_by(ts, [](const trial& t) { return t.backlog; }).median,
               var.how == kind::bus
                 ? fmt::format("{:.0f}", spread_by(ts, [](const trial& t) { return t.pending_market; }).median)
                 : std::string{"–"},
               spread_by(ts, [](const trial& t) { return t.send_call_ns; }).median / 1e3,
               var.idle ? std::string{"–"} : fmt::format("{:.1f}", drain.median * 1e3),
               var.idle ? std::string{"–"} : fmt::format("{:.3f}", static_cast<double>(n) / drain.median / 1e6));
  }

  const auto fifo = percentiles_of(latencies(r.trials[r.fifo]));
  const auto urgent = percentiles_of(latencies(r.trials[r.urgent]));
  fmt::print("\n### Ratios (how many times faster the bus delivers the CB)\n\n");
  fmt::print("| bus variant | B/A per round: median (min–max) | C/A per round: median (min–max) | p50 B / p50 A | "
             "p90 B / p90 A | p50 C / p50 A | p90 C / p90 A |\n|---|---|---|---|---|---|---|\n");
  for (std::size_t v = 0; v < r.variants.size(); ++v) {
    if (r.variants[v].how != kind::bus || r.variants[v].idle)
      continue;
    const auto d = judge(r, v);
    fmt::print("| {} | {:.0f} ({:.0f}–{:.0f}) | {:.1f} ({:.1f}–{:.1f}) | {:.0f} | {:.0f} | {:.1f} | {:.1f} |\n",
               r.variants[v].name, d.fifo_ratio.median, d.fifo_ratio.min, d.fifo_ratio.max, d.urgent_ratio.median,
               d.urgent_ratio.min, d.urgent_ratio.max, fifo.p50 / d.p.p50, fifo.p90 / d.p.p90, urgent.p50 / d.p.p50,
               urgent.p90 / d.p.p90);
  }

  print_by_probe(r, opt);

  fmt::print("\n### Targets: RISK, ORDER_NEW and SIGNAL p50 <= {:.0f} us, p90 <= {:.0f} us, >= {:.0f}x plain CAF FIFO "
             "at p50 (median of "
             "per-round ratios)\n\n| bus variant | p50 | p90 | x FIFO |\n|---|---|---|---|\n",
             target_p50_ns / 1e3, target_p90_ns / 1e3, target_ratio);
  for (std::size_t v = 0; v < r.variants.size(); ++v) {
    if (r.variants[v].how != kind::bus || r.variants[v].idle)
      continue;
    const auto d = judge(r, v);
    fmt::print("| {} | {} us {} | {} us {} | {:.0f}x {} |\n", r.variants[v].name, us(d.p.p50), met(d.p50_ok),
               us(d.p.p90), met(d.p90_ok), d.fifo_ratio.median, met(d.ratio_ok));
  }

  fmt::print("\nPer round, CB latency in us (ratios above compare within a row):\n\n| round |");
  for (const auto& var : r.variants)
    fmt::print(" {} |", var.name);
  fmt::print("\n|---|");
  for (std::size_t v = 0; v < r.variants.size(); ++v)
    fmt::print("---|");
  fmt::print("\n");
  for (std::size_t t = 0; t < r.trials[0].size(); ++t) {
    fmt::print("| {} |", t + 1);
    for (std::size_t v = 0; v < r.variants.size(); ++v)
      fmt::print(" {} |", us(static_cast<double>(r.trials[v][t].latency_ns)));
    fmt::print("\n");
  }
}

void write_json(const std::string& path, const environment& env, const options& opt, const results& r, std::size_t n,
                std::size_t staged_after, std::size_t workers, std::size_t max_throughput) {
  std::string out;
  libra::json_writer w{out};
  begin_results(w, "libra-bench-priority", env);
  w.field("events", n)
    .field("trials", opt.trials)
    .field("spin_ns", opt.spin_us * 1e3)
    .field("capacity", opt.capacity)
    .field("staged_after_ticks", staged_after)
    .field("scheduler_workers", workers)
    .field("scheduler_max_throughput", max_throughput)
    .field("caf_aggressive_poll_override", opt.caf_aggressive_poll)
    .field("caf_moderate_sleep_us_override", opt.caf_moderate_sleep_us)
    .key("targets")
    .begin_object()
    .field("p50_ns", target_p50_ns)
    .field("p90_ns", target_p90_ns)
    .field("ratio_to_fifo", target_ratio)
    .end()
    .key("variants")
    .begin_array();
  for (std::size_t v = 0; v < r.variants.size(); ++v) {
    const auto& var = r.variants[v];
    const auto& ts = r.trials[v];
    w.begin_object()
      .field("name", var.name)
      .field("kind", var.how == kind::bus ? "bus" : (var.how == kind::caf_fifo ? "caf_fifo" : "caf_urgent"))
      .field("probe", to_string(var.probe))
      .field("no_backlog", var.idle)
      .field("credit_window", var.window)
      .field("batch_size", var.batch)
      .key("latency");
    write_percentiles(w, percentiles_of(latencies(ts)));
    w.key("ticks_ahead");
    write_spread(w, spread_by(ts, [](const trial& t) { return t.ticks_ahead; }));
    w.key("drain_s");
    write_spread(w, spread_by(ts, [](const trial& t) { return t.drain_s; }));
    if (var.how == kind::bus && !var.idle) {
      const auto d = judge(r, v);
      const auto fifo = percentiles_of(latencies(r.trials[r.fifo]));
      const auto urgent = percentiles_of(latencies(r.trials[r.urgent]));
      w.key("ratio_fifo_per_round");
      write_spread(w, d.fifo_ratio);
      w.key("ratio_urgent_per_round");
      write_spread(w, d.urgent_ratio);
      w.field("ratio_fifo_p50", fifo.p50 / d.p.p50)
        .field("ratio_fifo_p90", fifo.p90 / d.p.p90)
        .field("ratio_urgent_p50", urgent.p50 / d.p.p50)
        .field("ratio_urgent_p90", urgent.p90 / d.p.p90)
        .key("targets_met")
        .begin_object()
        .field("p50", d.p50_ok)
        .field("p90", d.p90_ok)
        .field("ratio", d.ratio_ok)
        .end();
    }
    w.key("trials").begin_array();
    for (const auto& t : ts)
      w.begin_object()
        .field("latency_ns", t.latency_ns)
        .field("sent_at_ns", t.sent_at_ns)
        .field("send_call_ns", t.send_call_ns)
        .field("backlog", t.backlog)
        .field("ticks_ahead", t.ticks_ahead)
        .field("pending_market_data", t.pending_market)
        .field("publish_s", t.publish_s)
        .field("drain_s", t.drain_s)
        .end();
    w.end().end();
  }
  w.end().end();
  write_file(path, out + "\n");
}

std::vector<variant> make_variants(const options& opt) {
  std::vector<variant> vs;
  const bus_config defaults;
  auto combos = opt.combos;
  if (combos.empty())
    combos.push_back(fmt::format("{}:{}", defaults.credit_window, defaults.batch_size));
  for (const auto& combo : combos) {
    unsigned w = 0;
    unsigned k = 0;
    char tail = 0;
    if (std::sscanf(combo.c_str(), "%u:%u%c", &w, &k, &tail) != 2 || w == 0 || k == 0 || k > w)
      throw CLI::ValidationError("--combos", fmt::format("'{}' is not W:k with 1 <= k <= W", combo));
    for (const auto& name : opt.probes) {
      event_type t{};
      if (!from_string(name, t)
          || (t != event_type::circuit_breaker && t != event_type::order_new && t != event_type::signal))
        throw CLI::ValidationError("--probes", fmt::format("'{}': one of CIRCUIT_BREAKER, ORDER_NEW, SIGNAL", name));
      vs.push_back({fmt::format("A bus W={} k={} {}", w, k, name), kind::bus, w, k, false, t});
    }
  }
  vs.push_back({"B CAF FIFO", kind::caf_fifo, 0, 0});
  vs.push_back({"C CAF urgent", kind::caf_urgent, 0, 0});
  if (opt.controls) {
    vs.push_back(
      {fmt::format("A0 bus W={} k={} {}, no backlog", vs.front().window, vs.front().batch, to_string(vs.front().probe)),
       kind::bus, vs.front().window, vs.front().batch, true, vs.front().probe});
    vs.push_back({"B0 CAF, no backlog", kind::caf_fifo, 0, 0, true});
  }
  return vs;
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  CLI::App app{"libra-bench-priority: CIRCUIT_BREAKER latency behind a staged tick backlog, bus vs plain CAF"};
  app.add_option("--events", opt.events, "ticks staged before the CIRCUIT_BREAKER")->check(CLI::PositiveNumber);
  app.add_option("--trials", opt.trials, "trials per variant")->check(CLI::PositiveNumber);
  const bench_cli cli{app, opt.quick, opt.json, "20k ticks, 3 trials"};
  app.add_option("--combos", opt.combos, "bus (credit window W : batch size k) pairs, one variant each, e.g. 16:8,4:4")
    ->delimiter(',');
  app
    .add_option("--probes", opt.probes,
                "event types published behind the ticks at the bus, one variant each per W:k (CIRCUIT_BREAKER, "
                "ORDER_NEW, SIGNAL)")
    ->delimiter(',');
  app.add_option("--spin-us", opt.spin_us, "handler work per tick, microseconds")->check(CLI::NonNegativeNumber);
  app.add_option("--capacity", opt.capacity, "bus capacity (ticks may use 80% of it)")->check(CLI::PositiveNumber);
  app.add_option("--staged-after", opt.staged_after,
                 "publish the CB once the subscriber has handled this many ticks (default events/100)");
  app.add_option("--timeout", opt.timeout_s, "seconds before a trial counts as hung")->check(CLI::PositiveNumber);
  app.add_flag("!--no-controls", opt.controls, "skip the no-backlog controls A0 and B0");
  app.add_option("--control-gap-us", opt.control_gap_us, "controls: idle microseconds before the CB")
    ->check(CLI::NonNegativeNumber);
  app.add_option("--caf-aggressive-poll", opt.caf_aggressive_poll,
                 "experiment: CAF work-stealing.aggressive-poll-attempts (default: CAF's)");
  app.add_option("--caf-moderate-sleep-us", opt.caf_moderate_sleep_us,
                 "experiment: CAF work-stealing.moderate-sleep-duration in us (default: CAF's)");
  CLI11_PARSE(app, argc, argv);
  cli.quick("--events", opt.events, 20'000).quick("--trials", opt.trials, 3);
  std::vector<variant> variants;
  try {
    variants = make_variants(opt);
    // MARKET_DATA may fill 80% of capacity (admission shares, bus_core.hpp).
    if (static_cast<double>(opt.events) > 0.8 * static_cast<double>(opt.capacity))
      throw CLI::ValidationError("--capacity", fmt::format("{} ticks need --capacity >= {:.0f} (MARKET_DATA's share "
                                                           "is 80%)",
                                                           opt.events, static_cast<double>(opt.events) / 0.8));
    if (opt.staged_after > opt.events)
      throw CLI::ValidationError("--staged-after", "must not exceed --events");
  } catch (const CLI::Error& e) {
    return app.exit(e);
  }
  const auto n = opt.events;
  const auto staged_after = opt.staged_after == 0 ? std::max<std::size_t>(1, n / 100) : opt.staged_after;

  spdlog::set_level(spdlog::level::warn); // the bus logs every stop at info
  caf::actor_system_config cfg;
  configure_system(cfg, 2);
  if (opt.caf_aggressive_poll >= 0)
    cfg.set("work-stealing.aggressive-poll-attempts", opt.caf_aggressive_poll);
  if (opt.caf_moderate_sleep_us >= 0)
    cfg.set("work-stealing.moderate-sleep-duration",
            caf::timespan{std::chrono::microseconds{opt.caf_moderate_sleep_us}});
  caf::actor_system sys{cfg};
  const auto workers = sys.scheduler().num_workers();
  const auto max_throughput = caf::get_or(sys.config(), "scheduler.max-throughput", std::size_t{0});
  const auto env = probe_environment();

  const auto ticks = make_ticks(n);
  results r{variants, std::vector<std::vector<trial>>(variants.size()), 0, 0};
  for (std::size_t v = 0; v < variants.size(); ++v) {
    if (variants[v].how == kind::caf_fifo && !variants[v].idle)
      r.fifo = v;
    if (variants[v].how == kind::caf_urgent)
      r.urgent = v;
  }
  std::vector<rig> rigs;
  int rc = 0;
  try {
    for (const auto& v : variants)
      rigs.push_back(make_rig(sys, v, opt));
    // One warm-up round, not recorded (first-use allocations of queues, mailboxes, tokens).
    for (auto& rg : rigs)
      (void)run_trial(rg, ticks, opt);
    for (std::size_t t = 0; t < opt.trials; ++t) {
      // Odd rounds run the variants in reverse order: a trial pays for what the one before it
      // left behind (cold caches and scheduler state after ~1 s away, heap); reversing spreads
      // that evenly (measured: the control that ran first paid 10-60 us more in its send call).
      for (std::size_t i = 0; i < rigs.size(); ++i) {
        const auto v = t % 2 == 0 ? i : rigs.size() - 1 - i;
        r.trials[v].push_back(run_trial(rigs[v], ticks, opt));
      }
      fmt::print(stderr, "priority: round {}/{} done\n", t + 1, opt.trials);
    }
  } catch (const bench_failure& e) {
    std::fflush(stdout);
    fmt::print(stderr, "libra-bench-priority: FAILED: {}\n", e.what());
    rc = 2;
  }
  for (auto& rg : rigs)
    end_rig(rg);
  if (rc != 0)
    return rc;

  print_header("libra-bench-priority", env);
  fmt::print(
    "{} ticks, then one CIRCUIT_BREAKER once the subscriber has handled {} ticks; handler work {} us per "
    "tick (spin); {} trials per variant, interleaved (after 1 warm-up round); actor system: {} workers, "
    "max-throughput {}; bus capacity {}. A = libra bus (subscriber actor, on_events); B = plain CAF "
    "publisher -> forwarder -> sink, all normal priority (FIFO); C = as B with the CB sent high priority "
    "at both hops; A0/B0 = controls, the CB alone with no backlog.{}\n\n",
    n, staged_after, opt.spin_us, opt.trials, workers, max_throughput, opt.capacity,
    opt.caf_aggressive_poll < 0 && opt.caf_moderate_sleep_us < 0
      ? std::string{}
      : fmt::format(" CAF overrides: aggressive-poll-attempts {}, moderate-sleep-duration {} us (-1 = default).",
                    opt.caf_aggressive_poll, opt.caf_moderate_sleep_us));
  print_tables(r, opt, n);
  if (!opt.json.empty()) {
    write_json(opt.json, env, opt, r, n, staged_after, workers, max_throughput);
    fmt::print("\nJSON: {}\n", opt.json);
  }
  return 0;
}
