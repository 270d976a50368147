// Input text quoted in an error message or a log line.
#pragma once

#include <string>
#include <string_view>

namespace libra {

/// `s` with control bytes shown as \xNN: a NUL would cut an exception's what() short, and raw
/// control bytes (an ESC, a CR) garble the one-line message or drive the terminal. Other bytes,
/// UTF-8 included, pass through unchanged.
[[nodiscard]] std::string printable(std::string_view s);

} // namespace libra
