// How events reach a subscriber actor: a `delivery` CAF message wakes it, and on_events() runs the
// events waiting for it (the hand-off rings behind it are in libra/detail/handoff.hpp). Called
// on the subscriber actor only.
#pragma once

#include <libra/export.hpp>

#include <libra/detail/handoff.hpp>
#include <libra/event.hpp>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>

#include <memory>
#include <utility>

namespace libra {

/// The CAF message that wakes a subscriber actor: its events are in the endpoint's rings.
///
/// Each priority has its own ring, and the subscriber always runs the next event of the highest
/// one that has one: an event waits for at most one handler call of a lower priority (RISK
/// behind a tick, an order behind a tick), whatever the credit window. RISK events also come with
/// an urgent wake, which overtakes the subscriber's mailbox.
class LIBRA_API delivery {
public:
  delivery() = default;
  delivery(std::shared_ptr<detail::endpoint_channel> channel, caf::actor subscriber, bool urgent)
    : channel_{std::move(channel)}, subscriber_{std::move(subscriber)}, urgent_{urgent} {}

  [[nodiscard]] bool urgent() const noexcept { return urgent_; }

  /// Calls f(event) for each waiting event whose subscription is still active; an exception from
  /// f is logged and counted, and the next event goes on. Credit is returned as events are run.
  /// A delivery runs at most once; consuming one is what keeps the subscriber's events flowing.
  template <class F>
  void consume(F&& f) {
    if (auto ch = std::move(channel_); ch && !ch->drain(f))
      detail::rewake(subscriber_, std::move(ch));
  }

private:
  std::shared_ptr<detail::endpoint_channel> channel_;
  caf::actor subscriber_;
  bool urgent_ = false;
};

/// A CAF message handler for an actor that subscribed itself (bus::subscribe(type, actor)):
/// `return { libra::on_events([=](const libra::event& e) { ... }), ... };`
template <class F>
auto on_events(F f) {
  return [f = std::move(f)](delivery& d) mutable { d.consume(f); };
}

} // namespace libra

// Deliveries never leave the process (they hold shared pointers into the bus), so they are not
// serializable; CAF needs to be told that this is intended.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(libra::delivery)
