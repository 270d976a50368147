// execution.paper: a simulated venue (see paper.cpp).
#pragma once

#include <libra/component.hpp>

namespace libra::actors {

/// Params: fee_rate (0 .. 0.1, default 0.0001), latency_ms (integer >= 0, default 0).
actor_type_info paper_execution_type();

/// fee = notional x rate, exact in fixed point: rate is taken to 9 decimals and the product
/// rounded half away from zero to 1e-9.
[[nodiscard]] money fee_for(money notional, double rate) noexcept;

} // namespace libra::actors
