// The publishing loop shared by the gateways. An event-based actor that, after run_atom, publishes
// GATEWAY_CONNECTED, then the feed's events in chunks of producer_chunk (one message each, so
// halt_atom gets in between), paced when the feed says when each is due (delayed_send), retried
// when the bus refuses (never dropped), then GATEWAY_DISCONNECTED, then actor_context::finished()
// exactly once -- or actor_context::failed(reason) when the feed cannot go on.
#pragma once

#include <libra/component.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace libra::actors {

/// An event and when it is due, in nanoseconds after run_atom (0 = at once).
struct feed_item {
  event ev;
  std::int64_t due_ns = 0;
};

/// A row of a feed that cannot be used (what() says where and why).
class bad_row : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// A source of events, read on the producer actor only. next() returns nullopt at the end, throws
/// bad_row for a row it cannot use (the following call goes on after that row) and any other
/// std::exception when it cannot go on at all.
class feed {
public:
  virtual ~feed() = default;
  virtual std::optional<feed_item> next() = 0;
};

/// What the producer does with a bad row.
enum class bad_row_policy {
  fail, ///< log it, publish GATEWAY_DISCONNECTED, call actor_context::failed (the run stops, exit 1)
  skip, ///< count it, log it (rate-limited) and go on
};

/// Events per chunk message.
inline constexpr int producer_chunk = 256;

/// Spawns the producer actor for a feed (on the shared scheduler: the feed's work per chunk is
/// short, buffered reads at most).
caf::actor spawn_producer(const actor_context& ctx, std::shared_ptr<feed> f, bad_row_policy on_bad_row);

} // namespace libra::actors
