// libra-bench-publish: what publish() and publish_many() cost on the caller's thread, beside a
// plain caf::anon_send of the same 128-byte event, with 1 and 2 publisher threads.
//
// Each publisher thread times blocks of --block calls with steady_clock (one clock read per block,
// so the clock's own ~20 ns is spread over the block) and records ns per call for every block;
// p50/p99 are over those blocks. The bus is started, with one counting subscriber, and has room
// for everything (capacity > events): this is the cost of an admitted publish, wake-ups of the
// broker included, not of a refusal. The baseline sends to an actor that counts. Variants run
// interleaved, trial by trial; samples of all trials are pooled per variant.
// The "broker idle" rows publish the same events into a bus not started yet (started once they
// are all in): nothing consumes the staging queues meanwhile, so they show the caller's own cost
// without the cache lines it writes being taken by the broker's core as it goes.
#include "common.hpp"

#include <libra/system_config.hpp>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <span>

using namespace libra;
using namespace libra::bench;

namespace {

struct options {
  std::size_t events = 1'000'000; // per publisher thread and trial
  std::size_t trials = 5;
  std::size_t block = 16;
  std::size_t chunk = 64;
  std::vector<std::size_t> threads{1, 2};
  bool quick = false;
  std::string json;
  double timeout_s = 60;
};

enum class method { anon_send, publish, publish_many, publish_idle, publish_many_idle };

const char* name_of(method m) {
  switch (m) {
    case method::anon_send:
      return "caf::anon_send";
    case method::publish:
      return "publish";
    case method::publish_many:
      return "publish_many";
    case method::publish_idle:
      return "publish, broker idle";
    case method::publish_many_idle:
      return "publish_many, broker idle";
  }
  return "?";
}

struct variant {
  method how;
  std::size_t threads;
};

struct samples {
  std::vector<double> ns_per_event; // one per block, all trials
  std::vector<double> mean_ns;      // one per trial: whole run / events
};

/// Runs `threads` publishers over the same events; returns ns per event per block, all threads.
template <class Publish>
std::vector<double> timed_blocks(std::span<const event> events, std::size_t threads, std::size_t block,
                                 Publish&& make_publish) {
  std::vector<std::vector<double>> per_thread(threads);
  std::vector<std::thread> pool;
  std::atomic<std::size_t> ready{0};
  std::atomic<bool> go{false};
  for (std::size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      auto publish = make_publish(); // per-thread state (producer tokens) before the clock starts
      auto& out = per_thread[t];
      out.reserve(events.size() / block + 1);
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) {
      }
      for (std::size_t i = 0; i < events.size(); i += block) {
        const auto part = events.subspan(i, std::min(block, events.size() - i));
        const auto t0 = bench_clock::now();
        publish(part);
        const auto t1 = bench_clock::now();
        out.push_back(static_cast<double>(ns_between(t0, t1)) / static_cast<double>(part.size()));
      }
    });
  }
  while (ready.load() != threads)
    std::this_thread::yield();
  go.store(true, std::memory_order_release);
  for (auto& th : pool)
    th.join();
  std::vector<double> all;
  for (auto& v : per_thread)
    all.insert(all.end(), v.begin(), v.end());
  return all;
}

double mean(const std::vector<double>& xs) {
  double sum = 0;
  for (const double x : xs)
    sum += x;
  return xs.empty() ? 0 : sum / static_cast<double>(xs.size());
}

std::vector<double> run_anon_send(caf::actor_system& sys, std::span<const event> events, std::size_t threads,
                                  const options& opt) {
  const auto total = events.size() * threads;
  auto done = std::make_shared<completion>(total);
  auto finished = done->done.get_future();
  auto sink =
    sys.spawn([done](caf::event_based_actor*) -> caf::behavior { return {[done](const event&) { done->count(); }}; });
  auto blocks = timed_blocks(events, threads, opt.block, [&] {
    return [sink](std::span<const event> part) {
      for (const auto& e : part)
        caf::anon_send(sink, e);
    };
  });
  const bool ok = finished.wait_for(std::chrono::duration<double>(opt.timeout_s)) == std::future_status::ready;
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  if (!ok)
    throw bench_failure(fmt::format("anon_send: {} of {} events counted", done->seen.load(), total));
  return blocks;
}

std::vector<double> run_bus(caf::actor_system& sys, std::span<const event> events, const variant& v,
                            const options& opt) {
  const auto total = events.size() * v.threads;
  bus_config cfg;
  cfg.name = "bench";
  cfg.capacity = total * 2; // MARKET_DATA may use 80%: everything fits
  bus b{sys, cfg};
  auto done = std::make_shared<completion>(total);
  auto finished = done->done.get_future();
  b.subscribe(event_type::tick, [done](const event&) { done->count(); });
  const bool idle = v.how == method::publish_idle || v.how == method::publish_many_idle;
  if (!idle)
    b.start();
  std::atomic<std::uint64_t> refused{0};
  auto blocks = timed_blocks(events, v.threads, opt.block, [&] {
    return [pub = std::make_shared<publisher>(b.make_publisher()), &refused, how = v.how](std::span<const event> part) {
      if (how == method::publish || how == method::publish_idle) {
        for (const auto& e : part)
          if (!pub->publish(e))
            refused.fetch_add(1, std::memory_order_relaxed);
      } else {
        refused.fetch_add(part.size() - pub->publish_many(part), std::memory_order_relaxed);
      }
    };
  });
  if (refused.load() != 0)
    throw bench_failure(fmt::format("{}: {} publishes refused on a bus with room", name_of(v.how), refused.load()));
  if (idle)
    b.start();
  const bool ok = finished.wait_for(std::chrono::duration<double>(opt.timeout_s)) == std::future_status::ready;
  if (!ok)
    throw bench_failure(fmt::format("{}: {} of {} events handled", name_of(v.how), done->seen.load(), total));
  if (!b.wait_idle(std::chrono::milliseconds{static_cast<std::int64_t>(opt.timeout_s * 1000)}))
    throw bench_failure("bus did not become idle");
  check_exact(b, total, done->seen.load(), 0, name_of(v.how));
  return blocks;
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  CLI::App app{"libra-bench-publish: caller cost of publish/publish_many vs caf::anon_send, interleaved"};
  app.add_option("--events", opt.events, "events per publisher thread and trial")->check(CLI::PositiveNumber);
  app.add_option("--trials", opt.trials, "trials per variant")->check(CLI::PositiveNumber);
  app.add_option("--block", opt.block, "calls per timed block (publish, anon_send)")->check(CLI::PositiveNumber);
  app.add_option("--chunk", opt.chunk, "events per publish_many call (one timed block)")->check(CLI::PositiveNumber);
  app.add_option("--threads", opt.threads, "publisher thread counts")->delimiter(',');
  const bench_cli cli{app, opt.quick, opt.json, "50k events, 2 trials"};
  CLI11_PARSE(app, argc, argv);
  cli.quick("--events", opt.events, 50'000).quick("--trials", opt.trials, 2);

  spdlog::set_level(spdlog::level::warn);
  caf::actor_system_config cfg;
  configure_system(cfg, 2);
  caf::actor_system sys{cfg};
  const auto env = probe_environment();
  const auto events = make_ticks(opt.events);

  std::vector<variant> variants;
  for (const auto t : opt.threads)
    for (const auto m :
         {method::anon_send, method::publish, method::publish_many, method::publish_idle, method::publish_many_idle})
      variants.push_back({m, t});
  std::vector<samples> results(variants.size());
  auto run = [&](const variant& v) {
    if (v.how == method::anon_send)
      return run_anon_send(sys, events, v.threads, opt);
    auto o = opt;
    if (v.how == method::publish_many || v.how == method::publish_many_idle)
      o.block = opt.chunk;
    return run_bus(sys, events, v, o);
  };
  try {
    for (const auto& v : variants) // warm-up round, not recorded
      (void)run(v);
    for (std::size_t t = 0; t < opt.trials; ++t)
      for (std::size_t i = 0; i < variants.size(); ++i) {
        auto blocks = run(variants[i]);
        results[i].mean_ns.push_back(mean(blocks));
        results[i].ns_per_event.insert(results[i].ns_per_event.end(), blocks.begin(), blocks.end());
      }
  } catch (const bench_failure& e) {
    std::fflush(stdout);
    fmt::print(stderr, "libra-bench-publish: FAILED: {}\n", e.what());
    return 2;
  }

  print_header("libra-bench-publish", env);
  fmt::print("{} events per thread and trial, {} trials, interleaved; ns per event on the publishing thread, "
             "timed in blocks of {} calls (publish_many: one call of {} events per block); p50/p99 over blocks. "
             "Targets: publish p50 <= 50 ns, publish_many <= 15 ns per event.\n\n",
             opt.events, opt.trials, opt.block, opt.chunk);
  fmt::print("| threads | method | p50 ns | p90 ns | p99 ns | mean ns (median of trials) | p50 / anon_send p50 | "
             "target |\n|---|---|---|---|---|---|---|---|\n");
  std::string json;
  libra::json_writer jw{json};
  begin_results(jw, "libra-bench-publish", env);
  jw.field("events", opt.events)
    .field("trials", opt.trials)
    .field("block", opt.block)
    .field("chunk", opt.chunk)
    .key("rows")
    .begin_array();
  for (std::size_t i = 0; i < variants.size(); ++i) {
    const auto& v = variants[i];
    const auto p = percentiles_of(results[i].ns_per_event);
    const auto base_index = i - static_cast<std::size_t>(v.how); // anon_send of the same thread count
    const auto base = percentiles_of(results[base_index].ns_per_event);
    const double ratio = p.p50 / base.p50;
    std::string target = "–";
    if (v.how == method::publish || v.how == method::publish_idle)
      target = p.p50 <= 50 ? "met (<= 50)" : "not met (<= 50)";
    else if (v.how == method::publish_many || v.how == method::publish_many_idle)
      target = p.p50 <= 15 ? "met (<= 15)" : "not met (<= 15)";
    fmt::print("| {} | {} | {:.1f} | {:.1f} | {:.1f} | {:.1f} | {:.2f} | {} |\n", v.threads, name_of(v.how), p.p50,
               p.p90, p.p99, spread_of(results[i].mean_ns).median, ratio, target);
    jw.begin_object()
      .field("threads", v.threads)
      .field("method", name_of(v.how))
      .field("p50_ns", p.p50)
      .field("p90_ns", p.p90)
      .field("p99_ns", p.p99)
      .field("mean_ns", spread_of(results[i].mean_ns).median)
      .field("p50_ratio_to_anon_send", ratio)
      .end();
  }
  jw.end().end();
  if (!opt.json.empty()) {
    write_file(opt.json, json + "\n");
    fmt::print("\nJSON: {}\n", opt.json);
  }
  return 0;
}
