#include "position_math.hpp"

#include <algorithm>

namespace libra::actors {

namespace {

std::int64_t sign_of(std::int64_t v) noexcept { return v > 0 ? 1 : (v < 0 ? -1 : 0); }
std::int64_t abs_of(std::int64_t v) noexcept { return v < 0 ? -v : v; }

} // namespace

void apply_fill(position& p, const fill& f) noexcept {
  const auto held = p.quantity.raw();
  const auto delta = f.side == side::sell ? -f.quantity.raw() : f.quantity.raw();
  if (held == 0 || sign_of(held) == sign_of(delta)) {
    p.average_price = average_price(p.average_price, p.quantity, f.price, f.quantity);
  } else {
    const auto closed = quantity::from_raw(std::min(abs_of(held), abs_of(delta)));
    const auto pnl = (f.price - p.average_price) * closed;
    p.realized_pnl += held > 0 ? pnl : -pnl;
    if (abs_of(delta) > abs_of(held))
      p.average_price = f.price; // flipped: the remainder opened at the fill price
  }
  p.realized_pnl -= f.fee;
  p.quantity = quantity::from_raw(held + delta);
  if (p.quantity.is_zero())
    p.average_price = price{};
}

money mark_to_market(const position& p, price mid) noexcept {
  return p.quantity.is_zero() ? money{} : (mid - p.average_price) * p.quantity;
}

} // namespace libra::actors
