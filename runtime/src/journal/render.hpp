// Journal records as text for people (one line) and as JSON lines for tools (libra-journal cat).
#pragma once

#include "codec.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace libra::journal {

/// "2020-01-01T00:00:00.123456789Z".
[[nodiscard]] std::string utc_text(timestamp t);
/// Parses an integer of ns since the epoch, or "YYYY-MM-DD[THH:MM[:SS[.fraction]]][Z]" (UTC).
[[nodiscard]] std::optional<timestamp> parse_utc(std::string_view text);
/// Parses 32 hex digits (a trace id), or a W3C traceparent "00-<trace>-<span>-<flags>".
[[nodiscard]] std::optional<trace_id> parse_trace_id(std::string_view text);

/// One line: sequence, time, type, source, trace/span ids, then every payload field as key=value
/// (the JSON form's names, in its order).
[[nodiscard]] std::string to_text(const record& r);
/// One JSON object (no newline) with every field of the record; payload fields under "payload".
[[nodiscard]] std::string to_json(const record& r);
/// The payload's fields only, as key=value pairs (for trace's tree).
[[nodiscard]] std::string payload_text(const event& e);

} // namespace libra::journal
