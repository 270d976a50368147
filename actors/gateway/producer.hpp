// The publishing loop of the gateways, a member of a gateway written with libra/actor.hpp: the
// gateway's handlers(ctx), run(ctx) and halt(ctx) hand it their calls. After run it publishes
// GATEWAY_CONNECTED, then the feed's events in chunks of producer_chunk (one message each, so
// halt gets in between), paced when the feed says when each is due (delayed_send), retried when
// the bus refuses (never dropped), then GATEWAY_DISCONNECTED, then context::finished() exactly
// once -- or context::failed(reason) when the feed cannot go on. When it stops it logs its
// summary: "gateway stopped (reason): rows=.. published=.. skipped=.. retries=..".
#pragma once

#include <libra/actor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace libra::actors {

/// An event and when it is due, in nanoseconds after run (0 = at once).
struct feed_item {
  event ev;
  std::int64_t due_ns = 0;
};

/// A row of a feed that cannot be used (what() says where and why).
class bad_row : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// A source of events, called on the gateway's actor only: the next event, nullopt at the end.
/// Throws bad_row for a row it cannot use (the following call goes on after that row) and any
/// other std::exception when it cannot go on at all.
using feed = std::function<std::optional<feed_item>()>;

/// What the producer does with a bad row.
enum class bad_row_policy {
  fail, ///< log it, publish GATEWAY_DISCONNECTED, call context::failed (the run stops, exit 1)
  skip, ///< count it, log it (rate-limited) and go on
};

/// Events per chunk message.
inline constexpr int producer_chunk = 256;

/// The loop's state: plain values, so that the gateway holding it stays copyable (the SDK copies
/// a T into each actor it spawns).
class producer {
public:
  explicit producer(bad_row_policy on_bad_row = bad_row_policy::fail) : on_bad_row_{on_bad_row} {}

  /// The loop's own messages, reading f (at spawn: the gateway's handlers(ctx) returns them).
  /// Also makes an exception that escapes the actor a failure of the run (failed()).
  caf::message_handler handlers(context& ctx, feed f);
  /// The same for a gateway whose next(const context&) is the feed (it holds this producer: its
  /// address and ctx's are stable while the actor runs).
  template <class Gateway>
  caf::message_handler handlers(context& ctx, Gateway& g) {
    return handlers(ctx, feed{[&g, &ctx] { return g.next(ctx); }});
  }
  /// Starts publishing; ignored unless it never ran.
  void run(context& ctx);
  /// Stops publishing: GATEWAY_DISCONNECTED, then finished(); at once (nothing announced) when
  /// it never ran; ignored once stopping.
  void halt(context& ctx);

private:
  enum class phase { idle, running, closing, done };
  void next_chunk(context& ctx, const feed& f);
  bool fetch(context& ctx, const feed& f);
  void close(context& ctx, std::string reason, std::string error = {});
  void try_close(context& ctx);
  void settle(context& ctx);

  bad_row_policy on_bad_row_;
  std::shared_ptr<publisher> pub_;               // this actor's handle, made at spawn (shared: copyable)
  std::optional<feed_item> pending_;             // read, not yet accepted by the bus
  bool pending_from_feed_ = false;               // else it is GATEWAY_CONNECTED
  std::chrono::steady_clock::time_point anchor_; // run: due times count from here
  phase ph_ = phase::idle;
  std::string error_;      // why the feed failed; empty when it ended or was halted
  std::string end_reason_; // for the summary
  int close_tries_ = 0;
  std::uint64_t rows_ = 0;      // events the feed produced
  std::uint64_t published_ = 0; // of those, accepted by the bus
  std::uint64_t skipped_ = 0;   // bad rows skipped
  std::uint64_t retries_ = 0;   // refusals by the bus, each retried
};

} // namespace libra::actors
