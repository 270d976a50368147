// Params that name market things, shared by the actor families: the instrument an actor trades
// or quotes, and exact decimal prices. Run by factories (validation only): config_error located
// at the key.
#pragma once

#include <libra/params.hpp>
#include <libra/payloads.hpp>

#include <string_view>

namespace libra::actors {

/// The required `instrument` param: a name of 1 to instrument_id::max_length bytes (params::require_name).
[[nodiscard]] instrument_id require_instrument(const params& p);

/// A price param given as a plain decimal ("1.1", "0.00001"), parsed exactly; fallback when
/// absent. Fails unless the value is at least min (or above it, when min_exclusive).
[[nodiscard]] price decimal_param(const params& p, std::string_view key, price fallback, price min, bool min_exclusive);

} // namespace libra::actors
