// Timestamps as text, shared by the actor families (the gateways' error messages, the recorder's
// JSON lines). Pure functions; safe from any thread.
#pragma once

#include <libra/event.hpp>

#include <string>

namespace libra::actors {

/// A timestamp as ISO 8601 UTC text with millisecond, microsecond or nanosecond digits as
/// needed: "2020-01-01T22:00:00.065Z".
[[nodiscard]] std::string format_utc(timestamp t);

} // namespace libra::actors
