// Short names stored inline (instrument ids, event sources, component names): trivially
// copyable values with no allocation, so an event stays within one 128-byte block.
#pragma once

#include <libra/text.hpp>

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace libra {

/// A name of at most Size - 1 bytes of UTF-8, stored inline and NUL-padded. The limit is in
/// bytes: an ASCII character takes 1, others 2 to 4.
template <std::size_t Size>
class fixed_name {
public:
  static constexpr std::size_t max_length = Size - 1;

  constexpr fixed_name() noexcept = default;

  /// From a literal: too long a literal is a compile error when the object is constexpr.
  template <std::size_t N>
  consteval fixed_name(const char (&text)[N]) { // NOLINT(google-explicit-constructor)
    static_assert(N - 1 <= max_length, "name too long for this fixed_name");
    std::copy_n(text, N - 1, chars_);
  }

  /// From runtime text; throws std::length_error when too long, std::invalid_argument when it
  /// contains a NUL or is not UTF-8 (config boundary).
  explicit fixed_name(std::string_view text) {
    if (text.find('\0') != std::string_view::npos)
      throw std::invalid_argument("name contains a NUL character");
    if (!is_valid_utf8(text))
      throw std::invalid_argument("name '" + printable(text) + "' is not valid UTF-8");
    if (text.size() > max_length)
      throw std::length_error("name '" + printable(text) + "' is longer than " + std::to_string(max_length) + " bytes");
    std::copy(text.begin(), text.end(), chars_);
  }

  /// True when text can be a name: short enough, no NUL, valid UTF-8 (use before constructing
  /// from untrusted input).
  static constexpr bool fits(std::string_view text) noexcept {
    return text.size() <= max_length && text.find('\0') == std::string_view::npos && is_valid_utf8(text);
  }

  [[nodiscard]] constexpr std::string_view view() const noexcept {
    return {chars_, std::char_traits<char>::length(chars_)};
  }
  [[nodiscard]] std::string str() const { return std::string{view()}; }
  [[nodiscard]] constexpr bool empty() const noexcept { return chars_[0] == '\0'; }

  friend constexpr bool operator==(const fixed_name& a, const fixed_name& b) noexcept { return a.view() == b.view(); }
  friend constexpr auto operator<=>(const fixed_name& a, const fixed_name& b) noexcept { return a.view() <=> b.view(); }
  /// Compares with text (a literal, std::string, std::string_view) without converting it.
  template <class Text>
  requires(
    std::is_convertible_v<const Text&, std::string_view> && !std::is_same_v<Text, fixed_name>) friend constexpr bool
  operator==(const fixed_name& a, const Text& b) noexcept {
    return a.view() == std::string_view{b};
  }

private:
  char chars_[Size] = {}; // always NUL-terminated: at most Size - 1 used
};

/// Instrument id such as "EUR/USD" or "6EH4.XCME" (up to 15 bytes).
using instrument_id = fixed_name<16>;
/// Who published an event, e.g. "gateway.binance" (up to 21 bytes).
using source_id = fixed_name<22>;

} // namespace libra

template <std::size_t Size>
struct std::hash<libra::fixed_name<Size>> {
  std::size_t operator()(const libra::fixed_name<Size>& n) const noexcept {
    return std::hash<std::string_view>{}(n.view());
  }
};
