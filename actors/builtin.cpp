// Registration of the actor types that ship with libra: the one place that knows every family,
// so that the families do not include each other's files. Each family registers its own types,
// under the names their specs declare.
#include "builtin.hpp"

#include "execution/paper.hpp"
#include "gateway/register.hpp"
#include "position/manager.hpp"
#include "recorder/recorder.hpp"
#include "risk/engine.hpp"
#include "strategy/sma_cross.hpp"

namespace libra::actors {

void register_io_actors(actor_registry& registry) {
  register_gateway_actors(registry);
  register_recorder_actors(registry);
}

void register_trading_actors(actor_registry& registry) {
  register_strategy_actors(registry);
  register_risk_actors(registry);
  register_execution_actors(registry);
  register_position_actors(registry);
}

} // namespace libra::actors
