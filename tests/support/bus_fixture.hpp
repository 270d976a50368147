// Shared helpers for bus tests: a real 2-worker actor system (as libra-runtime runs it), event
// builders, and a thread-safe collector that tests wait on (condition variable, no sleeps).
#pragma once

#include "eventually.hpp"

#include <libra/bus.hpp>
#include <libra/system_config.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/after.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/system_messages.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace libra::testing {

/// A real actor system with `Workers` scheduler threads (2 unless a test needs more).
template <std::size_t Workers = 2>
struct basic_system_fixture {
  static caf::actor_system_config& init(caf::actor_system_config& cfg) {
    configure_system(cfg, Workers);
    return cfg;
  }
  caf::actor_system_config sys_cfg;
  caf::actor_system sys{init(sys_cfg)};
};
using system_fixture = basic_system_fixture<>;

/// Events of one type, in arrival order.
inline std::vector<event> of_type(const std::vector<event>& evs, event_type t) {
  std::vector<event> out;
  for (const auto& e : evs)
    if (e.type() == t)
      out.push_back(e);
  return out;
}

/// A price from decimal text (exact).
inline price px(const char* text) { return *price::parse(text); }

/// A fixed event time for the actor tests: 2020-01-01 22:00 UTC (the sample data's first day).
inline const timestamp t0 = timestamp{std::chrono::seconds{1'577'916'000}};

inline event make_tick(std::int64_t n, instrument_id inst = "EUR/USD", source_id src = "gateway.test") {
  const auto px = price::from_raw(1'000'000'000 + n);
  return event::create(event_type::tick, src,
                       tick{inst, px, px, quantity::from_raw(n), quantity::from_raw(n), px, quantity::from_raw(n)});
}

inline event make_risk(event_type type = event_type::circuit_breaker, std::string msg = "test breaker") {
  return event::create(
    type, "risk.test",
    risk{risk_rule::circuit_breaker, {}, 1.0, 2.0, std::make_shared<const std::string>(std::move(msg))});
}

inline event make_signal(std::int64_t n) {
  return event::create(event_type::signal, "strategy.test", signal{"EUR/USD", side::buy, 0.5, price::from_raw(n)});
}

inline event make_order(event_type type, std::uint64_t client_id) {
  order o;
  o.client_id = client_order_id{client_id};
  o.instrument = "EUR/USD";
  o.quantity = quantity::from_double(1);
  o.side = side::buy;
  return event::create(type, "execution.test", o);
}

/// The bus's counters and each subscriber's rings, for a failed wait's message: where it stuck.
inline std::string describe(const bus& b) {
  const auto s = b.stats();
  std::string out = "published=" + std::to_string(s.published) + " dispatched=" + std::to_string(s.dispatched)
                    + " pending=" + std::to_string(s.pending) + " handler_calls=" + std::to_string(s.handler_calls)
                    + " errors=" + std::to_string(s.errors);
  for (const auto& sub : b.subscribers()) {
    out += "\n  subscriber handed=" + std::to_string(sub.handed) + " handled=" + std::to_string(sub.handled);
    for (std::size_t p = 0; p < priority_count; ++p)
      out += " p" + std::to_string(p) + ":in_flight=" + std::to_string(sub.in_flight.at(p))
             + ",lag=" + std::to_string(sub.lag.at(p));
  }
  return out;
}

/// Waits for a down message of an actor `self` monitors; false when none came within patience
/// (a receive without a deadline would hang the test if the actor never ends).
inline bool got_down(caf::scoped_actor& self) {
  bool down = false;
  self->receive([&](const caf::down_msg&) { down = true; }, caf::after(patience) >> [] {});
  return down;
}

/// REQUIRE(b.wait_idle(patience)), and when it fails, where the bus was stuck.
#define REQUIRE_IDLE(b)                                                                                                \
  do {                                                                                                                 \
    const bool idle_ = (b).wait_idle(::libra::testing::patience);                                                      \
    INFO(::libra::testing::describe(b));                                                                               \
    REQUIRE(idle_);                                                                                                    \
  } while (false)

/// Events in arrival order; wait() blocks until n arrived (or the patience runs out).
class collector {
public:
  void add(const event& e) {
    {
      std::lock_guard guard{mu_};
      events_.push_back(e);
    }
    cv_.notify_all();
  }
  bool wait(std::size_t n, std::chrono::milliseconds timeout = patience) {
    std::unique_lock lock{mu_};
    return cv_.wait_for(lock, timeout, [&] { return events_.size() >= n; });
  }
  std::vector<event> events() const {
    std::lock_guard guard{mu_};
    return events_;
  }
  std::size_t size() const {
    std::lock_guard guard{mu_};
    return events_.size();
  }

private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<event> events_;
};

/// An actor written against the SDK: it subscribes itself and records what it receives.
inline caf::behavior collecting_actor(caf::event_based_actor* /*self*/, std::shared_ptr<collector> out) {
  return {on_events([out](const event& e) { out->add(e); })};
}

/// A one-shot gate: handlers block on it until the test opens it, or for 2 x patience at most: a
/// test that fails before it opens the gate must not leave a worker blocked (the actor system's
/// shutdown would wait for it forever).
class gate {
public:
  void open() {
    {
      std::lock_guard guard{mu_};
      open_ = true;
    }
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock lock{mu_};
    cv_.wait_for(lock, 2 * patience, [&] { return open_; });
  }

private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

/// A subscriber actor (SDK style) that records what it gets and blocks inside its first handler
/// call until `release` opens; `entered` counts down when it got there (REQUIRE(entered.wait())).
struct blocking_subscriber {
  // Shared with the actor: it may still run a handler after a failed REQUIRE destroyed this.
  struct shared_state {
    gate release;
    countdown entered{1};
    std::atomic<bool> blocked_once{false};
  };
  explicit blocking_subscriber(caf::actor_system& sys) {
    // got is passed as a spawn argument: CAF 0.17 spawning with no arguments trips UBSan in its
    // own init_fun_factory.hpp.
    actor = sys.spawn(
      [st = state](caf::event_based_actor*, std::shared_ptr<collector> out) -> caf::behavior {
        return {on_events([st, out](const event& e) {
          out->add(e);
          if (!st->blocked_once.exchange(true)) {
            st->entered.count_down();
            st->release.wait();
          }
        })};
      },
      got);
  }
  blocking_subscriber(const blocking_subscriber&) = delete;
  blocking_subscriber& operator=(const blocking_subscriber&) = delete;
  ~blocking_subscriber() {
    release.open(); // never leave a worker blocked
    caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
  }

  std::shared_ptr<collector> got = std::make_shared<collector>();
  std::shared_ptr<shared_state> state = std::make_shared<shared_state>();
  gate& release = state->release;
  countdown& entered = state->entered;
  caf::actor actor;
};

} // namespace libra::testing

// Catch prints enums by name, not as raw chars.
namespace Catch {
template <>
struct StringMaker<libra::event_type> {
  static std::string convert(libra::event_type t) { return std::string{libra::to_string(t)}; }
};
template <>
struct StringMaker<libra::priority> {
  static std::string convert(libra::priority p) { return std::string{libra::to_string(p)}; }
};
} // namespace Catch
