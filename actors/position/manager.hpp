// position.manager: positions per instrument from fills (see position_math.hpp).
#pragma once

#include <libra/component.hpp>

namespace libra::actors {

/// Params: mark_interval_ms (integer >= 0, default 1000).
actor_type_info position_manager_type();

} // namespace libra::actors
