// One event as one line of JSON, as the recorder writes it: plain functions, any thread.
#pragma once

#include <libra/event.hpp>

#include <string>

namespace libra::actors {

/// The event as one JSON object without a line break: type, priority, time (ISO 8601 UTC),
/// time_ns, source, sequence, trace_id, span_id, traceparent, and payload with the fields of its
/// kind. Prices, quantities and money are decimal strings (exact); enums are their names; a
/// non-finite double is null.
std::string to_json_line(const event& e);

} // namespace libra::actors
