// Internals of the hand-off between the broker and a subscriber actor; public only because the
// templates in libra/delivery.hpp run them on the subscriber. Not for actor authors.
//
// The broker writes a subscriber's events into single-producer single-consumer rings owned by
// that subscriber's channel, one per priority: RISK's (risk_ring_capacity), and one of W slots
// (the credit window) for each of ORDERS, SIGNALS and MARKET_DATA. The subscriber always takes
// the next event from the highest-priority ring that has one, so an event waits for at most one
// handler call of a lower priority whatever W is (one shared ring below RISK made an ORDER_NEW
// wait for up to W tick handlers: W had to be small for orders and large for throughput). A
// subscriber that is running keeps taking events from its rings without any message, and it
// returns credit by advancing a ring's head (an atomic store), with a CAF message to the broker
// only when the broker is waiting for that credit.
#pragma once

#include <libra/export.hpp>

#include <libra/event.hpp>

#include <caf/actor.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <exception>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

namespace libra::detail {
class bus_core;
struct subscription_state;
class endpoint_channel;
class handoff_ring;
LIBRA_API bool is_active(const subscription_state& s) noexcept;
LIBRA_API std::int64_t steady_now_ns() noexcept;
LIBRA_API void record_latency(bus_core& core, priority p, std::int64_t admitted_ns, std::int64_t now_ns) noexcept;
LIBRA_API void report_handler_error(bus_core& core, const subscription_state& s, const event& e,
                                    std::exception_ptr what) noexcept;
/// Counts calls, then publishes the ring's new head (credit back to the broker), and sends the
/// broker an ack when it asked to hear about this much credit.
LIBRA_API void return_credit(endpoint_channel& ch, handoff_ring& ring, std::uint64_t head,
                             std::uint64_t calls) noexcept;
/// Sends the subscriber a wake for the events it left in its rings (it used up its budget).
LIBRA_API void rewake(const caf::actor& subscriber, std::shared_ptr<endpoint_channel> ch) noexcept;

/// Marks a subscriber as running handlers for the scope's lifetime (bus::wait_idle after stop()
/// waits for none, unsubscribe waits for the one running), and tells whether the bus has halted
/// (no handler call may start).
class LIBRA_API drain_scope {
public:
  drain_scope(bus_core& core, endpoint_channel& ch) noexcept;
  ~drain_scope();
  drain_scope(const drain_scope&) = delete;
  drain_scope& operator=(const drain_scope&) = delete;
  [[nodiscard]] bool halted() const noexcept;

private:
  bus_core& core_;
  endpoint_channel& ch_;
};

/// Most RISK events handed to one subscriber and not yet handled (outside the credit window).
inline constexpr std::uint32_t risk_ring_capacity = 64;

/// A bounded ring of events from the broker (its only producer) to one subscriber actor (its only
/// consumer). Positions count up forever; a slot holds an event from construction by the producer
/// until the consumer has run it and destroyed it.
class LIBRA_API handoff_ring {
public:
  struct slot {
    slot() noexcept {} // NOLINT(modernize-use-equals-default): the union member stays unconstructed
    ~slot() {}         // NOLINT(modernize-use-equals-default): the ring destroys live events
    slot(const slot&) = delete;
    slot& operator=(const slot&) = delete;
    union {
      event ev;
    };
    std::int64_t admitted_ns = 0;            ///< steady clock ns for the latency sample, 0 if unsampled
    const subscription_state* sub = nullptr; ///< the subscription it matched (kept alive by the broker)
  };

  explicit handoff_ring(std::uint32_t capacity)
    : mask_{std::bit_ceil(std::uint64_t{capacity}) - 1}, slots_{std::make_unique<slot[]>(mask_ + 1)} {}
  handoff_ring(const handoff_ring&) = delete;
  handoff_ring& operator=(const handoff_ring&) = delete;
  ~handoff_ring() {
    for (auto i = head.load(std::memory_order_acquire); i != tail.load(std::memory_order_acquire); ++i)
      std::destroy_at(&at(i).ev);
  }

  [[nodiscard]] slot& at(std::uint64_t pos) noexcept { return slots_[pos & mask_]; }
  /// Consumer side: nothing left to run (relaxed; the caller orders it).
  [[nodiscard]] bool drained() const noexcept {
    return tail.load(std::memory_order_relaxed) == head.load(std::memory_order_relaxed);
  }
  /// Events written and not yet consumed (exact on the producer's side).
  [[nodiscard]] std::uint64_t in_flight() const noexcept {
    return tail.load(std::memory_order_relaxed) - head.load(std::memory_order_acquire);
  }

  // Written by the producer: events [0, tail) are readable. notify_at: the consumer acks once its
  // head reaches it (0: no ack wanted).
  alignas(64) std::atomic<std::uint64_t> tail{0};
  std::atomic<std::uint64_t> notify_at{0};
  // Written by the consumer: events [0, head) are done (run and destroyed).
  alignas(64) std::atomic<std::uint64_t> head{0};

private:
  std::uint64_t mask_;
  std::unique_ptr<slot[]> slots_;
};

/// The hand-off between the broker and one subscriber actor (an endpoint).
class LIBRA_API endpoint_channel {
public:
  endpoint_channel(std::shared_ptr<bus_core> core, std::uint32_t window, std::uint32_t batch)
    : core_{std::move(core)}, batch_{batch}, budget_{std::max<std::uint64_t>(window, min_budget)},
      rings{handoff_ring{risk_ring_capacity}, handoff_ring{window}, handoff_ring{window}, handoff_ring{window}} {}

  /// Runs the events in the rings, always the next one of the highest-priority ring that has
  /// one. Returns true when all are empty (and the broker knows it), or false after a budget of
  /// events (while the broker keeps refilling, the actor must still give its worker thread back
  /// now and then): the caller owes the subscriber a wake.
  template <class F>
  bool drain(F& f);

  [[nodiscard]] bus_core& core() const noexcept { return *core_; }
  [[nodiscard]] handoff_ring& ring(priority p) noexcept { return rings[static_cast<std::size_t>(p)]; }

private:
  /// Events one wake may run at least (CAF hands the worker on after max-throughput messages;
  /// a wake is one message).
  static constexpr std::uint64_t min_budget = 256;

  std::shared_ptr<bus_core> core_;
  std::uint32_t batch_;  // credit goes back every batch_ events (k), and when a ring runs dry
  std::uint64_t budget_; // events per drain() call

public:
  /// One ring per priority, RISK first.
  std::array<handoff_ring, priority_count> rings;
  /// True while the subscriber is not draining and no wake message is on its way: the broker's
  /// next write must send one.
  alignas(64) std::atomic<bool> idle{true};
  /// Counts drain() calls in and out (odd while one runs), and the thread running it: an
  /// unsubscribe waits for the drain that may be calling the subscription it removed.
  std::atomic<std::uint64_t> drains{0};
  std::atomic<std::thread::id> runner{};
  /// Broker: events of each priority it holds that this subscriber has not been handed yet, as
  /// of its last pump (relaxed; read by bus::subscribers()).
  std::array<std::atomic<std::uint64_t>, priority_count> lag{};
  /// Broker only: subscriptions removed while the rings may still hold events that point at
  /// them, with the ring positions (per priority) after which they can go.
  struct retired_sub {
    std::array<std::uint64_t, priority_count> end;
    std::shared_ptr<subscription_state> sub;
  };
  std::vector<retired_sub> retired;
};

template <class F>
bool endpoint_channel::drain(F& f) {
  const drain_scope scope{*core_, *this};
  // Per ring: our head, the tail last read, events run since credit last went back, and how
  // many of them called a handler.
  std::array<std::uint64_t, priority_count> head{};
  std::array<std::uint64_t, priority_count> tail{};
  std::array<std::uint32_t, priority_count> unacked{};
  std::array<std::uint64_t, priority_count> calls{};
  for (std::size_t q = 0; q < priority_count; ++q) {
    head[q] = rings[q].head.load(std::memory_order_relaxed); // ours
    tail[q] = head[q];
  }
  auto give_back = [&](std::size_t q) {
    if (unacked[q] > 0) {
      return_credit(*this, rings[q], head[q], calls[q]);
      calls[q] = 0;
      unacked[q] = 0;
    }
  };
  auto left = budget_;
  for (;;) {
    // The highest-priority ring with an event: re-read a ring's tail only once we have run what
    // we saw of it (a read per event of the ones above the current one, as RISK's was before).
    std::size_t p = priority_count;
    for (std::size_t q = 0; q < priority_count; ++q) {
      if (head[q] == tail[q]) {
        give_back(q); // ran dry: the broker may be waiting to refill it
        tail[q] = rings[q].tail.load(std::memory_order_acquire);
      }
      if (head[q] != tail[q]) {
        p = q;
        break;
      }
    }
    if (p == priority_count) {
      // Going idle. Pairs with the broker's publish-tail-then-read-idle (Dekker): either it sees
      // idle and sends a wake, or we see its events here.
      idle.store(true, std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_seq_cst);
      bool empty = true;
      for (auto& r : rings)
        empty = empty && r.drained();
      if (empty)
        return true;
      if (!idle.exchange(false, std::memory_order_acq_rel))
        return true; // the broker saw us idle and sent a wake: that message drains them
      continue;
    }
    if (left == 0) {
      for (std::size_t q = 0; q < priority_count; ++q)
        give_back(q);
      return false; // not idle: the caller sends the wake
    }
    --left;
    auto& s = rings[p].at(head[p]);
    // Unsubscribed after dispatch: no call after unsubscribe() returned; bus stopped (drain
    // timed out): no call after stop() returned.
    if (is_active(*s.sub) && !scope.halted()) {
      if (s.admitted_ns != 0)
        record_latency(*core_, s.ev.priority(), s.admitted_ns, steady_now_ns());
      ++calls[p];
      try {
        f(s.ev);
      } catch (...) {
        report_handler_error(*core_, *s.sub, s.ev, std::current_exception());
      }
    }
    std::destroy_at(&s.ev);
    ++head[p];
    if (++unacked[p] == batch_)
      give_back(p);
  }
}

} // namespace libra::detail
