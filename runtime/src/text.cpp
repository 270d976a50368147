#include <libra/text.hpp>

#include <fmt/format.h>

namespace libra {

std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f)
      fmt::format_to(std::back_inserter(out), "\\x{:02x}", u);
    else
      out += c;
  }
  return out;
}

} // namespace libra
