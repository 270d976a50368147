#include <libra/actor.hpp>
#include <libra/bus.hpp>
#include <libra/system_config.hpp>

#include "broker.hpp"
#include "bus_core.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/defaults.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/logger.h>

#include <algorithm>
#include <limits>
#include <thread>

namespace libra {

namespace {

void validate(const bus_config& cfg) {
  if (auto why = invalid_reason(cfg); !why.empty())
    throw bus_error(fmt::format("bus '{}': {}", cfg.name, why));
}

/// Each share below the one above keeps at least one slot for higher priorities.
bool shares_fit(const bus_config& cfg) {
  for (std::size_t p = 1; p < priority_count; ++p) {
    const auto limit = admission_limit(cfg, static_cast<priority>(p));
    const auto above = admission_limit(cfg, static_cast<priority>(p - 1));
    if (limit == 0 || (cfg.admission_shares[p] < cfg.admission_shares[p - 1] && limit >= above))
      return false;
  }
  return true;
}

std::pair<detail::reply_slot, std::future<std::uint64_t>> make_reply() {
  detail::reply_slot slot{std::make_shared<std::promise<std::uint64_t>>()};
  auto fut = slot.promise->get_future();
  return {std::move(slot), std::move(fut)};
}

/// Waits for a reply of the broker. On CAF's test coordinator (libra::testing) nothing runs unless
/// the caller runs it: run jobs, on this thread, until the reply is there or none is left.
bool await_reply(caf::actor_system& sys, std::future<std::uint64_t>& fut, std::chrono::milliseconds timeout) {
  using namespace std::chrono_literals;
  if (auto* sched = dynamic_cast<caf::scheduler::test_coordinator*>(&sys.scheduler())) {
    while (fut.wait_for(0s) != std::future_status::ready && sched->try_run_once()) {
    }
    return fut.wait_for(0s) == std::future_status::ready;
  }
  return fut.wait_for(timeout) == std::future_status::ready;
}

} // namespace

std::string invalid_reason(const bus_config& cfg) {
  if (cfg.capacity == 0)
    return "capacity must be at least 1";
  if (cfg.capacity >= (std::uint64_t{1} << 62))
    return "capacity is absurdly large";
  if (cfg.max_handlers_per_type == 0)
    return "max_handlers_per_type must be at least 1";
  if (cfg.credit_window == 0)
    return "credit_window must be at least 1";
  if (cfg.credit_window > max_credit_window)
    return fmt::format("credit_window ({}) must not exceed {}", cfg.credit_window, max_credit_window);
  if (cfg.batch_size == 0)
    return "batch_size must be at least 1";
  if (cfg.batch_size > cfg.credit_window)
    return fmt::format("batch_size ({}) must not exceed credit_window ({})", cfg.batch_size, cfg.credit_window);
  const auto& sh = cfg.admission_shares;
  if (sh[0] != 1.0)
    return fmt::format("admission_shares: RISK's share must be 1 (it is {})", sh[0]);
  for (std::size_t p = 1; p < priority_count; ++p)
    if (!(sh[p] > 0.0 && sh[p] <= sh[p - 1])) // also refuses NaN
      return fmt::format("admission_shares: {}'s share must be in (0, {}] (it is {})",
                         to_string(static_cast<priority>(p)), sh[p - 1], sh[p]);
  if (!shares_fit(cfg)) {
    auto smallest = cfg;
    for (smallest.capacity = 1; !shares_fit(smallest) && smallest.capacity < 1'000'000;)
      ++smallest.capacity;
    return fmt::format("capacity {} is too small for admission_shares {{{}}}: after rounding down, each "
                       "priority's share must keep at least one slot for the priorities above it (limits {}, {}, {}, "
                       "{}); use capacity >= {}, or admission_shares = no_reserve",
                       cfg.capacity, fmt::join(sh, ", "), admission_limit(cfg, priority::risk),
                       admission_limit(cfg, priority::orders), admission_limit(cfg, priority::signals),
                       admission_limit(cfg, priority::market_data), smallest.capacity);
  }
  return {};
}

std::string_view to_string(publish_status s) noexcept {
  switch (s) {
    case publish_status::accepted:
      return "accepted";
    case publish_status::full:
      return "full";
    case publish_status::closed:
      return "closed";
  }
  return "?";
}

// -- publisher ----------------------------------------------------------------------------------

publisher::publisher(std::shared_ptr<detail::bus_core> core)
  : core_{std::move(core)}, tokens_{std::make_unique<detail::producer_tokens>(core_->stages)} {}
publisher::publisher(publisher&&) noexcept = default;
publisher& publisher::operator=(publisher&&) noexcept = default;
publisher::~publisher() = default;

publish_result publisher::publish(event e) { return core_->publish(std::move(e), tokens_.get()); }

publish_many_result publisher::publish_many(std::span<const event> events) {
  return core_->publish_many(events, tokens_.get());
}

// -- bus ----------------------------------------------------------------------------------------

bus::bus(caf::actor_system& sys, bus_config cfg) {
  validate(cfg);
  core_ = std::make_shared<detail::bus_core>(sys, std::move(cfg));
  core_->broker = detail::spawn_broker(sys, core_);
  const auto max_tp = caf::get_or(sys.config(), "scheduler.max-throughput", caf::defaults::scheduler::max_throughput);
  if (max_tp == std::numeric_limits<std::size_t>::max())
    core_->log->warn("scheduler.max-throughput is unbounded: a busy broker will starve its subscribers "
                     "(call libra::configure_system on the actor_system_config)");
}

bus::~bus() {
  try {
    stop(core_->cfg.default_drain_timeout);
  } catch (const std::exception& ex) {
    core_->log->error("bus destructor: stop failed: {}", ex.what());
  }
  // The registry's channels hold the core: without this the two would keep each other (and the
  // subscribed actors the registry names) alive.
  core_->clear_registry();
}

subscription_id bus::subscribe(event_type type, handler h, filter f, subscribe_options opts) {
  return core_->subscribe(type, std::move(h), nullptr, std::move(f), opts);
}

subscription_id bus::subscribe(event_type type, const caf::actor& subscriber, filter f, subscribe_options opts) {
  return core_->subscribe(type, {}, &subscriber, std::move(f), opts);
}

bool bus::unsubscribe(subscription_id id) { return core_->unsubscribe(id); }

bool bus::unsubscribe_handler(event_type type, const handler& h) { return core_->unsubscribe_handler(type, h); }

publish_result bus::publish(event e) { return core_->publish(std::move(e), nullptr); }

publish_many_result bus::publish_many(std::span<const event> events) { return core_->publish_many(events, nullptr); }

publisher bus::make_publisher() { return publisher{core_}; }

bool bus::start() {
  if (core_->stopped.load() || core_->running.exchange(true))
    return false;
  caf::anon_send<caf::message_priority::high>(core_->broker, detail::start_atom::value);
  return true;
}

std::uint64_t bus::stop() { return stop(core_->cfg.default_drain_timeout); }

std::uint64_t bus::stop(std::chrono::milliseconds drain_timeout) {
  if (core_->stopped.exchange(true))
    return 0;
  core_->close();
  auto owned = core_->close_registry();
  std::uint64_t dropped = 0;
  bool drained = false;
  if (core_->running.load()) {
    auto [slot, fut] = make_reply();
    caf::anon_send<caf::message_priority::high>(core_->broker, detail::drain_atom::value, slot);
    drained = await_reply(core_->sys, fut, drain_timeout);
  }
  if (!drained) {
    // Timed out, or never started: discard what is left (the broker counts it exactly).
    auto [slot, fut] = make_reply();
    caf::anon_send<caf::message_priority::high>(core_->broker, detail::abort_atom::value, slot);
    (void)await_reply(core_->sys, fut, std::chrono::milliseconds{0}); // runs the test coordinator, if any
    dropped = fut.get();
  }
  core_->running.store(false);
  core_->halted.store(true, std::memory_order_seq_cst); // no handler call starts after this
  for (const auto& a : owned)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(core_->broker, caf::exit_reason::user_shutdown);
  auto s = core_->stats();
  core_->log->info("bus stopped: published={} dispatched={} dropped={} rejected={} errors={}", s.published,
                   s.dispatched, s.dropped, s.rejected, s.errors);
  return dropped;
}

bool bus::wait_idle(std::chrono::milliseconds timeout) {
  if (core_->stopped.load()) {
    // No broker to ask: wait until stop() has halted delivery and the handler calls that were
    // running then have returned. Short sleeps: this waits on user code, for rare calls.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto pause = std::chrono::microseconds{10};
    while (!core_->halted.load(std::memory_order_seq_cst)
           || core_->active_drains.load(std::memory_order_seq_cst) != 0) {
      if (std::chrono::steady_clock::now() >= deadline)
        return false;
      std::this_thread::sleep_for(pause);
      pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds{1});
    }
    return core_->pending() == 0;
  }
  auto [slot, fut] = make_reply();
  caf::anon_send(core_->broker, detail::idle_atom::value, slot);
  return await_reply(core_->sys, fut, timeout) && fut.get() == 0;
}

std::size_t bus::pending() const noexcept { return core_->pending(); }

bool bus::is_running() const noexcept { return core_->running.load() && !core_->stopped.load(); }

bus_stats bus::stats() const { return core_->stats(); }

std::vector<subscriber_stats> bus::subscribers() const { return core_->subscribers(); }

std::uint64_t bus::published() const noexcept { return core_->published(); }

const bus_config& bus::config() const noexcept { return core_->cfg; }

caf::actor bus::broker() const { return core_->broker; }

std::function<void(std::uint64_t)> bus::write_ahead(const caf::actor& writer) {
  if (!writer)
    throw bus_error("write_ahead: no writer actor");
  if (core_->running.load() || core_->stopped.load())
    throw bus_error("write_ahead: the bus has started already");
  if (core_->ahead.load())
    throw bus_error("write_ahead: this bus has a writer already");
  core_->set_ahead_writer(writer.address());
  return [core = core_](std::uint64_t through) {
    auto prev = core->ahead_through.load(std::memory_order_relaxed);
    while (prev < through && !core->ahead_through.compare_exchange_weak(prev, through, std::memory_order_acq_rel))
      ;
    if (prev < through)
      core->wake(); // the broker may hold events for it
  };
}

caf::actor bus::subscriber_actor(subscription_id id) const { return core_->subscriber_actor(id); }

std::array<std::size_t, event_type_count> bus::subscription_counts() const { return core_->subscription_counts(); }

// -- system settings ----------------------------------------------------------------------------

void configure_system(caf::actor_system_config& cfg, std::size_t workers, idle_policy idle) {
  cfg.set("scheduler.max-throughput", static_cast<int64_t>(default_max_throughput));
  if (workers > 0)
    cfg.set("scheduler.max-threads", static_cast<int64_t>(workers));
  if (idle == idle_policy::responsive)
    cfg.set("work-stealing.aggressive-poll-attempts", static_cast<int64_t>(responsive_poll_attempts));
}

} // namespace libra
