#include "subscriber.hpp"

#include "bus_core.hpp"

namespace libra::detail {

caf::behavior callback_subscriber(caf::event_based_actor* /*self*/, std::shared_ptr<subscription_state> sub) {
  // Exceptions from the handler are caught inside consume(): in CAF 0.17 an uncaught exception
  // would kill this actor (no resume after an exception).
  return {
    [sub](delivery& d) { d.consume(sub->fn); },
  };
}

} // namespace libra::detail
