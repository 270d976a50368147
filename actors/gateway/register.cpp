#include "register.hpp"

namespace libra::actors {

void register_gateway_actors(actor_registry& registry) {
  register_replay(registry);
  register_synthetic(registry);
  register_journal_replay(registry);
}

} // namespace libra::actors
