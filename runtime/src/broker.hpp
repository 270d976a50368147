// The broker actor: the bus's single dispatcher.
//
// Design decisions (why CAF's own mailbox cannot do this: docs/caf-0.17.md, 1-3; today's figures:
// bench/README.md):
// - Strict priority in our own stages, not CAF's mailbox. CAF 0.17's mailbox weights urgent
//   messages 2:1 over normal ones and has two levels, not four; a RISK message behind a flood of
//   per-event messages waited tens of microseconds to milliseconds. Publishers therefore write
//   events straight into one lock-free queue per priority (moodycamel::ConcurrentQueue, FIFO per
//   producer) and send the broker a CAF message only to wake it; RISK publishes always wake it
//   urgently.
// - Credit: each subscriber actor holds at most W events of each priority below RISK handed to it
//   and not yet handled, in one single-producer single-consumer ring of W slots per priority
//   (handoff.hpp); the broker writes up to k at a time straight into them. Backlog stays in the
//   broker's stages, where priority still applies. The subscriber takes its next event from the
//   highest-priority ring that has one, so an ORDER_NEW waits for at most one tick handler
//   whatever W (with one ring for ORDERS, SIGNALS and MARKET_DATA it waited for up to W: W had
//   to be small for orders and large for throughput, issue 16). A CAF message
//   goes to the subscriber only when it is idle (a wake), and back to the broker only when it
//   is out of credit and asked to hear once half the ring is free (an ack): while both run,
//   events and credit pass through the rings with no message at all. RISK's ring is outside the
//   window, with its own cap (risk_ring_capacity, 64 events handed and not yet handled), and comes
//   with an urgent wake (it overtakes the subscriber's mailbox too). What the window costs and
//   buys is measured in bench/README.md; the remaining cost at W <= 64 is the round trip when
//   the ring runs dry: a subscriber that drains W events faster than the broker is woken idles
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
