// The actor a callback subscription runs on: one per subscription, so subscribers run in
// parallel and each sees its events one at a time.
#pragma once

#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>

#include <memory>

namespace libra::detail {

struct subscription_state;

caf::behavior callback_subscriber(caf::event_based_actor* self, std::shared_ptr<subscription_state> sub);

} // namespace libra::detail
