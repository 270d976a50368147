// Registration of the actor types that ship with libra (builtin.cpp, the one file that knows
// every family); the runtime calls register_builtin_actors once at start-up.
#pragma once

#include <libra/actor_registry.hpp>

namespace libra::actors {

/// gateway.replay, gateway.synthetic, gateway.journal, recorder
void register_io_actors(actor_registry& registry);
/// strategy.sma_cross, risk.engine, execution.paper, position.manager
void register_trading_actors(actor_registry& registry);

inline void register_builtin_actors(actor_registry& registry) {
  register_io_actors(registry);
  register_trading_actors(registry);
}

} // namespace libra::actors
