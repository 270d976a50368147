// position.manager: positions per instrument from fills (see position_math.hpp).
#pragma once

#include <libra/component.hpp>

namespace libra::actors {

/// Params: mark_interval_ms (integer >= 0, default 1000).
/// Registers position.manager (the position family).
void register_position_actors(actor_registry& registry);

} // namespace libra::actors
