// libra-bench-throughput: events per second from publisher threads to subscribers' handlers, through
// the bus, relative to a plain CAF forwarding actor measured in the same process with the same
// numbers of publishers and subscribers.
//
// One caf::actor_system configured by libra::configure_system(cfg, 2); variants run interleaved,
// trial by trial (A, B, C, ..., A, B, C, ...), because this machine's speed drifts:
//   A  raw CAF: a std::thread anon_sends N events, one per message, to a forwarding actor that
//      sends each on to a counting sink actor. No flow control: the forwarder's mailbox may grow.
//   B  bus publish(): a fresh bus per trial, one callback subscriber counting ticks, one publisher
//      (bus::make_publisher) calling publish() N times, retrying (yield) while the bus is full.
//   C  bus publish_many() in chunks of --chunk (64), otherwise as B.
// B and C run once per (W, k) in --combos (1 publisher, 1 subscriber), then with the default W/k
// for each count in --subscribers (the forwarder sends each event to every sink; N / subscribers
// events, so that deliveries stay N) and in --publishers (each thread publishes its share of N).
// Timed: first send/publish -> the last counting actor saw its last event. Events are created before the clock starts;
// each send/publish copies one (128 bytes). Ratios are per trial (same round), then the median.
#include "common.hpp"

#include <libra/system_config.hpp>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <span>

namespace {

using namespace libra::bench;

struct options {
  std::size_t events = 1'000'000;
  std::size_t trials = 5;
  bool quick = false;
  std::string json;
  std::vector<std::string> combos{"16:8", "64:32"};
  std::vector<std::size_t> subscribers{4, 16};
  std::vector<std::size_t> publishers{2, 4};
  std::size_t chunk = 64;
  double timeout_s = 60;
};

enum class method { raw_caf, publish, publish_many };

struct variant {
  std::string name;
  method how = method::raw_caf;
  std::uint32_t window = 0; // W (bus variants only)
  std::uint32_t batch = 0;  // k (bus variants only)
  std::size_t subs = 1;
  std::size_t pubs = 1;
  std::size_t baseline = 0; // index of the raw CAF variant with the same subs/pubs
};

/// Events per trial of a variant: N / subscribers, so that every variant makes N deliveries.
std::size_t events_of(const variant& v, std::size_t n) { return std::max<std::size_t>(1, n / v.subs); }

struct trial {
  double seconds = 0;         // first send -> N-th event counted
  double publish_seconds = 0; // first send -> publisher thread done
  std::uint64_t retries = 0;  // publish/publish_many calls refused (bus full)
};

// -- A: raw CAF ---------------------------------------------------------------------------------

/// Runs `pubs` threads over their slices of events; each calls send(slice). Returns (start, end of
/// the last thread).
template <class MakeSend>
std::pair<bench_clock::time_point, bench_clock::time_point> run_publishers(std::span<const libra::event> events,
                                                                           std::size_t pubs, MakeSend&& make_send) {
  std::vector<std::thread> threads;
  std::atomic<std::size_t> ready{0};
  std::atomic<bool> go{false};
  bench_clock::time_point t0;
  const auto per = (events.size() + pubs - 1) / pubs;
  for (std::size_t t = 0; t < pubs; ++t) {
    const auto lo = std::min(events.size(), t * per);
    const auto part = events.subspan(lo, std::min(per, events.size() - lo));
    threads.emplace_back([&, part] {
      auto send = make_send(); // per-thread state (producer tokens) before the clock starts
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) {
      }
      send(part);
    });
  }
  while (ready.load() != pubs)
    std::this_thread::yield();
  t0 = bench_clock::now();
  go.store(true, std::memory_order_release);
  for (auto& th : threads)
    th.join();
  return {t0, bench_clock::now()};
}

/// Waits for every completion; returns the latest completion time.
bench_clock::time_point wait_all(std::vector<std::shared_ptr<completion>>& done,
                                 std::vector<std::future<bench_clock::time_point>>& futs, const options& opt,
                                 const std::string& what) {
  bench_clock::time_point last{};
  const auto deadline =
    bench_clock::now()
    + std::chrono::duration_cast<bench_clock::duration>(std::chrono::duration<double>(opt.timeout_s));
  for (std::size_t i = 0; i < futs.size(); ++i) {
    if (futs[i].wait_until(deadline) != std::future_status::ready)
      throw bench_failure(fmt::format("{}: subscriber {} counted {} of {} events within {} s", what, i,
                                      done[i]->seen.load(), done[i]->target, opt.timeout_s));
    last = std::max(last, futs[i].get());
  }
  return last;
}

trial run_raw(caf::actor_system& sys, std::span<const libra::event> events, const variant& v, const options& opt) {
  std::vector<std::shared_ptr<completion>> done;
  std::vector<std::future<bench_clock::time_point>> futs;
  std::vector<caf::actor> sinks;
  for (std::size_t i = 0; i < v.subs; ++i) {
    done.push_back(std::make_shared<completion>(events.size()));
    futs.push_back(done.back()->done.get_future());
    sinks.push_back(sys.spawn([c = done.back()](caf::event_based_actor*) -> caf::behavior {
      return {[c](const libra::event&) { c->count(); }};
    }));
  }
  auto forwarder = sys.spawn([sinks](caf::event_based_actor* self) -> caf::behavior {
    return {[self, sinks](const libra::event& e) {
      for (const auto& s : sinks)
        self->send(s, e);
    }};
  });
  const auto [t0, published] = run_publishers(events, v.pubs, [&] {
    return [&](std::span<const libra::event> part) {
      for (const auto& e : part)
        caf::anon_send(forwarder, e);
    };
  });
  std::optional<bench_clock::time_point> t1;
  std::string failure;
  try {
    t1 = wait_all(done, futs, opt, "raw CAF");
  } catch (const bench_failure& e) {
    failure = e.what();
  }
  caf::anon_send_exit(forwarder, caf::exit_reason::user_shutdown);
  for (auto& s : sinks)
    caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  if (!t1)
    throw bench_failure(failure);
  return {seconds_between(t0, *t1), seconds_between(t0, published), 0};
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
  std::vector<std::shared_ptr<completion>> done;
  std::vector<std::future<bench_clock::time_point>> futs;
  for (std::size_t i = 0; i < v.subs; ++i) {
    done.push_back(std::make_shared<completion>(events.size()));
    futs.push_back(done.back()->done.get_future());
    bus.subscribe(libra::event_type::tick, [c = done.back()](const libra::event&) { c->count(); });
  }
  bus.start();

  const auto n = events.size();
  std::atomic<bool> give_up{false}; // set on timeout, so a publisher refused forever ends
  std::atomic<std::uint64_t> retries{0};
  // Events refused: what stats().rejected_full counts (a refused publish_many call counts each
  // event it did not admit, so this is not the number of calls).
  std::atomic<std::uint64_t> refused_events{0};
  std::optional<bench_clock::time_point> t1;
  std::string failure;
  // A publisher refused for longer than the timeout gives up (a hung bus must fail, not hang).
  const auto deadline =
    bench_clock::now()
    + std::chrono::duration_cast<bench_clock::duration>(std::chrono::duration<double>(opt.timeout_s));
  const auto [t0, published] = run_publishers(events, v.pubs, [&] {
    return [&, pub = std::make_shared<libra::publisher>(bus.make_publisher())](std::span<const libra::event> part) {
      auto refused = [&] {
        retries.fetch_add(1, std::memory_order_relaxed);
        std::this_thread::yield();
        if (bench_clock::now() > deadline)
          give_up.store(true, std::memory_order_relaxed);
        return !give_up.load(std::memory_order_relaxed);
      };
      if (v.how == method::publish) {
        for (const auto& e : part)
          while (!pub->publish(e)) {
            refused_events.fetch_add(1, std::memory_order_relaxed);
            if (!refused())
              return;
          }
      } else {
        for (std::size_t i = 0; i < part.size(); i += opt.chunk) {
          auto rest = part.subspan(i, std::min(opt.chunk, part.size() - i));
          for (;;) {
            rest = rest.subspan(pub->publish_many(rest));
            if (rest.empty())
              break;
            refused_events.fetch_add(rest.size(), std::memory_order_relaxed);
            if (!refused())
              return;
          }
        }
      }
    };
  });
  try {
    t1 = wait_all(done, futs, opt, fmt::format("{} (W={}, k={})", v.name, v.window, v.batch));
  } catch (const bench_failure& e) {
    give_up.store(true);
    throw bench_failure(
      fmt::format("{}; publisher retries={}; bus: {}", e.what(), retries.load(), describe(bus.stats())));
  }
  // Not timed: the bus must now be quiet with exact counters.
  const auto ms = std::chrono::milliseconds{static_cast<std::int64_t>(opt.timeout_s * 1000)};
  if (!bus.wait_idle(ms))
    throw bench_failure(fmt::format("{} (W={}, k={}): all {} events handled, but wait_idle({} ms) failed; bus: {}",
                                    v.name, v.window, v.batch, n, ms.count(), describe(bus.stats())));
  const auto s = bus.stats();
  std::uint64_t handled = 0;
  for (const auto& c : done)
    handled += c->seen.load();
  if (handled != n * v.subs || s.published != n || s.dispatched != n || s.pending != 0 || s.handler_calls != n * v.subs
      || s.rejected_full != refused_events.load() || s.rejected_closed != 0 || s.dropped != 0 || s.errors != 0)
    throw bench_failure(fmt::format("{} (W={}, k={}): wrong counts after {} events: handled={} retries={}; bus: {}",
                                    v.name, v.window, v.batch, n, handled, retries.load(), describe(s)));
  return {seconds_between(t0, *t1), seconds_between(t0, published), retries.load()};
}

trial run(caf::actor_system& sys, std::span<const libra::event> events, const variant& v, const options& opt) {
  const auto part = events.first(events_of(v, events.size()));
  return v.how == method::raw_caf ? run_raw(sys, part, v, opt) : run_bus(sys, part, v, opt);
}

// -- reporting ----------------------------------------------------------------------------------

struct results {
  std::vector<variant> variants;
  std::vector<std::vector<trial>> trials; // [variant][trial]
};

double rate(std::size_t n, double seconds) { return static_cast<double>(n) / seconds; }

/// Per-trial ratio of variant v's rate to its baseline's in the same round (same event count).
std::vector<double> ratios(const results& r, std::size_t v) {
  std::vector<double> out;
  const auto b = r.variants[v].baseline;
  for (std::size_t t = 0; t < r.trials[v].size(); ++t)
    out.push_back(r.trials[b][t].seconds / r.trials[v][t].seconds);
  return out;
}

std::vector<double> rates(const results& r, std::size_t v, std::size_t n, bool publisher_side = false) {
  std::vector<double> out;
  for (const auto& t : r.trials[v])
    out.push_back(rate(events_of(r.variants[v], n), publisher_side ? t.publish_seconds : t.seconds));
  return out;
}

std::string wk(const variant& v, std::uint32_t x) { return v.how == method::raw_caf ? "–" : std::to_string(x); }

void print_tables(const results& r, std::size_t n) {
  fmt::print("| variant | W | k | publishers | subscribers | median Mev/s | min | max | x raw CAF (median of "
             "per-trial) | x raw min–max | publisher done, median Mev/s | retries (bus full), median |\n");
  fmt::print("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (std::size_t v = 0; v < r.variants.size(); ++v) {
    const auto& var = r.variants[v];
    const auto s = spread_of(rates(r, v, n));
    const auto q = spread_of(ratios(r, v));
    const auto p = spread_of(rates(r, v, n, true));
    std::vector<double> retries;
    for (const auto& t : r.trials[v])
      retries.push_back(static_cast<double>(t.retries));
    fmt::print("| {} | {} | {} | {} | {} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.2f}–{:.2f} | {:.2f} | {:.0f} |\n",
               var.name, wk(var, var.window), wk(var, var.batch), var.pubs, var.subs, s.median / 1e6, s.min / 1e6,
               s.max / 1e6, q.median, q.min, q.max, p.median / 1e6, spread_of(retries).median);
  }
  fmt::print("\nPer trial, Mev/s (round by round; the ratio columns above compare within a row):\n\n| trial |");
  for (const auto& var : r.variants)
    fmt::print(" {}{} p{}s{} |", var.name,
               var.how == method::raw_caf ? "" : fmt::format(" {}/{}", var.window, var.batch), var.pubs, var.subs);
  fmt::print("\n|---|");
  for (std::size_t v = 0; v < r.variants.size(); ++v)
    fmt::print("---|");
  fmt::print("\n");
  for (std::size_t t = 0; t < r.trials[0].size(); ++t) {
    fmt::print("| {} |", t + 1);
    for (std::size_t v = 0; v < r.variants.size(); ++v)
      fmt::print(" {:.2f} |", rate(events_of(r.variants[v], n), r.trials[v][t].seconds) / 1e6);
    fmt::print("\n");
  }
}

void write_json(const std::string& path, const environment& env, const options& opt, const results& r,
                std::size_t workers, std::size_t max_throughput) {
  const auto n = opt.events;
  std::string out;
  libra::json_writer w{out};
  begin_results(w, "libra-bench-throughput", env);
  w.field("events", n)
    .field("trials", opt.trials)
    .field("scheduler_workers", workers)
    .field("scheduler_max_throughput", max_throughput)
    .field("capacity", libra::bus_config{}.capacity)
    .field("publish_many_chunk", opt.chunk)
    .key("variants")
    .begin_array();
  for (std::size_t v = 0; v < r.variants.size(); ++v) {
    const auto& var = r.variants[v];
    w.begin_object()
      .field("name", var.name)
      .field("credit_window", var.window)
      .field("batch_size", var.batch)
      .field("publishers", var.pubs)
      .field("subscribers", var.subs)
      .field("events", events_of(var, n))
      .key("events_per_s");
    write_spread(w, spread_of(rates(r, v, n)));
    w.key("ratio_to_baseline");
    write_spread(w, spread_of(ratios(r, v)));
    w.key("trials").begin_array();
    for (const auto& t : r.trials[v])
      w.begin_object()
        .field("seconds", t.seconds)
        .field("events_per_s", rate(events_of(var, n), t.seconds))
        .field("publish_seconds", t.publish_seconds)
        .field("retries", t.retries)
        .end();
    w.end().end();
  }
  w.end().end();
  write_file(path, out + "\n");
}

std::vector<variant> make_variants(const options& opt) {
  std::vector<variant> vs;
  auto trio = [&](std::uint32_t w, std::uint32_t k, std::size_t subs, std::size_t pubs, bool with_raw) {
    if (with_raw)
      vs.push_back({"A raw CAF", method::raw_caf, 0, 0, subs, pubs, vs.size()});
    const auto base = with_raw ? vs.size() - 1 : vs.back().baseline;
    vs.push_back({"B publish", method::publish, w, k, subs, pubs, base});
    vs.push_back({"C publish_many", method::publish_many, w, k, subs, pubs, base});
  };
  bool first = true;
  for (const auto& combo : opt.combos) {
    unsigned w = 0;
    unsigned k = 0;
    char tail = 0;
    if (std::sscanf(combo.c_str(), "%u:%u%c", &w, &k, &tail) != 2 || w == 0 || k == 0 || k > w)
      throw CLI::ValidationError("--combos", fmt::format("'{}' is not W:k with 1 <= k <= W", combo));
    trio(w, k, 1, 1, first);
    first = false;
  }
  const libra::bus_config defaults;
  for (const auto subs : opt.subscribers)
    if (subs > 1)
      trio(defaults.credit_window, defaults.batch_size, subs, 1, true);
  for (const auto pubs : opt.publishers)
    if (pubs > 1)
      trio(defaults.credit_window, defaults.batch_size, 1, pubs, true);
  return vs;
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  CLI::App app{"libra-bench-throughput: bus throughput vs a plain CAF forwarding actor, interleaved"};
  app.add_option("--events", opt.events, "events per trial")->check(CLI::PositiveNumber);
  app.add_option("--trials", opt.trials, "trials per variant")->check(CLI::PositiveNumber);
  const bench_cli cli{app, opt.quick, opt.json, "50k events, 2 trials"};
  app.add_option("--combos", opt.combos, "bus (credit window W : batch size k) pairs, e.g. 16:8,64:32")->delimiter(',');
  app.add_option("--chunk", opt.chunk, "publish_many chunk size")->check(CLI::PositiveNumber);
  app.add_option("--subscribers", opt.subscribers, "subscriber counts (default W/k; N/subscribers events)")
    ->delimiter(',');
  app.add_option("--publishers", opt.publishers, "publisher thread counts (default W/k)")->delimiter(',');
  app.add_option("--timeout", opt.timeout_s, "seconds before a trial counts as hung")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  cli.quick("--events", opt.events, 50'000).quick("--trials", opt.trials, 2);
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

  const auto events = make_ticks(opt.events);
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
  print_header("libra-bench-throughput", env);
  fmt::print("{} events per trial, {} trials per variant, interleaved (after 1 warm-up round); actor system: "
             "{} workers, max-throughput {}; bus: capacity {}, default W={} k={}; publish_many chunk {}; "
             "subscribers count only; variants with s subscribers run N/s events (N deliveries)\n\n",
             opt.events, opt.trials, workers, max_throughput, defaults.capacity, defaults.credit_window,
             defaults.batch_size, opt.chunk);
  print_tables(r, opt.events);
  if (!opt.json.empty()) {
    write_json(opt.json, env, opt, r, workers, max_throughput);
    fmt::print("\nJSON: {}\n", opt.json);
  }
  return 0;
}
