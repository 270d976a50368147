// libra::bus: the event bus. It fronts one broker actor that dispatches strictly by priority
// (RISK > ORDERS > SIGNALS > MARKET_DATA, FIFO per publisher within one priority) to subscriber
// actors, with credit-based flow control. All member functions are thread-safe; publish() is
// lock-free and never blocks. Design and measurements: runtime/src/broker.hpp.
#pragma once

#include <libra/export.hpp>

#include <libra/bus_config.hpp>
#include <libra/bus_stats.hpp>
#include <libra/delivery.hpp>
#include <libra/event.hpp>
#include <libra/handler.hpp>
#include <libra/publish_result.hpp>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <vector>

namespace libra {

namespace detail {
class bus_core;
struct producer_tokens;
} // namespace detail

/// Thrown by subscribe() (too many handlers, bus stopped, bad arguments) and by bus's
/// constructor (invalid bus_config).
class LIBRA_API bus_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// What a subscription gets while its subscriber is behind (its credit window full).
enum class conflation : std::uint8_t {
  /// Every event: the events it has not had yet wait in the bus (holding capacity: a slow
  /// subscriber back-pressures the publishers).
  none,
  /// Only the newest event per instrument (and type): the bus keeps one per instrument for the
  /// subscriber and replaces it with each newer one (stats().conflated counts the replaced ones),
  /// so its memory is bounded by the number of instruments and the subscriber holds back no
  /// capacity. After falling behind the subscriber gets them in the order of their last update.
  /// For TICK, BAR and ORDER_BOOK only: subscribe() refuses it for any other type.
  by_instrument,
};

/// Options of one subscription.
struct subscribe_options {
  conflation conflate = conflation::none;
};

/// One subscriber actor as the broker sees it (bus::subscribers()). Per priority (indexed by
/// priority, RISK first): in_flight, events handed to it and not yet handled (its credit in use:
/// at most credit_window below RISK, risk_ring_capacity for RISK); lag, events of the priority
/// admitted and not yet handed to it (waiting in the broker's stages; of its priorities only, 0 for
/// the others; events of the priority's other types count too). Exact at a quiet point.
struct subscriber_stats {
  caf::actor actor;              ///< the subscribed actor, or the one the bus spawned for a callback
  bool callback = false;         ///< spawned by the bus for a callback subscription
  std::vector<event_type> types; ///< what it subscribed to
  std::uint32_t credit_window = 0;
  std::array<std::uint64_t, priority_count> in_flight{};
  std::array<std::uint64_t, priority_count> lag{};
  std::uint64_t handed = 0;  ///< events handed to it so far
  std::uint64_t handled = 0; ///< of those, run (or skipped) and done
  /// True when it subscribed to a type of priority p.
  [[nodiscard]] bool takes(priority p) const noexcept {
    return std::any_of(types.begin(), types.end(), [p](event_type t) { return priority_of(t) == p; });
  }
};

/// A publishing handle, holding lock-free producer tokens created up front (the first enqueue
/// from a thread without one costs microseconds). Its events stay FIFO within a priority from
/// whichever thread it is used. Not thread-safe: one user at a time (a thread, or one actor).
class LIBRA_API publisher {
public:
  publisher(publisher&&) noexcept;
  publisher& operator=(publisher&&) noexcept;
  ~publisher();
  /// Same contract as bus::publish.
  publish_result publish(event e);
  /// Same contract as bus::publish_many.
  publish_many_result publish_many(std::span<const event> events);

private:
  friend class bus;
  publisher(std::shared_ptr<detail::bus_core> core);
  std::shared_ptr<detail::bus_core> core_;
  std::unique_ptr<detail::producer_tokens> tokens_;
};

/// The event bus.
class LIBRA_API bus {
public:
  /// Spawns the broker on sys (not yet dispatching: see start()). Throws bus_error when cfg is
  /// invalid (zero capacity, credit or batch size).
  explicit bus(caf::actor_system& sys, bus_config cfg = {});
  /// Stops a running bus with cfg.default_drain_timeout, then ends its actors.
  ~bus();
  bus(const bus&) = delete;
  bus& operator=(const bus&) = delete;

  /// Calls h for each event of this type that passes f. Returns the subscription id; events
  /// published after this returns are delivered. Throws bus_error when the type already has
  /// max_handlers_per_type subscriptions or the bus was stopped.
  ///
  /// Order and concurrency: every subscription made with one handler (or a copy of it: the same
  /// identity) shares one subscriber actor. That handler is never called concurrently with
  /// itself (its calls are sequenced: state it alone touches needs no lock), and it sees its
  /// events in the bus's dispatch order: strictly by priority (RISK, ORDERS, SIGNALS,
  /// MARKET_DATA) among the events waiting for it, FIFO per publisher within one priority; a
  /// RISK event waits for at most the one call already running. An event that matches several
  /// of its subscriptions is delivered to it once. Different handlers run on different actors,
  /// concurrently with each other.
  ///
  /// opts.conflate = conflation::by_instrument: see conflation (throws bus_error for a type
  /// other than TICK, BAR or ORDER_BOOK).
  subscription_id subscribe(event_type type, handler h, filter f = {}, subscribe_options opts = {});
  /// Subscribes an existing actor: it receives libra::delivery messages (see on_events) for
  /// this type, and must consume each one: a delivery wakes it to run the events waiting for it.
  /// One actor may subscribe to several types; its credit window is shared.
  subscription_id subscribe(event_type type, const caf::actor& subscriber, filter f = {}, subscribe_options opts = {});
  /// Removes one subscription; after this returns its handler is not called again, and a call
  /// to it that was running has returned (so what the handler uses may go). Called from inside
  /// a handler, it does not wait for a call running on another subscriber (that one could be
  /// waiting for this one): no call starts after it returns. False when the id is unknown (or
  /// already removed).
  bool unsubscribe(subscription_id id);
  /// Removes every subscription of this type made with this handler (or a copy of it); waits
  /// for a running call as unsubscribe(id) does.
  bool unsubscribe_handler(event_type type, const handler& h);

  /// Admits an event: assigns its sequence number and stages it. Never blocks. FIFO within a
  /// priority holds per publisher: per publisher handle (make_publisher), and for this call per
  /// calling thread. A CAF actor's handlers run on any worker, so an actor that publishes a
  /// sequence keeps a publisher of its own (libra::context does). Refused (false,
  /// counted in stats().rejected) with publish_status::full when its priority's share of
  /// capacity is pending, publish_status::closed when the bus is stopping or stopped.
  publish_result publish(event e);
  /// Admits as many events as fit, in order: a prefix of events, whose length the result holds
  /// (and converts to); its status says why the next one was refused. Each event refused counts
  /// once in stats().rejected, as with publish().
  publish_many_result publish_many(std::span<const event> events);
  /// A handle for one publisher at a time (a thread, or an actor: its handlers never run
  /// concurrently), which keeps its events FIFO within a priority from whichever thread it is
  /// used, with its producer tokens created now (the first
  /// enqueue through a fresh queue producer costs microseconds; this moves that cost here).
  /// Memory: the staging queues keep the blocks a handle filled (about 140 bytes per event) for
  /// that handle's reuse until it is destroyed, so staged memory is bounded by the capacity share
  /// times the number of live handles that held a backlog at once (libra-bench-memory).
  publisher make_publisher();

  /// Starts dispatching (events published before are dispatched in priority order). False if
  /// the bus is running or was stopped.
  bool start();
  /// Stops accepting, delivers what is staged (highest priority first) until all is delivered
  /// and handled or drain_timeout passes, then discards the rest. Returns how many events were
  /// discarded from the stages (stats().dropped_by_priority has them per priority). After it
  /// returns no handler call starts; events already handed to a subscriber and not yet handled
  /// (only after a timeout) are destroyed unrun. A handler call still running when a timed-out
  /// stop returns goes on: wait_idle() tells when it has returned. Idempotent: 0 afterwards.
  std::uint64_t stop(std::chrono::milliseconds drain_timeout);
  std::uint64_t stop();

  /// Waits until no event is pending and every delivered event's handler has returned (or the
  /// timeout passes); true when quiet. The deterministic hook for tests and tools. After stop(),
  /// true once no handler call is running (none starts again): from then on it is safe to
  /// destroy what the handlers use. On CAF's test coordinator (libra::testing) this and stop()
  /// run the coordinator's jobs on the calling thread until the broker answers, instead of
  /// waiting for other threads.
  bool wait_idle(std::chrono::milliseconds timeout);

  /// Events pending (admitted, not yet dispatched).
  [[nodiscard]] std::size_t pending() const noexcept;
  [[nodiscard]] bool is_running() const noexcept;
  /// Events admitted so far: stats().published, read alone (an atomic load, no snapshot).
  [[nodiscard]] std::uint64_t published() const noexcept;
  /// A snapshot of the counters.
  [[nodiscard]] bus_stats stats() const;
  [[nodiscard]] const bus_config& config() const noexcept;
  /// The broker actor (e.g. to monitor it).
  [[nodiscard]] caf::actor broker() const;
  /// Live subscriptions per event type (indexed by event_type), e.g. to learn which types the
  /// actors of a process want (a distributed topology ships exactly those: runtime/src/net/).
  [[nodiscard]] std::array<std::size_t, event_type_count> subscription_counts() const;
  /// The actor that runs a subscription's handler (or the subscribed actor); invalid if unknown.
  [[nodiscard]] caf::actor subscriber_actor(subscription_id id) const;
  /// Credit in use and lag of each subscriber actor (a snapshot of atomics the broker and the
  /// subscribers keep anyway: nothing on the publish path), in subscription order.
  [[nodiscard]] std::vector<subscriber_stats> subscribers() const;

  /// Write-ahead: from now on an event reaches the subscribers other than `writer` only once
  /// the returned function has been called with its sequence number or a higher one (`writer`
  /// gets every event at once). For a journal that must hold whatever a handler saw: it calls
  /// the function, from any thread, with the highest number up to which every event is safe
  /// (written and synced). Events waiting for it hold capacity like any backlog (publishers see
  /// a full bus when the writer falls behind). The function keeps the bus's state alive and may
  /// outlive the bus (then it does nothing). Once per bus, before start(); throws bus_error
  /// otherwise.
  std::function<void(std::uint64_t)> write_ahead(const caf::actor& writer);

private:
  std::shared_ptr<detail::bus_core> core_;
};

} // namespace libra
