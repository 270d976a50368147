// What a subscriber actor receives from the broker: a batch of events, and the helper that runs
// a handler over it. Each batch must be consumed exactly once: consume() runs the handler, counts
// and logs what it throws, and returns the batch's credit to the broker. Called on the subscriber
// actor only.
#pragma once

#include <libra/event.hpp>

#include <caf/allowed_unsafe_message_type.hpp>

#include <cstdint>
#include <exception>
#include <memory>
#include <utility>
#include <vector>

namespace libra {

namespace detail {
class bus_core;
struct subscription_state;
bool is_active(const subscription_state& s) noexcept;
std::int64_t steady_now_ns() noexcept;
void record_latency(bus_core& core, priority p, std::int64_t admitted_ns, std::int64_t now_ns) noexcept;
void report_handler_error(bus_core& core, const subscription_state& s, const event& e,
                          std::exception_ptr what) noexcept;
void acknowledge(bus_core& core, std::uint64_t endpoint, std::uint32_t events, std::uint64_t calls) noexcept;
} // namespace detail

/// One event of a batch, with its admission time (steady clock ns, for latency; 0 when this
/// event is not in the latency sample) and the index of the subscription it matched.
struct delivery_entry {
  event ev;
  std::int64_t admitted_ns;
  std::uint32_t sub_index;
};

/// A batch of events for one subscriber actor (a CAF message, local only).
class delivery {
public:
  delivery() = default;
  using subscription_list = std::vector<std::shared_ptr<detail::subscription_state>>;
  delivery(std::vector<delivery_entry> entries, std::shared_ptr<const subscription_list> subs,
           std::shared_ptr<detail::bus_core> core, std::uint64_t endpoint)
    : entries_{std::move(entries)}, subs_{std::move(subs)}, core_{std::move(core)}, endpoint_{endpoint} {}

  [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }

  /// Calls f(event) for each event whose subscription is still active; an exception from f is
  /// logged and counted, and the next event goes on. Then acknowledges the batch.
  template <class F>
  void consume(F&& f) {
    if (!core_)
      return; // consumed already (or default-constructed)
    std::uint64_t calls = 0;
    for (const auto& entry : entries_) {
      const auto& sub = *(*subs_)[entry.sub_index];
      if (!detail::is_active(sub))
        continue; // unsubscribed after dispatch: no call after unsubscribe() returned
      if (entry.admitted_ns != 0)
        detail::record_latency(*core_, entry.ev.priority(), entry.admitted_ns, detail::steady_now_ns());
      ++calls;
      try {
        f(entry.ev);
      } catch (...) {
        detail::report_handler_error(*core_, sub, entry.ev, std::current_exception());
      }
    }
    detail::acknowledge(*core_, endpoint_, static_cast<std::uint32_t>(entries_.size()), calls);
    core_.reset();
  }

private:
  std::vector<delivery_entry> entries_;
  std::shared_ptr<const subscription_list> subs_;
  std::shared_ptr<detail::bus_core> core_;
  std::uint64_t endpoint_ = 0;
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
