// Input text quoted in an error message or a log line: made printable and cut short. Pure
// functions, thread-safe.
#pragma once

#include <libra/export.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace libra {

/// How much input an error message quotes by default: enough to recognise a value, and a 10 MB
/// value cannot flood stderr.
inline constexpr std::size_t quote_limit = 64;

/// The length of the well-formed UTF-8 sequence that starts s (1 to 4), or 0 when s does not
/// start with one.
[[nodiscard]] constexpr std::size_t utf8_sequence_length(std::string_view s) noexcept {
  if (s.empty())
    return 0;
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80)
    return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xbf; // range of the second byte (RFC 3629's table)
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    n = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 3;
    lo = b0 == 0xe0 ? 0xa0 : 0x80;
    hi = b0 == 0xed ? 0x9f : 0xbf;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 4;
    lo = b0 == 0xf0 ? 0x90 : 0x80;
    hi = b0 == 0xf4 ? 0x8f : 0xbf;
  } else {
    return 0;
  }
  if (s.size() < n)
    return 0;
  for (std::size_t i = 1; i < n; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xbf))
      return 0;
  }
  return n;
}

/// True when s is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
[[nodiscard]] constexpr bool is_valid_utf8(std::string_view s) noexcept {
  while (!s.empty()) {
    const auto n = utf8_sequence_length(s);
    if (n == 0)
      return false;
    s.remove_prefix(n);
  }
  return true;
}

/// The number of characters (code points) of valid UTF-8 text.
[[nodiscard]] constexpr std::size_t utf8_length(std::string_view s) noexcept {
  std::size_t n = 0;
  for (const char c : s)
    n += (static_cast<unsigned char>(c) & 0xc0) != 0x80 ? 1 : 0;
  return n;
}

/// `s` as one printable line: control bytes and bytes that are not part of well-formed UTF-8 as
/// \xNN (a NUL would cut an exception's what() short, an ESC or a CR drives the terminal, a
/// stray byte makes a log line invalid UTF-8); other text, UTF-8 included, unchanged. Input
/// longer than max_bytes is cut at a character boundary at most max_bytes in, followed by
/// "...(N bytes)" with its full size.
[[nodiscard]] LIBRA_API std::string printable(std::string_view s, std::size_t max_bytes = quote_limit);

} // namespace libra
