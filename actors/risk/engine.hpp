// risk.engine: pre-trade limits and the drawdown circuit breaker (see engine.cpp).
#pragma once

#include <libra/component.hpp>

namespace libra::actors {

/// Params: execution (actor name, required), order_quantity (default 1), max_order_quantity,
/// max_notional, max_position (default 9e9 each: no limit), max_orders_per_second (integer,
/// default 1000), capital (default 1e6), drawdown_warning (fraction of capital, default 0.05),
/// drawdown_halt (fraction >= drawdown_warning, default 0.10).
/// Registers risk.engine (the risk family).
void register_risk_actors(actor_registry& registry);

} // namespace libra::actors
