// The gateway types (gateway.replay, gateway.synthetic) and the param helpers they share.
// Factories only validate: nothing opens or starts until the spawn_fn runs.
#pragma once

#include <libra/component.hpp>

#include <string_view>

namespace libra::actors {

actor_type_info replay_type();
actor_type_info synthetic_type();

/// The required `instrument` param: a name of 1 to instrument_id::max_length bytes (params::require_name).
instrument_id require_instrument(const params& p);

/// A price param given as a plain decimal ("1.1", "0.00001"), parsed exactly; fallback when
/// absent. Fails unless the value is at least min (or above it, when min_exclusive).
price decimal_param(const params& p, std::string_view key, price fallback, price min, bool min_exclusive);

} // namespace libra::actors
