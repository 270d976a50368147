// State shared by a bus's front end (publishers, subscribe calls), its broker actor and its
// subscriber actors. Publishers touch only the admission counter, the sequence counter, the
// staging queues and the wake flags (all lock-free); the subscription registry sits behind a
// mutex and is read by the broker only when its version changes.
#pragma once

#include "latency_histogram.hpp"

#include <libra/bus.hpp>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/atom.hpp>
#include <concurrentqueue/concurrentqueue.h>
#include <spdlog/logger.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace libra::detail {

using wake_atom = caf::atom_constant<caf::atom("wake")>;
using ack_atom = caf::atom_constant<caf::atom("ack")>;
using start_atom = caf::atom_constant<caf::atom("start")>;
using drain_atom = caf::atom_constant<caf::atom("drain")>;
using abort_atom = caf::atom_constant<caf::atom("abort")>;
using idle_atom = caf::atom_constant<caf::atom("idle")>;

/// An admitted event in a staging queue, with its admission time (steady clock, ns).
struct staged {
  event ev;
  std::int64_t admitted_ns;
};

using stage_queue = moodycamel::ConcurrentQueue<staged>;

/// One subscription; shared by the registry, the broker's snapshot and in-flight deliveries.
struct subscription_state {
  subscription_id id = 0;
  event_type type = event_type::tick;
  std::uint64_t endpoint = 0;
  std::uint64_t from_seq = 0; ///< only events admitted after subscribe() began
  libra::handler fn;          ///< empty for actor subscriptions
  libra::filter flt;
  conflation conflate = conflation::none;
  std::atomic<bool> active{true};
};

/// A subscriber actor and its subscriptions: one per handler identity (a callback subscribed to
/// several types runs on one actor, in priority order), one per subscribed actor.
struct endpoint_record {
  std::uint64_t id = 0;
  caf::actor actor;
  std::uintptr_t handler_identity = 0; ///< non-zero: spawned by the bus for a handler, ended by it
  std::vector<std::shared_ptr<subscription_state>> subs;
  /// The rings to the subscriber: made with the endpoint, so that bus::subscribers() can read
  /// them; the broker writes them.
  std::shared_ptr<endpoint_channel> channel;
};

/// The subscribers whose drain may be calling a subscription that unsubscribe removed: it
/// returns once those calls have (so its promise holds: no call after it returns). Not from
/// inside a handler: the other subscriber's handler could be waiting for this one (two
/// handlers removing each other's subscriptions), and its own drain cannot end meanwhile.
class running_calls {
public:
  void note(const std::shared_ptr<endpoint_channel>& ch);
  void from_inside_handler(bool inside) noexcept { inside_handler_ = inside; }
  void wait() const;

private:
  std::vector<std::shared_ptr<endpoint_channel>> channels_;
  bool inside_handler_ = false;
};

/// Receives a value from the broker (drain/abort/idle replies).
struct reply_slot {
  std::shared_ptr<std::promise<std::uint64_t>> promise;
  void set(std::uint64_t v) const {
    try {
      promise->set_value(v);
    } catch (const std::future_error&) { // already set: a second reply is harmless
    }
  }
};

/// Lock-free producer tokens of one publisher, one per priority queue.
struct producer_tokens {
  explicit producer_tokens(std::array<stage_queue, priority_count>& stages)
    : tokens{moodycamel::ProducerToken{stages[0]}, moodycamel::ProducerToken{stages[1]},
             moodycamel::ProducerToken{stages[2]}, moodycamel::ProducerToken{stages[3]}} {}
  std::array<moodycamel::ProducerToken, priority_count> tokens;
};

/// 1 in this many non-RISK events published one by one carries a latency timestamp.
inline constexpr std::uint64_t latency_sample = 16;

class bus_core : public std::enable_shared_from_this<bus_core> {
public:
  bus_core(caf::actor_system& system, bus_config config);

  // -- admission (any thread, lock-free) ------------------------------------------------------
  publish_status publish(event&& e, producer_tokens* tokens);
  publish_many_result publish_many(std::span<const event> events, producer_tokens* tokens);
  void close() noexcept { admission_.fetch_or(closed_bit, std::memory_order_acq_rel); }
  [[nodiscard]] std::uint64_t pending() const noexcept {
    return admission_.load(std::memory_order_acquire) & ~closed_bit;
  }
  /// Called by the broker when n events left the stages for good (dispatched or dropped).
  void release(std::uint64_t n) noexcept { admission_.fetch_sub(n, std::memory_order_acq_rel); }

  // -- registry (any thread, locked) ----------------------------------------------------------
  subscription_id subscribe(event_type type, libra::handler h, const caf::actor* subscriber, libra::filter f,
                            subscribe_options opts = {});
  bool unsubscribe(subscription_id id);
  bool unsubscribe_handler(event_type type, const libra::handler& h);
  /// Removes the endpoint of a dead actor (the broker's down handler).
  void remove_actor(const caf::actor_addr& addr);
  [[nodiscard]] std::uint64_t registry_version() const noexcept { return version_.load(std::memory_order_acquire); }
  /// Copies the endpoints (for the broker) and returns the version they belong to.
  std::uint64_t snapshot(std::vector<endpoint_record>& out) const;
  [[nodiscard]] caf::actor subscriber_actor(subscription_id id) const;
  [[nodiscard]] std::array<std::size_t, event_type_count> subscription_counts() const;
  [[nodiscard]] std::vector<subscriber_stats> subscribers() const;
  /// Write-ahead (bus::write_ahead): sets ahead_writer, then ahead, and bumps the registry's
  /// version so that the broker looks at every endpoint again (it reads both after a snapshot).
  void set_ahead_writer(const caf::actor_addr& writer);
  /// Marks the registry closed (no more subscribe) and returns the actors the bus spawned.
  std::vector<caf::actor> close_registry();
  /// Forgets every subscription and endpoint (the bus's destructor, after stop).
  void clear_registry();

  // -- broker wake-up ---------------------------------------------------------------------------
  void wake() const;
  void wake_urgent() const;
  /// Broker: ask publishers of priority p to wake it on their next event.
  std::array<std::atomic<bool>, priority_count> wake_wanted{};

  // -- stats ------------------------------------------------------------------------------------
  bus_stats stats() const;
  /// Events admitted so far (stats().published without the rest of the snapshot).
  [[nodiscard]] std::uint64_t published() const noexcept { return next_seq_.load(std::memory_order_acquire) - 1; }
  /// Counts one handler/filter exception; returns the total so far.
  std::uint64_t count_error() noexcept { return errors_.fetch_add(1, std::memory_order_relaxed) + 1; }

  caf::actor_system& sys;
  const bus_config cfg;
  std::shared_ptr<spdlog::logger> log;
  caf::actor broker;
  std::array<stage_queue, priority_count> stages;
  std::array<latency_histogram, priority_count> latency;
  /// Pending-event count at which publishes of each priority are refused (cfg.admission_shares).
  std::array<std::uint64_t, priority_count> admission_limit{};

  // Written by the broker only, read by stats().
  std::atomic<std::uint64_t> dispatched{0};
  std::array<std::atomic<std::uint64_t>, priority_count> dropped{};
  std::array<std::atomic<std::uint64_t>, priority_count> local_pending{};
  std::atomic<std::uint64_t> handler_calls{0};
  /// Events a conflating subscription skipped (replaced by a newer one of the instrument).
  std::atomic<std::uint64_t> conflated{0};
  /// Write-ahead (bus::write_ahead): every endpoint but `ahead_writer` gets an event only once
  /// its sequence number is at most `ahead_through`. Set before start, then read by the broker.
  caf::actor_addr ahead_writer;
  std::atomic<bool> ahead{false};
  std::atomic<std::uint64_t> ahead_through{0};
  std::atomic<bool> running{false};
  std::atomic<bool> stopped{false};
  /// Set by stop() once it is done with the broker: from then on no handler call starts (events
  /// still in a subscriber's ring are destroyed unrun).
  std::atomic<bool> halted{false};
  /// Subscribers inside endpoint_channel::drain() (handlers may be running); wait_idle() on a
  /// stopped bus waits for 0.
  std::atomic<std::uint64_t> active_drains{0};

private:
  static constexpr std::uint64_t closed_bit = std::uint64_t{1} << 63;
  template <class Stamp, class Enqueue>
  publish_status admit_one(event&& e, Stamp&& now, Enqueue&& enqueue);
  void after_enqueue(std::uint32_t priorities_touched);
  bool remove_locked(subscription_id id, std::vector<caf::actor>& to_end, running_calls& calls);
  /// True when this thread is running a subscriber's handler (its drain).
  [[nodiscard]] bool inside_handler_locked() const;
  void erase_endpoint_locked(std::map<std::uint64_t, endpoint_record>::iterator ep);

  std::atomic<std::uint64_t> admission_{0}; // pending count | closed_bit
  std::atomic<std::uint64_t> next_seq_{1};
  std::atomic<std::uint64_t> rejected_full_{0};
  std::atomic<std::uint64_t> rejected_closed_{0};
  std::atomic<std::uint64_t> errors_{0};

  mutable std::mutex mu_;
  std::map<subscription_id, std::shared_ptr<subscription_state>> subs_;
  std::map<std::uint64_t, endpoint_record> endpoints_;
  std::map<caf::actor_addr, std::uint64_t> endpoint_of_actor_;
  std::map<std::uintptr_t, std::uint64_t> endpoint_of_handler_;
  std::array<std::size_t, event_type_count> per_type_{};
  subscription_id next_sub_id_ = 1;
  std::uint64_t next_endpoint_id_ = 1;
  bool registry_closed_ = false;
  std::atomic<std::uint64_t> version_{1};
};

void report_filter_error(bus_core& core, const subscription_state& s, const event& e, std::exception_ptr what) noexcept;

} // namespace libra::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(libra::detail::reply_slot)
