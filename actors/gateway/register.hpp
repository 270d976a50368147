// The gateway family's registration: gateway.replay and gateway.synthetic, each under its own
// spec's name. Factories only validate: nothing opens or starts until the actor is spawned.
#pragma once

#include <libra/component.hpp>

namespace libra::actors {

/// gateway.replay and gateway.synthetic.
void register_gateway_actors(actor_registry& registry);

void register_replay(actor_registry& registry);
void register_synthetic(actor_registry& registry);

} // namespace libra::actors
