#include "register.hpp"

#include <builtin.hpp>

namespace libra::actors {

void register_io_actors(actor_registry& registry) {
  registry.add("gateway.replay", replay_type());
  registry.add("gateway.synthetic", synthetic_type());
  registry.add("recorder", recorder_type());
}

} // namespace libra::actors
