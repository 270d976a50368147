// The actor a callback handler runs on: one per handler identity, shared by every subscription
// made with that handler (or a copy of it). Different handlers run in parallel; one handler sees
// its events one at a time, in the bus's priority order, on one actor.
#pragma once

#include <libra/handler.hpp>

#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>

namespace libra::detail {

caf::behavior callback_subscriber(caf::event_based_actor* self, libra::handler fn);

} // namespace libra::detail
