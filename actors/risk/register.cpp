// register_trading_actors: the trading actor types, each defined in its family's folder.
#include "engine.hpp"

#include <builtin.hpp>
#include <execution/paper.hpp>
#include <position/manager.hpp>
#include <strategy/sma_cross.hpp>

namespace libra::actors {

void register_trading_actors(actor_registry& registry) {
  registry.add("strategy.sma_cross", sma_cross_type());
  registry.add("risk.engine", risk_engine_type());
  registry.add("execution.paper", paper_execution_type());
  registry.add("position.manager", position_manager_type());
}

} // namespace libra::actors
