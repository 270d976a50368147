// execution.paper: a simulated venue (see paper.cpp).
#pragma once

#include <libra/component.hpp>

namespace libra::actors {

/// Params: fee_rate (0 .. 0.1, default 0.0001), latency_ms (integer >= 0, default 0).
/// Registers execution.paper (the execution family).
void register_execution_actors(actor_registry& registry);

/// fee = notional x rate, exact in fixed point: rate is taken to 9 decimals and the product
/// rounded half away from zero to 1e-9.
[[nodiscard]] money fee_for(money notional, double rate) noexcept;

} // namespace libra::actors
