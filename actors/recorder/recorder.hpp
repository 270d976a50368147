// recorder: writes chosen event types to a JSON-lines file, one event per line.
#pragma once

#include <libra/component.hpp>

namespace libra::actors {

/// Params: `file` (path of a regular file, created with missing parent directories and locked when
/// the actor is spawned, emptied when the run starts), `types` (list of event type names such as
/// TICK, ORDER_NEW; all types when absent).
/// Registers recorder (the recorder family).
void register_recorder_actors(actor_registry& registry);

} // namespace libra::actors
