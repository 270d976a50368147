// Internals of the hand-off between the broker and a subscriber actor; public only because the
// templates in libra/delivery.hpp run them on the subscriber. Not for actor authors.
//
// The broker writes a subscriber's events into two single-producer single-consumer rings owned by
// that subscriber's channel: one for RISK, one for everything else (capacity W, the credit
// window). A subscriber that is running keeps taking events from its rings without any message,
// and it returns credit by advancing the ring's head (an atomic store), with a CAF message to the
// broker only when the broker is waiting for that credit.
#pragma once

#include <libra/export.hpp>

#include <libra/event.hpp>

#include <caf/actor.hpp>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <exception>
#include <memory>
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
/// waits for none), and tells whether the bus has halted (no handler call may start).
class LIBRA_API drain_scope {
public:
  explicit drain_scope(bus_core& core) noexcept;
  ~drain_scope();
  drain_scope(const drain_scope&) = delete;
  drain_scope& operator=(const drain_scope&) = delete;
  [[nodiscard]] bool halted() const noexcept;

private:
  bus_core& core_;
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
    : core_{std::move(core)}, batch_{batch}, budget_{std::max<std::uint64_t>(window, min_budget)}, normal{window},
      risk{risk_ring_capacity} {}

  /// Runs the events in the rings, RISK first, and RISK ahead of the next event of the other
  /// ring whenever one arrives. Returns when both are empty (and the broker knows it), or false
  /// after a budget of events (while the broker keeps refilling, the actor must still give its
  /// worker thread back now and then): the caller owes the subscriber a wake.
  template <class F>
  bool drain(F& f);

  [[nodiscard]] bus_core& core() const noexcept { return *core_; }

private:
  /// Runs up to limit events of ring; returns how many it ran.
  template <class F>
  std::uint64_t run(handoff_ring& ring, F& f, bool preemptible, std::uint64_t limit, const drain_scope& scope);

  /// Events one wake may run at least (CAF hands the worker on after max-throughput messages;
  /// a wake is one message).
  static constexpr std::uint64_t min_budget = 256;

  std::shared_ptr<bus_core> core_;
  std::uint32_t batch_;  // credit goes back every batch_ events (k), and when a ring runs dry
  std::uint64_t budget_; // events per drain() call

public:
  handoff_ring normal;
  handoff_ring risk;
  /// True while the subscriber is not draining and no wake message is on its way: the broker's
  /// next write must send one.
  alignas(64) std::atomic<bool> idle{true};
  /// Broker only: subscriptions removed while the rings may still hold events that point at
  /// them, with the ring positions after which they can go.
  struct retired_sub {
    std::uint64_t normal_end;
    std::uint64_t risk_end;
    std::shared_ptr<subscription_state> sub;
  };
  std::vector<retired_sub> retired;
};

template <class F>
std::uint64_t endpoint_channel::run(handoff_ring& ring, F& f, bool preemptible, std::uint64_t limit,
                                    const drain_scope& scope) {
  const auto start = ring.head.load(std::memory_order_relaxed); // ours
  const auto stop = start + limit;
  auto h = start;
  auto t = std::min(ring.tail.load(std::memory_order_acquire), stop);
  std::uint64_t calls = 0;
  std::uint32_t unacked = 0;
  while (h != t) {
    if (preemptible && !risk.drained()) {
      // A RISK event arrived: it goes before the next event of this ring.
      if (unacked > 0) {
        return_credit(*this, ring, h, calls);
        calls = 0;
        unacked = 0;
      }
      run(risk, f, false, risk_ring_capacity, scope);
    }
    auto& s = ring.at(h);
    // Unsubscribed after dispatch: no call after unsubscribe() returned; bus stopped (drain
    // timed out): no call after stop() returned.
    if (is_active(*s.sub) && !scope.halted()) {
      if (s.admitted_ns != 0)
        record_latency(*core_, s.ev.priority(), s.admitted_ns, steady_now_ns());
      ++calls;
      try {
        f(s.ev);
      } catch (...) {
        report_handler_error(*core_, *s.sub, s.ev, std::current_exception());
      }
    }
    std::destroy_at(&s.ev);
    ++h;
    if (++unacked == batch_) {
      return_credit(*this, ring, h, calls);
      calls = 0;
      unacked = 0;
    }
    if (h == t)
      t = std::min(ring.tail.load(std::memory_order_acquire), stop);
  }
  if (unacked > 0)
    return_credit(*this, ring, h, calls);
  return h - start;
}

template <class F>
bool endpoint_channel::drain(F& f) {
  const drain_scope scope{*core_};
  auto left = budget_;
  for (;;) {
    run(risk, f, false, risk_ring_capacity, scope);
    left -= run(normal, f, true, left, scope);
    if (left == 0)
      return false; // not idle: the caller sends the wake
    // Going idle. Pairs with the broker's publish-tail-then-read-idle (Dekker): either it sees
    // idle and sends a wake, or we see its events here.
    idle.store(true, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (risk.drained() && normal.drained())
      return true;
    if (!idle.exchange(false, std::memory_order_acq_rel))
      return true; // the broker saw us idle and sent a wake: that message drains them
  }
}

} // namespace libra::detail
