// JSON string literals, for actors and tools that write JSON (the recorder, the runtime's stats).
#pragma once

#include <libra/export.hpp>

#include <string>
#include <string_view>

namespace libra {

/// Appends `s` to `out` as a quoted JSON string: quote, backslash and control characters escaped,
/// UTF-8 passed through unchanged.
LIBRA_API void append_json_string(std::string& out, std::string_view s);

/// `s` as a quoted JSON string.
[[nodiscard]] inline std::string json_string(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  append_json_string(out, s);
  return out;
}

} // namespace libra
