// strategy.sma_cross: a fast/slow moving-average cross (see sma_cross.cpp).
#pragma once

#include <libra/component.hpp>

namespace libra::actors {

/// Params: fast (integer >= 1, default 10), slow (integer > fast, default 30), strength (0..1,
/// default 1), input (tick | bar, default tick), instrument (optional: all when absent).
/// Registers strategy.sma_cross (the strategy family).
void register_strategy_actors(actor_registry& registry);

} // namespace libra::actors
