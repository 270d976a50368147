// Registration of the actor types that ship with libra: the one place that knows every family,
// so that the families do not include each other's files.
#include "builtin.hpp"

#include "execution/paper.hpp"
#include "gateway/register.hpp"
#include "position/manager.hpp"
#include "recorder/recorder.hpp"
#include "risk/engine.hpp"
#include "strategy/sma_cross.hpp"

namespace libra::actors {

void register_io_actors(actor_registry& registry) {
  registry.add("gateway.replay", replay_type());
  registry.add("gateway.synthetic", synthetic_type());
  registry.add("recorder", recorder_type());
}

void register_trading_actors(actor_registry& registry) {
  registry.add("strategy.sma_cross", sma_cross_type());
  registry.add("risk.engine", risk_engine_type());
  registry.add("execution.paper", paper_execution_type());
  registry.add("position.manager", position_manager_type());
}

} // namespace libra::actors
