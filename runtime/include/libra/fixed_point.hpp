// Prices, quantities and money as fixed-point decimals: value types, safe to copy anywhere.
//
// Why fixed point: PnL and position arithmetic must be exact and reproducible (a double sum of
// fills drifts), and an 8-byte integer keeps payloads small. All three types hold an int64 count
// of 1e-9 units (9 decimals, as NautilusTrader's standard precision): enough for FX (5 decimals)
// and crypto (8), with a range of +-9.2e9 units.
#pragma once

#include <libra/export.hpp>

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace libra {

/// Fixed-point decimal with 9 fractional digits; Tag keeps prices, quantities and money apart.
template <class Tag>
class LIBRA_API fixed_decimal {
public:
  static constexpr std::int64_t scale = 1'000'000'000; ///< raw units per 1.0
  static constexpr int decimals = 9;

  constexpr fixed_decimal() noexcept = default;

  /// From raw 1e-9 units.
  static constexpr fixed_decimal from_raw(std::int64_t raw) noexcept {
    fixed_decimal d;
    d.raw_ = raw;
    return d;
  }
  /// From a double, rounded to the nearest 1e-9.
  static constexpr fixed_decimal from_double(double v) noexcept {
    double scaled = v * static_cast<double>(scale);
    return from_raw(static_cast<std::int64_t>(scaled < 0 ? scaled - 0.5 : scaled + 0.5));
  }
  /// Exact parse of a decimal string ("1.121200", "-3", "0.00141342"); nullopt when the text
  /// is not a plain decimal, has more than 9 decimals, or overflows.
  static std::optional<fixed_decimal> parse(std::string_view text) noexcept;

  [[nodiscard]] constexpr std::int64_t raw() const noexcept { return raw_; }
  [[nodiscard]] constexpr double to_double() const noexcept {
    return static_cast<double>(raw_) / static_cast<double>(scale);
  }
  [[nodiscard]] constexpr bool is_zero() const noexcept { return raw_ == 0; }
  /// Decimal text with trailing zeros trimmed ("1.1212", "-3").
  [[nodiscard]] std::string to_string() const;

  constexpr auto operator<=>(const fixed_decimal&) const noexcept =
    default; // NOLINT(modernize-use-nullptr): clang-tidy 14 misfires on defaulted <=>

  constexpr fixed_decimal operator-() const noexcept { return from_raw(-raw_); }
  constexpr fixed_decimal operator+(fixed_decimal o) const noexcept { return from_raw(raw_ + o.raw_); }
  constexpr fixed_decimal operator-(fixed_decimal o) const noexcept { return from_raw(raw_ - o.raw_); }
  constexpr fixed_decimal& operator+=(fixed_decimal o) noexcept {
    raw_ += o.raw_;
    return *this;
  }
  constexpr fixed_decimal& operator-=(fixed_decimal o) noexcept {
    raw_ -= o.raw_;
    return *this;
  }

private:
  std::int64_t raw_ = 0;
};

namespace detail {
__extension__ using int128 = __int128; // GCC/Clang extension; __extension__ keeps -Wpedantic quiet
} // namespace detail

struct LIBRA_API price_tag {};
struct LIBRA_API quantity_tag {};
struct LIBRA_API money_tag {};

/// A price in quote currency per unit.
using price = fixed_decimal<price_tag>;
/// An amount of the instrument (signed: negative positions are short).
using quantity = fixed_decimal<quantity_tag>;
/// An amount of quote currency (notional, fees, PnL).
using money = fixed_decimal<money_tag>;

/// price x quantity -> money, exact with a 128-bit intermediate, rounded half away from zero.
constexpr money operator*(price p, quantity q) noexcept {
  detail::int128 prod = static_cast<detail::int128>(p.raw()) * q.raw();
  detail::int128 half = price::scale / 2;
  prod += prod < 0 ? -half : half;
  return money::from_raw(static_cast<std::int64_t>(prod / price::scale));
}
constexpr money operator*(quantity q, price p) noexcept { return p * q; }

namespace detail {
/// n / d rounded half away from zero (d > 0).
constexpr int128 divide_rounded(int128 n, int128 d) noexcept {
  const int128 half = d / 2;
  return n < 0 ? (n - half) / d : (n + half) / d;
}
} // namespace detail

/// The quantity-weighted average of two prices, (a x qa + b x qb) / (qa + qb), exact with a
/// 128-bit intermediate, rounded half away from zero (a position's average entry price after a
/// fill). qa and qb are taken by magnitude; both zero gives a zero price.
constexpr price average_price(price a, quantity qa, price b, quantity qb) noexcept {
  const detail::int128 wa = qa.raw() < 0 ? -static_cast<detail::int128>(qa.raw()) : qa.raw();
  const detail::int128 wb = qb.raw() < 0 ? -static_cast<detail::int128>(qb.raw()) : qb.raw();
  if (wa + wb == 0)
    return price{};
  return price::from_raw(static_cast<std::int64_t>(detail::divide_rounded(wa * a.raw() + wb * b.raw(), wa + wb)));
}

/// amount x rate (a fee from a fee rate): the rate is taken to 9 decimals, the product is exact
/// and rounded half away from zero to 1e-9.
LIBRA_API money apply_rate(money amount, double rate) noexcept;

/// An exact sum of prices (128-bit: a million prices of any size cannot overflow it), for moving
/// averages that must compare without rounding drift.
class price_sum {
public:
  constexpr price_sum& operator+=(price p) noexcept {
    sum_ += p.raw();
    return *this;
  }
  constexpr price_sum& operator-=(price p) noexcept {
    sum_ -= p.raw();
    return *this;
  }
  /// The mean of n prices summed here (n > 0), rounded half away from zero.
  [[nodiscard]] constexpr price mean(std::size_t n) const noexcept {
    return price::from_raw(static_cast<std::int64_t>(detail::divide_rounded(sum_, static_cast<detail::int128>(n))));
  }
  /// Compares the mean of a's na prices with the mean of b's nb prices, exactly (no division).
  [[nodiscard]] friend constexpr std::strong_ordering compare_means(const price_sum& a, std::size_t na,
                                                                    const price_sum& b, std::size_t nb) noexcept {
    return a.sum_ * static_cast<detail::int128>(nb) <=> b.sum_ * static_cast<detail::int128>(na);
  }

private:
  detail::int128 sum_ = 0;
};

extern template class fixed_decimal<price_tag>;
extern template class fixed_decimal<quantity_tag>;
extern template class fixed_decimal<money_tag>;

} // namespace libra
