#include <libra/text.hpp>

#include <fmt/format.h>

#include <iterator>

namespace libra {

std::string printable(std::string_view s, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(s.size(), max_bytes) + 24);
  std::size_t i = 0;
  while (i < s.size()) {
    const auto rest = s.substr(i);
    const auto n = utf8_sequence_length(rest);
    if (i + std::max<std::size_t>(n, 1) > max_bytes)
      break; // never half a character
    const auto u = static_cast<unsigned char>(s[i]);
    if (n == 0 || u < 0x20 || u == 0x7f) {
      fmt::format_to(std::back_inserter(out), "\\x{:02x}", u);
      ++i;
    } else {
      out.append(rest.substr(0, n));
      i += n;
    }
  }
  if (i < s.size())
    fmt::format_to(std::back_inserter(out), "...({} bytes)", s.size());
  return out;
}

} // namespace libra
