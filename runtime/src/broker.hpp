// The broker actor: the bus's single dispatcher.
//
// Design decisions (figures from ../shared/caf-0.17-notes.md §10-11, re-measured by bench/):
// - Strict priority in our own stages, not CAF's mailbox. CAF 0.17's mailbox weights urgent
//   messages 2:1 over normal ones (6 urgent, then 3 normal, per round); it cannot express four
//   levels, and a RISK message behind a flood of per-event messages waited 46-59 us p50 (and
//   0.07-1.8 ms through a plain forwarding actor). Publishers therefore write events straight
//   into one lock-free queue per priority (moodycamel::ConcurrentQueue, FIFO per producer) and
//   send the broker a CAF message only to wake it; RISK publishes always wake it urgently.
//   Measured with this shape: RISK behind 100k ticks ~5 us p50.
// - Credit: each subscriber actor holds at most W unacknowledged events, sent in batches of up
//   to k per CAF message and acknowledged per batch. Backlog stays in the broker's stages, where
//   priority still applies; a subscriber's mailbox never holds more than W lower-priority events. RISK
//   batches go urgent and past the credit window, and a subscriber sets the rest of a running
//   batch aside for them (delivery.hpp), so a RISK event waits for at most one handler call
//   whatever W. Batching is what makes this fast: k = 1 stays near a plain forwarding actor's
//   throughput, k >= 8 is several times faster.
// - Fan-out by cursor: each priority has one local FIFO; every subscriber keeps a cursor into
//   it, and an event leaves (is "dispatched", releasing capacity) when every interested
//   subscriber's cursor has passed it. A slow subscriber holds back only capacity, never the
//   other subscribers' deliveries; when it holds max_queue_size events, publishers see a full
//   bus (back-pressure) instead of unbounded memory.
// - Filters run here, inside try/catch (a throwing filter counts as an error and skips the event
//   for that subscription); handlers run on the subscriber actors.
// - Rejected: one CAF message per event (mailbox flood, no strict priority), per-subscriber
//   queues of copies (memory grows with subscribers), a subscribe round trip to the broker
//   (a handler subscribing from a worker thread could deadlock a 2-thread scheduler).
#pragma once

#include <caf/behavior.hpp>
#include <caf/fwd.hpp>

#include <memory>

namespace libra::detail {

class bus_core;

/// Spawns the broker of core (not dispatching until start_atom).
caf::actor spawn_broker(caf::actor_system& sys, std::shared_ptr<bus_core> core);

} // namespace libra::detail
