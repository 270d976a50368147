#include "subscriber.hpp"

#include <libra/delivery.hpp>

namespace libra::detail {

caf::behavior callback_subscriber(caf::event_based_actor* /*self*/, libra::handler fn) {
  // Exceptions from the handler are caught inside consume(): in CAF 0.17 an uncaught exception
  // would kill this actor (no resume after an exception).
  return {
    [fn = std::move(fn)](delivery& d) { d.consume(fn); },
  };
}

} // namespace libra::detail
