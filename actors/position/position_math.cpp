#include "position_math.hpp"

#include <algorithm>

namespace libra::actors {

namespace {

std::int64_t sign_of(std::int64_t v) noexcept { return v > 0 ? 1 : (v < 0 ? -1 : 0); }
std::int64_t abs_of(std::int64_t v) noexcept { return v < 0 ? -v : v; }

} // namespace

void apply_fill(position& p, const fill& f) noexcept {
  const auto held = p.qty.raw();
  const auto delta = f.sd == side::sell ? -f.qty.raw() : f.qty.raw();
  if (held == 0 || sign_of(held) == sign_of(delta)) {
    p.avg_price = average_price(p.avg_price, p.qty, f.px, f.qty);
  } else {
    const auto closed = quantity::from_raw(std::min(abs_of(held), abs_of(delta)));
    const auto pnl = (f.px - p.avg_price) * closed;
    p.realized_pnl += held > 0 ? pnl : -pnl;
    if (abs_of(delta) > abs_of(held))
      p.avg_price = f.px; // flipped: the remainder opened at the fill price
  }
  p.realized_pnl -= f.fee;
  p.qty = quantity::from_raw(held + delta);
  if (p.qty.is_zero())
    p.avg_price = price{};
}

money mark_to_market(const position& p, price mid) noexcept {
  return p.qty.is_zero() ? money{} : (mid - p.avg_price) * p.qty;
}

} // namespace libra::actors
