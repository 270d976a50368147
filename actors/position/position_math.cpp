#include "position_math.hpp"

#include <algorithm>

namespace libra::actors {

namespace {

std::int64_t sign_of(std::int64_t v) noexcept { return v > 0 ? 1 : (v < 0 ? -1 : 0); }
std::int64_t abs_of(std::int64_t v) noexcept { return v < 0 ? -v : v; }

/// (a * x + b * y) / (a + b), rounded half away from zero; a, b > 0 quantities (raw units).
std::int64_t weighted_average(std::int64_t a, std::int64_t x, std::int64_t b, std::int64_t y) noexcept {
  using wide = libra::detail::int128;
  const wide num = static_cast<wide>(a) * x + static_cast<wide>(b) * y;
  const wide den = static_cast<wide>(a) + b;
  const wide half = den / 2;
  return static_cast<std::int64_t>(num < 0 ? (num - half) / den : (num + half) / den);
}

} // namespace

void apply_fill(position& p, const fill& f) noexcept {
  const auto held = p.qty.raw();
  const auto delta = f.sd == side::sell ? -f.qty.raw() : f.qty.raw();
  if (held == 0 || sign_of(held) == sign_of(delta)) {
    p.avg_price = price::from_raw(weighted_average(abs_of(held), p.avg_price.raw(), abs_of(delta), f.px.raw()));
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
