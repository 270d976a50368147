#include "producer.hpp"

#include <exception>

namespace libra::actors {

namespace {

using next_atom = caf::atom_constant<caf::atom("next")>;   // publish the next chunk
using close_atom = caf::atom_constant<caf::atom("close")>; // retry GATEWAY_DISCONNECTED
using steady = std::chrono::steady_clock;

// When the bus refuses an event (full for this priority, or stopping), try again after this.
constexpr auto full_bus_backoff = std::chrono::microseconds{200};
// GATEWAY_DISCONNECTED is retried this often, this long apart, before finishing without it (the
// bus stays refusing when it is stopping).
constexpr int close_attempts = 1000;
constexpr auto close_backoff = std::chrono::milliseconds{1};
// Skipped rows are logged one by one up to this many, then at each power of two.
constexpr std::uint64_t skip_log_burst = 10;

// stamp(): the wall clock, or event time in deterministic mode (a rerun stamps the same).
event notice(const context& ctx, event_type t) {
  return event::create(t, ctx.source(), system{ctx.source()}, trace_context::new_root(), ctx.stamp());
}

} // namespace

caf::message_handler producer::handlers(context& ctx, feed f) {
  pub_ = std::make_shared<publisher>(ctx.bus().make_publisher());
  // A handler that throws ends the actor; the run must still hear about it.
  ctx.self()->set_exception_handler([this, &ctx](caf::scheduled_actor*, std::exception_ptr& ep) -> caf::error {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& ex) {
      what = ex.what();
    } catch (...) {
    }
    ctx.log().error("gateway crashed: {}", what);
    if (ph_ != phase::done) {
      ph_ = phase::done;
      ctx.failed("gateway crashed: " + what);
    }
    return caf::sec::runtime_error;
  });
  return {
    [this, &ctx, f = std::move(f)](next_atom) { next_chunk(ctx, f); },
    [this, &ctx](close_atom) {
      if (ph_ == phase::closing)
        try_close(ctx);
    },
  };
}

void producer::run(context& ctx) {
  if (ph_ != phase::idle)
    return;
  ph_ = phase::running;
  anchor_ = steady::now();
  // Goes out first, through the same retry path as the events.
  pending_ = feed_item{notice(ctx, event_type::gateway_connected), 0};
  pending_from_feed_ = false;
  ctx.self()->send(ctx.self(), next_atom::value);
}

void producer::halt(context& ctx) {
  if (ph_ == phase::idle) { // never started: nothing to announce
    end_reason_ = "halted before run";
    settle(ctx);
  } else {
    close(ctx, "halted");
  }
}

void producer::next_chunk(context& ctx, const feed& f) {
  if (ph_ != phase::running)
    return;
  for (int i = 0; i < producer_chunk; ++i) {
    if (!pending_ && !fetch(ctx, f))
      return;
    if (pending_->due_ns > 0) {
      const auto due = anchor_ + std::chrono::nanoseconds{pending_->due_ns};
      if (const auto now = steady::now(); due > now) {
        ctx.self()->delayed_send(ctx.self(), due - now, next_atom::value);
        return;
      }
    }
    if (!pub_->publish(pending_->ev)) {
      ++retries_; // back-pressure: the same event again shortly, never dropped
      ctx.self()->delayed_send(ctx.self(), full_bus_backoff, next_atom::value);
      return;
    }
    if (pending_from_feed_)
      ++published_;
    pending_.reset();
  }
  ctx.self()->send(ctx.self(), next_atom::value);
}

// Fills pending_ from the feed; false when the producer closed instead (end, failure).
bool producer::fetch(context& ctx, const feed& f) {
  for (;;) {
    try {
      pending_ = f();
    } catch (const bad_row& ex) {
      if (on_bad_row_ == bad_row_policy::fail) {
        ctx.log().error("bad row: {}", ex.what());
        close(ctx, "bad row", ex.what());
        return false;
      }
      ++skipped_;
      if (skipped_ <= skip_log_burst || (skipped_ & (skipped_ - 1)) == 0)
        ctx.log().warn("skipped bad row ({} so far): {}", skipped_, ex.what());
      continue;
    } catch (const std::exception& ex) {
      ctx.log().error("feed failed: {}", ex.what());
      close(ctx, "feed failed", ex.what());
      return false;
    }
    if (!pending_) {
      close(ctx, "end of data");
      return false;
    }
    pending_from_feed_ = true;
    ++rows_;
    return true;
  }
}

// Stops publishing: announces the disconnect, then reports finished (error empty) or failed.
void producer::close(context& ctx, std::string reason, std::string error) {
  if (ph_ != phase::running)
    return;
  ph_ = phase::closing;
  end_reason_ = std::move(reason);
  error_ = std::move(error);
  if (pending_ && pending_from_feed_)
    ctx.log().info("stopped with 1 row read but not published");
  pending_.reset();
  try_close(ctx);
}

void producer::try_close(context& ctx) {
  if (pub_->publish(notice(ctx, event_type::gateway_disconnected))) {
    settle(ctx);
  } else if (++close_tries_ >= close_attempts) {
    ctx.log().error("GATEWAY_DISCONNECTED not published: the bus refused it {} times", close_tries_);
    settle(ctx);
  } else {
    ++retries_;
    ctx.self()->delayed_send(ctx.self(), close_backoff, close_atom::value);
  }
}

void producer::settle(context& ctx) {
  ph_ = phase::done;
  pending_.reset();
  ctx.log().info("gateway stopped ({}): rows={} published={} skipped={} retries={}", end_reason_, rows_, published_,
                 skipped_, retries_);
  if (error_.empty())
    ctx.finished();
  else
    ctx.failed(error_);
}

} // namespace libra::actors
