#include "runner.hpp"

#include <libra/bus.hpp>
#include <libra/json.hpp>
#include <libra/system_config.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <fmt/format.h>
#include <fmt/ostream.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <pthread.h>
#include <thread>

namespace libra::core {

namespace {

using clock = std::chrono::steady_clock;

/// What the runtime's own monitor subscriber saw (read by the main thread for progress).
struct monitor_state {
  std::array<std::atomic<std::uint64_t>, event_type_count> by_type{};
  std::mutex mu;
  std::map<std::string, position> positions;       // last position per instrument
  std::map<std::string, std::uint64_t> rejections; // by reason
};

caf::behavior monitor_actor(caf::event_based_actor* /*self*/, std::shared_ptr<monitor_state> st) {
  return {on_events([st](const event& e) {
    st->by_type[static_cast<std::size_t>(e.type())].fetch_add(1, std::memory_order_relaxed);
    if (const auto* p = e.get_if<position>()) {
      std::lock_guard guard{st->mu};
      st->positions[p->instrument.str()] = *p;
    } else if (e.type() == event_type::order_rejected) {
      std::lock_guard guard{st->mu};
      ++st->rejections[std::string{to_string(e.get<order>().reason)}];
    }
  })};
}

std::uint64_t count(const monitor_state& st, event_type t) {
  return st.by_type[static_cast<std::size_t>(t)].load(std::memory_order_relaxed);
}

std::pair<double, double> pnl(monitor_state& st) {
  std::lock_guard guard{st.mu};
  money realized;
  money unrealized;
  for (const auto& [name, p] : st.positions) {
    realized += p.realized_pnl;
    unrealized += p.unrealized_pnl;
  }
  return {realized.to_double(), unrealized.to_double()};
}

/// SIGINT/SIGTERM arrive here, on a thread of their own (sigwait), never in a handler.
class signal_watch {
public:
  explicit signal_watch(std::function<void(int)> on_signal) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGUSR1); // our own: ends the thread
    thread_ = std::thread{[this, fn = std::move(on_signal)] {
      for (;;) {
        int sig = 0;
        if (sigwait(&set_, &sig) != 0 || sig == SIGUSR1)
          return;
        fn(sig);
      }
    }};
  }
  signal_watch(const signal_watch&) = delete;
  signal_watch& operator=(const signal_watch&) = delete;
  ~signal_watch() {
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
  }
  /// Blocks the signals in the calling thread; call before any other thread starts (they
  /// inherit the mask), so that only sigwait sees them.
  static void block_in_this_thread() {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    sigaddset(&s, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &s, nullptr);
  }

private:
  sigset_t set_{};
  std::thread thread_;
};

std::string thousands(std::uint64_t v) {
  // Written back to front into a buffer: std::string::insert here tripped GCC 12's -Wrestrict
  // (a false positive inside libstdc++) at -O3 with warnings as errors.
  std::array<char, 32> buf{};
  auto pos = buf.size();
  for (int digits = 0; digits == 0 || v != 0; ++digits, v /= 10) {
    if (digits > 0 && digits % 3 == 0)
      buf[--pos] = ',';
    buf[--pos] = static_cast<char>('0' + v % 10);
  }
  return {buf.data() + pos, buf.size() - pos};
}

} // namespace

int run_topology(const topology& topo, const run_options& opts) {
  signal_watch::block_in_this_thread();
  spdlog::set_level(spdlog::level::from_str(topo.log_level));
  auto log = spdlog::default_logger()->clone("libra.runtime");
  const auto stats_interval = opts.stats_interval.value_or(topo.stats_interval);
  const auto duration = opts.duration.value_or(topo.duration);

  // Declared before the actor system: actors may call finished() until the system is gone.
  std::mutex mu;
  std::condition_variable cv;
  int signal_seen = 0;
  bool stopping = false; // the run has ended; drain and summary under way
  std::string failure;   // first actor failure, if any
  std::size_t producers_left = 0;
  for (const auto& a : topo.actors)
    producers_left += a.producer ? 1 : 0;
  signal_watch signals{[&](int sig) {
    {
      std::lock_guard guard{mu};
      if (signal_seen != 0 || stopping) {
        // A second Ctrl-C (or one during the drain) means "now": say what that costs, then go.
        fmt::print(stderr, "libra-runtime: {} during shutdown: exiting now without drain or summary\n",
                   sig == SIGINT ? "SIGINT" : "SIGTERM");
        std::fflush(nullptr);
        std::_Exit(128 + sig);
      }
      signal_seen = sig;
    }
    cv.notify_all();
  }};

  caf::actor_system_config cfg;
  configure_system(cfg, topo.workers, topo.idle);
  caf::actor_system sys{cfg};

  int rc = 0;
  const auto started = clock::now();
  bus b{sys, topo.bus};
  auto mon = std::make_shared<monitor_state>();
  auto monitor = sys.spawn(monitor_actor, mon);
  for (auto t : all_event_types)
    b.subscribe(t, monitor);

  auto directory = std::make_shared<actor_directory>();
  std::vector<std::pair<std::string, caf::actor>> spawned;
  auto end_all = [&] {
    // The directory holds strong handles: an actor that kept its context would keep itself alive.
    directory->clear();
    for (auto& [name, a] : spawned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(monitor, caf::exit_reason::user_shutdown);
  };
  for (const auto& spec : topo.actors) {
    actor_context ctx;
    ctx.system = &sys;
    ctx.bus = &b;
    ctx.name = spec.name;
    ctx.source = source_id{spec.name};
    ctx.log = spdlog::default_logger()->clone("libra." + spec.name);
    ctx.directory = directory;
    auto once = std::make_shared<std::atomic<bool>>(false);
    const bool producer = spec.producer;
    ctx.finished = [&, once, producer] {
      if (!producer || once->exchange(true))
        return;
      {
        std::lock_guard guard{mu};
        --producers_left;
      }
      cv.notify_all();
    };
    ctx.failed = [&, once, producer, name = spec.name](const std::string& why) {
      {
        std::lock_guard guard{mu};
        if (failure.empty())
          failure = fmt::format("actor '{}' failed: {}", name, why);
        if (producer && !once->exchange(true))
          --producers_left;
      }
      cv.notify_all();
    };
    try {
      auto a = spec.spawn(ctx);
      if (!a)
        throw std::runtime_error("factory returned no actor");
      directory->add(spec.name, a);
      spawned.emplace_back(spec.name, a);
    } catch (const std::exception& ex) {
      log->error("actor '{}' ({}) failed to start: {}; stopping what was started", spec.name, spec.type, ex.what());
      b.stop(std::chrono::milliseconds{0});
      end_all();
      return 1;
    }
  }
  log->info("{} actors started from {} ({} producers)", spawned.size(), topo.file.string(), producers_left);
  b.start();
  for (auto& [name, a] : spawned)
    caf::anon_send(a, run_atom::value);

  // Wait for the end: all producers finished, a signal, or the duration.
  std::string reason = "end of data";
  {
    std::uint64_t last_published = 0;
    auto last_tick = clock::now();
    std::unique_lock lock{mu};
    for (;;) {
      if (!failure.empty()) {
        reason = failure;
        rc = 1;
        break;
      }
      if (producers_left == 0)
        break;
      if (signal_seen != 0) {
        reason = signal_seen == SIGINT ? "SIGINT" : "SIGTERM";
        break;
      }
      if (duration.count() > 0 && clock::now() - started >= duration) {
        reason = "duration reached";
        break;
      }
      cv.wait_for(lock, stats_interval);
      const auto now = clock::now();
      if (opts.progress && now - last_tick >= stats_interval) {
        lock.unlock();
        const auto s = b.stats();
        const auto secs = std::chrono::duration<double>(now - last_tick).count();
        const auto [realized, unrealized] = pnl(*mon);
        fmt::print(stderr,
                   "[{:7.1f}s] {:>10} ev/s | pending R{} O{} S{} M{} | dispatched {} | errors {} | orders {} fills {} "
                   "rejected {} | PnL realized {:.2f} unrealized {:.2f}\n",
                   std::chrono::duration<double>(now - started).count(),
                   thousands(static_cast<std::uint64_t>(static_cast<double>(s.published - last_published) / secs)),
                   s.pending_by_priority[0], s.pending_by_priority[1], s.pending_by_priority[2],
                   s.pending_by_priority[3], thousands(s.dispatched), s.errors, count(*mon, event_type::order_new),
                   count(*mon, event_type::order_filled), count(*mon, event_type::order_rejected), realized,
                   unrealized);
        last_published = s.published;
        last_tick = now;
        lock.lock();
      }
    }
  }
  {
    std::lock_guard guard{mu};
    stopping = true;
  }
  if (rc != 0)
    log->error("stopping: {}", reason);
  else
    log->info("stopping: {}", reason);
  // Everyone hears halt (strategies announce STRATEGY_STOPPED); producers stop publishing.
  for (auto& [name, a] : spawned)
    caf::anon_send(a, halt_atom::value);
  {
    std::unique_lock lock{mu};
    if (!cv.wait_for(lock, topo.bus.default_drain_timeout, [&] { return producers_left == 0; }))
      log->warn("{} producers did not finish within the drain timeout", producers_left);
  }
  // Settle: events cause events (tick -> signal -> order -> fill -> position), some through
  // direct actor messages the bus cannot see; wait until a quiet bus stays quiet.
  for (int i = 0; i < 50; ++i) {
    const auto before = b.stats().published;
    if (!b.wait_idle(topo.bus.default_drain_timeout))
      break;
    if (b.wait_idle(std::chrono::milliseconds{50}) && b.stats().published == before)
      break;
  }
  const auto dropped = b.stop(topo.bus.default_drain_timeout);
  const auto wall = std::chrono::duration<double>(clock::now() - started).count();
  const auto s = b.stats();
  const auto [realized, unrealized] = pnl(*mon);

  // Summary.
  fmt::print("\n== libra-runtime summary: {} ({}) ==\n", topo.file.string(), reason);
  fmt::print("wall time          {:.3f} s\n", wall);
  fmt::print("events             published {}, dispatched {}, dropped {}, rejected {}, errors {}\n",
             thousands(s.published), thousands(s.dispatched), dropped, s.rejected, s.errors);
  fmt::print("events by type    ");
  for (auto t : all_event_types)
    if (auto n = count(*mon, t); n > 0)
      fmt::print(" {}={}", to_string(t), n);
  fmt::print("\norders             new {}, filled {}, rejected {}", count(*mon, event_type::order_new),
             count(*mon, event_type::order_filled), count(*mon, event_type::order_rejected));
  {
    std::lock_guard guard{mon->mu};
    if (!mon->rejections.empty()) {
      fmt::print(" (");
      bool first = true;
      for (const auto& [why, n] : mon->rejections) {
        fmt::print("{}{} {}", first ? "" : ", ", why, n);
        first = false;
      }
      fmt::print(")");
    }
    fmt::print("\nrisk events        breaches {}, drawdown warnings {}, circuit breakers {}\n",
               count(*mon, event_type::risk_limit_breach), count(*mon, event_type::drawdown_warning),
               count(*mon, event_type::circuit_breaker));
    for (const auto& [inst, p] : mon->positions)
      fmt::print("position {:<10} qty {} avg {} realized {} unrealized {}\n", inst, p.qty.to_string(),
                 p.avg_price.to_string(), p.realized_pnl.to_string(), p.unrealized_pnl.to_string());
  }
  fmt::print("PnL                realized {:.2f}, unrealized {:.2f}\n", realized, unrealized);
  for (std::size_t p = 0; p < priority_count; ++p) {
    const auto& l = s.latency[p];
    if (l.count > 0)
      fmt::print("latency {:<11} n={} p50={:.1f}us p99={:.1f}us max={:.1f}us (publish -> handler start)\n",
                 to_string(static_cast<priority>(p)), l.count, static_cast<double>(l.p50.count()) / 1e3,
                 static_cast<double>(l.p99.count()) / 1e3, static_cast<double>(l.max.count()) / 1e3);
  }

  if (!opts.stats_json.empty()) {
    std::ofstream out{opts.stats_json};
    fmt::print(out,
               "{{\"topology\":{},\"reason\":{},\"wall_s\":{:.6f},\"published\":{},\"dispatched\":{},"
               "\"dropped\":{},\"rejected\":{},\"errors\":{},\"orders\":{},\"fills\":{},\"order_rejections\":{},"
               "\"realized_pnl\":{},\"unrealized_pnl\":{},\"by_type\":{{",
               json_string(topo.file.string()), json_string(reason), wall, s.published, s.dispatched, dropped,
               s.rejected, s.errors, count(*mon, event_type::order_new), count(*mon, event_type::order_filled),
               count(*mon, event_type::order_rejected), realized, unrealized);
    bool first = true;
    for (auto t : all_event_types) {
      fmt::print(out, "{}\"{}\":{}", first ? "" : ",", to_string(t), count(*mon, t));
      first = false;
    }
    fmt::print(out, "}},\"latency_ns\":{{");
    for (std::size_t p = 0; p < priority_count; ++p) {
      const auto& l = s.latency[p];
      fmt::print(out, R"({}"{}":{{"count":{},"p50":{},"p90":{},"p99":{},"p999":{},"max":{}}})", p == 0 ? "" : ",",
                 to_string(static_cast<priority>(p)), l.count, l.p50.count(), l.p90.count(), l.p99.count(),
                 l.p999.count(), l.max.count());
    }
    fmt::print(out, "}}}}\n");
  }
  end_all();
  return rc;
}

} // namespace libra::core
