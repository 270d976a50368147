#include <libra/fixed_point.hpp>

#include <cmath>
#include <limits>

namespace libra {

template <class Tag>
std::optional<fixed_decimal<Tag>> fixed_decimal<Tag>::parse(std::string_view text) noexcept {
  if (text.empty())
    return std::nullopt;
  bool negative = false;
  if (text.front() == '-' || text.front() == '+') {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty())
    return std::nullopt;
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  std::int64_t whole = 0;
  std::size_t i = 0;
  bool digits = false;
  for (; i < text.size() && text[i] != '.'; ++i) {
    char c = text[i];
    if (c < '0' || c > '9')
      return std::nullopt;
    if (whole > (max / scale - (c - '0')) / 10)
      return std::nullopt; // whole * scale would overflow
    whole = whole * 10 + (c - '0');
    digits = true;
  }
  std::int64_t frac = 0;
  int frac_digits = 0;
  if (i < text.size()) { // at '.'
    for (++i; i < text.size(); ++i) {
      char c = text[i];
      if (c < '0' || c > '9' || frac_digits == decimals)
        return std::nullopt;
      frac = frac * 10 + (c - '0');
      ++frac_digits;
      digits = true;
    }
  }
  if (!digits)
    return std::nullopt;
  for (int d = frac_digits; d < decimals; ++d)
    frac *= 10;
  // Magnitude in unsigned arithmetic: whole * scale fits (checked above), the fraction may still
  // push it past the int64 range, and INT64_MIN has no positive counterpart.
  const auto mag =
    static_cast<std::uint64_t>(whole) * static_cast<std::uint64_t>(scale) + static_cast<std::uint64_t>(frac);
  const auto limit = static_cast<std::uint64_t>(max) + (negative ? 1U : 0U);
  if (mag > limit)
    return std::nullopt;
  if (!negative)
    return from_raw(static_cast<std::int64_t>(mag));
  return from_raw(mag == limit ? std::numeric_limits<std::int64_t>::min() : -static_cast<std::int64_t>(mag));
}

template <class Tag>
std::string fixed_decimal<Tag>::to_string() const {
  // Avoid INT64_MIN negation overflow by working in unsigned.
  std::uint64_t mag = raw_ < 0 ? 0 - static_cast<std::uint64_t>(raw_) : static_cast<std::uint64_t>(raw_);
  std::string out = raw_ < 0 ? "-" : "";
  out += std::to_string(mag / scale);
  std::uint64_t frac = mag % scale;
  if (frac != 0) {
    std::string f = std::to_string(frac);
    f.insert(0, static_cast<std::size_t>(decimals) - f.size(), '0');
    while (f.back() == '0')
      f.pop_back();
    out += '.';
    out += f;
  }
  return out;
}

template class fixed_decimal<price_tag>;
template class fixed_decimal<quantity_tag>;
template class fixed_decimal<money_tag>;

money apply_rate(money amount, double rate) noexcept {
  const auto rate_raw = static_cast<std::int64_t>(std::llround(rate * static_cast<double>(money::scale)));
  return money::from_raw(static_cast<std::int64_t>(
    detail::divide_rounded(static_cast<detail::int128>(amount.raw()) * rate_raw, money::scale)));
}

} // namespace libra
