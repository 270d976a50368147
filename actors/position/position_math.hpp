// Position arithmetic of position.manager, exact in fixed point: applying a fill to a position
// and marking it to market. Pure functions on values; safe from any thread.
#pragma once

#include <libra/payloads.hpp>

namespace libra::actors {

/// Applies a fill to a position (same instrument):
/// - open or add: qty grows, avg_price becomes the quantity-weighted average of the old average
///   and the fill price (rounded to the nearest 1e-9);
/// - reduce or close: avg_price stays, realized_pnl += (fill px - avg) x closed qty x direction
///   (+1 long, -1 short);
/// - flip (the fill is larger than the position): the old side is closed as above and the rest
///   opens at the fill price;
/// - back to flat: avg_price is reset to 0.
/// The fee of every fill (opening ones too) is subtracted from realized_pnl. unrealized_pnl is
/// left as is (see mark_to_market).
void apply_fill(position& p, const fill& f) noexcept;

/// Unrealized PnL of p at mid: (mid - avg_price) x qty (0 when flat).
[[nodiscard]] money mark_to_market(const position& p, price mid) noexcept;

} // namespace libra::actors
