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
// - Credit: each subscriber actor holds at most W events handed to it and not yet handled, in a
//   single-producer single-consumer ring of W slots (delivery.hpp); the broker writes up to k
//   at a time straight into it. Backlog stays in the broker's stages, where priority still
//   applies; a subscriber's ring never holds more than W lower-priority events. A CAF message
//   goes to the subscriber only when it is idle (a wake), and back to the broker only when it
//   is out of credit and asked to hear once half the ring is free (an ack): while both run,
//   events and credit pass through the ring with no message at all. RISK events have their own
//   ring past the credit window, with an urgent wake; the subscriber looks at it before each
//   event of the other ring, so a RISK event waits for at most one handler call whatever W.
//   Measured against the first design (a CAF message of k copied events per batch plus an ack
//   message per batch): 16:8 1.6x -> 3.3x raw CAF, 64:32 4.2x -> 7.1x, RISK p50 at 16:8
//   38 -> 16 us (bench/README.md). The remaining cost at W <= 64 is the round trip when the
//   ring runs dry: a subscriber that drains W events faster than the broker is woken idles
//   (Little's law).
// - Fan-out by cursor: each priority has one local FIFO; every subscriber keeps a cursor into
//   it, and an event leaves (is "dispatched", releasing capacity) when every interested
//   subscriber's cursor has passed it. A slow subscriber holds back only capacity, never the
//   other subscribers' deliveries; when it holds capacity events, publishers see a full
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
