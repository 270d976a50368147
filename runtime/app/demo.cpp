// libra-demo: a small, real run of the bus. A callback subscriber turns ticks into signals, an
// actor written against the SDK watches RISK events, 100k ticks flow, one CIRCUIT_BREAKER
// overtakes them, and the bus stops with a drain. Prints the bus's stats.
#include <libra/bus.hpp>
#include <libra/system_config.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdio>

namespace {

caf::behavior risk_watcher(caf::event_based_actor* /*self*/, std::atomic<int>* seen) {
  return {libra::on_events([seen](const libra::event& e) {
    const auto& r = e.get<libra::risk>();
    fmt::print("risk watcher: {} rule={} message=\"{}\" traceparent={}\n", libra::to_string(e.type()),
               libra::to_string(r.rule), r.text(), e.trace().traceparent());
    seen->fetch_add(1);
  })};
}

} // namespace

int main() {
  caf::actor_system_config cfg;
  libra::configure_system(cfg, 2);
  caf::actor_system sys{cfg};
  std::atomic<int> risk_seen{0};
  std::atomic<long> signals{0};
  std::uint64_t dropped = 0;
  const auto started = std::chrono::steady_clock::now();
  {
    libra::bus bus{sys};
    const libra::instrument_id eurusd{"EUR/USD"};
    // Strategy stand-in: every 1000th tick becomes a SIGNAL in the tick's trace.
    bus.subscribe(libra::event_type::tick, [&bus](const libra::event& e) {
      if (e.sequence() % 1000 == 0) {
        const auto& t = e.get<libra::tick>();
        (void)bus.publish(e.child_event(libra::event_type::signal, "strategy.demo",
                                        libra::signal{t.instrument, libra::side::buy, 0.5, t.mid()}));
      }
    });
    bus.subscribe(libra::event_type::signal, [&signals](const libra::event&) { signals.fetch_add(1); });
    auto watcher = sys.spawn(risk_watcher, &risk_seen);
    bus.subscribe(libra::event_type::circuit_breaker, watcher);
    bus.start();

    auto pub = bus.make_publisher();
    std::size_t accepted = 0;
    for (int i = 0; i < 100'000; ++i) {
      const auto px = libra::price::from_double(1.1212 + 0.00001 * (i % 50));
      libra::tick t{eurusd,
                    px,
                    px + libra::price::from_double(0.0002),
                    libra::quantity::from_double(1e6),
                    libra::quantity::from_double(1e6),
                    {},
                    {}};
      accepted += pub.publish(libra::event::create(libra::event_type::tick, "gateway.demo", t)) ? 1 : 0;
      if (i == 50'000)
        (void)pub.publish(
          libra::event::create(libra::event_type::circuit_breaker, "risk.demo",
                               libra::risk{libra::risk_rule::circuit_breaker,
                                           {},
                                           0.05,
                                           0.06,
                                           std::make_shared<const std::string>("demo: drawdown 6% above 5% limit")}));
    }
    bus.wait_idle(std::chrono::seconds(30));
    dropped = bus.stop(std::chrono::seconds(5));
    const auto s = bus.stats();
    const auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    fmt::print("ticks accepted {} of 100000; signals handled {}; risk events seen {}\n", accepted, signals.load(),
               risk_seen.load());
    fmt::print("published={} dispatched={} pending={} dropped={} rejected={} errors={} handler_calls={} "
               "wall={:.3f}s\n",
               s.published, s.dispatched, s.pending, dropped, s.rejected, s.errors, s.handler_calls, secs);
    for (std::size_t p = 0; p < libra::priority_count; ++p) {
      const auto& l = s.latency[p];
      if (l.count > 0)
        fmt::print("  latency publish->handler {:<11} n={:<7} p50={}ns p99={}ns max={}ns\n",
                   libra::to_string(static_cast<libra::priority>(p)), l.count, l.p50.count(), l.p99.count(),
                   l.max.count());
    }
    caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown);
  }
  return risk_seen.load() == 1 && dropped == 0 ? 0 : 1;
}
