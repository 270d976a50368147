// The gateway family's registration: gateway.replay, gateway.synthetic and gateway.journal, each under its own
// spec's name. Factories only validate: nothing opens or starts until the actor is spawned.
#pragma once

#include <libra/actor_registry.hpp>

namespace libra::actors {

/// gateway.replay, gateway.synthetic and gateway.journal.
void register_gateway_actors(actor_registry& registry);

void register_replay(actor_registry& registry);
void register_synthetic(actor_registry& registry);
void register_journal_replay(actor_registry& registry);

} // namespace libra::actors
