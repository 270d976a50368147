// Shared builders for the trading actor tests: a libra::testing::fixture with the registry that
// register_trading_actors fills (as libra-runtime does), params from YAML text, and events.
#pragma once

#include "../support/bus_fixture.hpp"

#include <builtin.hpp>
#include <libra/actor_registry.hpp>
#include <libra/params.hpp>
#include <libra/testing.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace libra::testing {

/// The config_error a factory throws for these params (fails the test when there is none).
inline config_error factory_error(const actor_registry& reg, const std::string& type, const std::string& yaml) {
  const auto* info = reg.find(type);
  REQUIRE(info != nullptr);
  auto p = yaml_params(yaml);
  try {
    (void)info->factory(p);
  } catch (const config_error& e) {
    return e;
  }
  FAIL("no config_error for " << type << " with " << yaml);
  throw std::logic_error("unreachable");
}

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

/// The trading actor types on a libra::testing::fixture, registered as libra-runtime registers them.
struct trading_fixture : fixture {
  actor_registry registry;

  trading_fixture() { actors::register_trading_actors(registry); }

  /// Builds the actor from its type's factory (every param read) and spawns it under name.
  caf::actor spawn(const std::string& type, const std::string& name, const std::string& yaml) {
    return add(registry, type, name, yaml);
  }
};

} // namespace libra::testing
