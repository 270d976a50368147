// The I/O actor types (gateways, recorder), each defined in its own file.
#pragma once

#include <libra/component.hpp>

namespace libra::actors {

actor_type_info replay_type();
actor_type_info synthetic_type();
actor_type_info recorder_type();

/// The required `instrument` param, checked to fit an instrument_id.
instrument_id require_instrument(const params& p);

} // namespace libra::actors
