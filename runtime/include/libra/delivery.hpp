// What a subscriber actor receives from the broker: a batch of events, and the helper that runs
// a handler over it. Each batch must be consumed exactly once: consume() runs the handler, counts
// and logs what it throws, and returns the batch's credit to the broker. Called on the subscriber
// actor only.
#pragma once

#include <libra/event.hpp>

#include <caf/allowed_unsafe_message_type.hpp>

#include <atomic>
#include <cstdint>
#include <deque>
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

namespace detail {
struct endpoint_channel;
} // namespace detail

/// A batch of events for one subscriber actor (a CAF message, local only).
///
/// RISK batches come as urgent CAF messages and overtake everything: while a subscriber runs a
/// batch of lower-priority events, it checks before each event whether a RISK batch is on its
/// way, and if so sets the rest of the batch aside (the endpoint's stash) and returns, so that
/// CAF runs the RISK batch next. Set-aside events run right after it, and before any later batch,
/// so order within a priority holds. A RISK event thus waits for at most one event's handler,
/// not for the subscriber's whole credit window.
class delivery {
public:
  delivery() = default;
  using subscription_list = std::vector<std::shared_ptr<detail::subscription_state>>;
  delivery(std::vector<delivery_entry> entries, std::shared_ptr<const subscription_list> subs,
           std::shared_ptr<detail::bus_core> core, std::uint64_t endpoint,
           std::shared_ptr<detail::endpoint_channel> channel = {}, bool urgent = false)
    : entries_{std::move(entries)}, subs_{std::move(subs)}, core_{std::move(core)}, channel_{std::move(channel)},
      endpoint_{endpoint}, urgent_{urgent} {}

  [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
  [[nodiscard]] bool urgent() const noexcept { return urgent_; }

  /// Calls f(event) for each event whose subscription is still active; an exception from f is
  /// logged and counted, and the next event goes on. Events are acknowledged (credit returned)
  /// as they are run. Batches set aside for a RISK batch run first (see above).
  template <class F>
  void consume(F&& f);

private:
  /// Runs events from next_ on; false when it stopped early for a RISK batch (the rest stays).
  template <class F>
  bool run(F& f, bool preemptible);

  std::vector<delivery_entry> entries_;
  std::shared_ptr<const subscription_list> subs_;
  std::shared_ptr<detail::bus_core> core_;
  std::shared_ptr<detail::endpoint_channel> channel_;
  std::uint64_t endpoint_ = 0;
  std::size_t next_ = 0;
  bool urgent_ = false;
};

namespace detail {

/// Shared by the broker and one subscriber actor.
struct endpoint_channel {
  /// Set by the broker before it sends an urgent (RISK) batch; cleared when that batch runs.
  std::atomic<bool> urgent_pending{false};
  /// Subscriber actor only: batches set aside for a RISK batch, oldest first.
  std::deque<delivery> stash;
};

} // namespace detail

template <class F>
bool delivery::run(F& f, bool preemptible) {
  std::uint64_t calls = 0;
  std::size_t done = 0;
  bool finished = true;
  for (; next_ < entries_.size(); ++next_) {
    if (preemptible && channel_ && channel_->urgent_pending.load(std::memory_order_relaxed)) {
      finished = false;
      break;
    }
    const auto& entry = entries_[next_];
    ++done;
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
  if (done > 0 || finished)
    detail::acknowledge(*core_, endpoint_, static_cast<std::uint32_t>(done), calls);
  if (finished)
    core_.reset();
  return finished;
}

template <class F>
void delivery::consume(F&& f) {
  if (!core_)
    return; // consumed already (or default-constructed)
  if (!channel_) {
    (void)run(f, false);
    return;
  }
  auto channel = channel_; // keeps the stash alive while this batch moves into it
  if (urgent_) {
    channel->urgent_pending.store(false, std::memory_order_relaxed);
    (void)run(f, false);
  } else {
    channel->stash.push_back(std::move(*this)); // behind whatever was set aside before
  }
  while (!channel->stash.empty()) {
    if (!channel->stash.front().run(f, true))
      return; // another RISK batch is coming: it runs first, then the stash again
    channel->stash.pop_front();
  }
}

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
