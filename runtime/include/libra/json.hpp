// JSON for actors and tools that write it: string literals, and an event as one JSON object
// (the recorder's lines and libra-journal cat --json write the same form).
#pragma once

#include <libra/event.hpp>
#include <libra/export.hpp>

#include <optional>
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

/// t as ISO 8601 UTC text with 3, 6 or 9 fractional digits, as many as it needs:
/// "2020-01-01T22:00:00.065Z".
[[nodiscard]] LIBRA_API std::string format_utc(timestamp t);

/// Appends e as one JSON object: type, priority, time (format_utc), time_ns, source, sequence,
/// trace_id, span_id, traceparent, parent_span_id (when given: a journal records it) and
/// payload, an object of the payload's fields (prices and quantities as decimal strings, exact;
/// order book levels as [{price, size}], risk texts as message).
LIBRA_API void append_event_json(std::string& out, const event& e, std::optional<span_id> parent = std::nullopt);

/// append_event_json() into a new string.
[[nodiscard]] inline std::string event_json(const event& e, std::optional<span_id> parent = std::nullopt) {
  std::string out;
  out.reserve(384);
  append_event_json(out, e, parent);
  return out;
}

} // namespace libra
