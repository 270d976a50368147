// The publishing loop shared by the gateways: events come from a feed and are published in
// chunks (so halt_atom gets in between), paced when the feed says when each is due, retried when
// the bus is full (never dropped), with GATEWAY_CONNECTED/DISCONNECTED around the run.
#pragma once

#include <libra/component.hpp>

#include <caf/behavior.hpp>
#include <caf/stateful_actor.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>

namespace libra::actors {

/// An event and when it is due, in nanoseconds after the run started (0 = now).
struct feed_item {
  event ev;
  std::int64_t due_ns = 0;
};

/// A source of events. next() returns nullopt at the end and throws bad_row for a row it cannot
/// use; after bad_row, next() goes on with the following row.
class feed {
public:
  virtual ~feed() = default;
  virtual std::optional<feed_item> next() = 0;
};

class bad_row : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct producer_options {
  bool skip_bad_rows = false;
};

/// Spawns the producer actor for a feed.
caf::actor spawn_producer(const actor_context& ctx, std::shared_ptr<feed> f, producer_options opts);

} // namespace libra::actors
