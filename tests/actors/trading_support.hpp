// Shared builders for the trading actor tests: a real 2-worker system and bus, actors spawned
// from the registry that register_trading_actors fills (as libra-runtime does), params from YAML
// text, and collectors for bus events and for events sent directly to an actor.
#pragma once

#include "../support/bus_fixture.hpp"

#include <builtin.hpp>
#include <libra/component.hpp>
#include <libra/params.hpp>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <catch2/catch.hpp>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace libra::testing {

/// params for one actor, as the loader builds them for actors[0] of test.yaml.
inline params make_params(const std::string& yaml) {
  return params::from_yaml(yaml, "test.yaml", "actors[0].params", ".");
}

/// The config_error a factory throws for these params (fails the test when there is none).
inline config_error factory_error(const actor_registry& reg, const std::string& type, const std::string& yaml) {
  const auto* info = reg.find(type);
  REQUIRE(info != nullptr);
  auto p = make_params(yaml);
  try {
    (void)info->factory(p);
  } catch (const config_error& e) {
    return e;
  }
  FAIL("no config_error for " << type << " with " << yaml);
  throw std::logic_error("unreachable");
}

/// An actor that records the events sent to it directly (not through the bus).
inline caf::behavior direct_sink(caf::event_based_actor* /*self*/, std::shared_ptr<collector> out) {
  return {[out](const event& e) { out->add(e); }};
}

/// Events of one type, in arrival order.
inline std::vector<event> of_type(const std::vector<event>& evs, event_type t) {
  std::vector<event> out;
  for (const auto& e : evs)
    if (e.type() == t)
      out.push_back(e);
  return out;
}

inline std::size_t count_of(const collector& c, event_type t) { return of_type(c.events(), t).size(); }

/// A tick with this bid and ask (decimal text, exact).
inline event quote(const char* bid, const char* ask, instrument_id inst = "EUR/USD", timestamp ts = utc_now()) {
  tick t{};
  t.instrument = inst;
  t.bid = *price::parse(bid);
  t.ask = *price::parse(ask);
  t.bid_size = quantity::from_raw(1'000'000'000);
  t.ask_size = t.bid_size;
  return event::create(event_type::tick, "gateway.test", t, trace_context::new_root(), ts);
}

/// A signal as a strategy would publish it.
inline event make_signal(side sd, const char* reference, timestamp ts = utc_now(), instrument_id inst = "EUR/USD") {
  return event::create(event_type::signal, "strategy.test", signal{inst, sd, 1.0, *price::parse(reference)},
                       trace_context::new_root(), ts);
}

/// A system, a running bus, the trading registry and a directory, as the runtime sets them up.
struct trading_fixture : system_fixture {
  bus b{sys};
  actor_registry registry;
  std::shared_ptr<actor_directory> directory = std::make_shared<actor_directory>();
  std::vector<caf::actor> actors;  // everything spawned here (ended by the destructor)
  std::vector<caf::actor> trading; // the ones built from the registry (sent run_atom)

  trading_fixture() { actors::register_trading_actors(registry); }
  ~trading_fixture() {
    b.stop(std::chrono::milliseconds{0});
    for (auto& a : actors)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }
  trading_fixture(const trading_fixture&) = delete;
  trading_fixture& operator=(const trading_fixture&) = delete;

  /// Builds the actor from its type's factory (every param read) and spawns it under name.
  caf::actor spawn(const std::string& type, const std::string& name, const std::string& yaml) {
    const auto* info = registry.find(type);
    REQUIRE(info != nullptr);
    auto p = make_params(yaml);
    auto spawn_fn = info->factory(p);
    REQUIRE(p.unread().empty());
    actor_context ctx;
    ctx.system = &sys;
    ctx.bus = &b;
    ctx.name = name;
    ctx.source = source_id{name};
    ctx.log = spdlog::default_logger();
    ctx.directory = directory;
    ctx.finished = [] {};
    ctx.failed = [](const std::string&) {};
    auto a = spawn_fn(ctx);
    REQUIRE(a);
    trading.push_back(a);
    return add(name, a);
  }

  caf::actor add(const std::string& name, caf::actor a) {
    directory->add(name, a);
    actors.push_back(a);
    return a;
  }

  /// A collector of the bus events of these types.
  std::shared_ptr<collector> watch(std::initializer_list<event_type> types) {
    auto out = std::make_shared<collector>();
    auto a = sys.spawn(collecting_actor, out);
    for (auto t : types)
      b.subscribe(t, a);
    actors.push_back(a);
    return out;
  }

  /// A collector of the events sent directly to an actor registered under name.
  std::shared_ptr<collector> direct(const std::string& name) {
    auto out = std::make_shared<collector>();
    add(name, sys.spawn(direct_sink, out));
    return out;
  }

  /// Starts the bus and sends run_atom to every registry-built actor spawned so far.
  void run() {
    REQUIRE(b.start());
    for (auto& a : trading)
      caf::anon_send(a, run_atom::value);
  }

  void publish(event e) { REQUIRE(b.publish(std::move(e))); }
  void idle() { REQUIRE(b.wait_idle(patience)); }
};

} // namespace libra::testing
