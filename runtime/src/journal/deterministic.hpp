// Deterministic mode (runtime.deterministic, --deterministic): the runtime runs every actor, the
// broker and the subscribers on CAF's test coordinator, on the runner's own thread, one job at a
// time in FIFO order (as libra::testing does), so that the same input gives the same admission
// order, the same sequence numbers, the same trace ids (seeded: trace_context::seed_thread_ids)
// and thus the same journal, recorder file and summary, whatever the machine's load. Delayed
// messages (a producer's pacing or back-off, a paper venue's latency) run on virtual time: when
// no job is left, the clock jumps to the next one. The journal's actor runs there too, with no
// linger timer (it would move virtual time): the runner writes what waits between its steps.
#pragma once

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include <cstddef>
#include <cstdint>

namespace libra::journal {

/// The seed of the trace ids in deterministic mode.
inline constexpr std::uint64_t deterministic_id_seed = 0x6c69627261; // "libra"

/// Makes cfg's actor system run on the test coordinator (after configure_system).
inline void configure_deterministic(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
}

/// Drives the test coordinator from the runner's thread; inactive (every call a no-op) when the
/// system runs on CAF's normal scheduler.
class deterministic_driver {
public:
  explicit deterministic_driver(caf::actor_system& sys) noexcept
    : sched_{dynamic_cast<caf::scheduler::test_coordinator*>(&sys.scheduler())} {}

  deterministic_driver(const deterministic_driver&) = delete;
  deterministic_driver& operator=(const deterministic_driver&) = delete;
  /// Declared after the actor system and before what spawns actors (the bus): the last jobs (the
  /// actors ending) run here, or the system's destructor would wait for them forever.
  ~deterministic_driver() { run_jobs(); }

  [[nodiscard]] bool active() const noexcept { return sched_ != nullptr; }

  /// Runs up to max_jobs jobs; when none was waiting, fires the next delayed message (virtual
  /// time jumps to it). False when there was nothing at all to do (the run cannot go on).
  bool step(std::size_t max_jobs = 100'000) {
    if (sched_ == nullptr)
      return false;
    if (sched_->run(max_jobs) > 0)
      return true;
    return sched_->trigger_timeout();
  }

  /// Steps until done() or nothing is left to do; done() at the end.
  template <class Done>
  bool run_until(Done done) {
    while (!done())
      if (!step())
        return done();
    return true;
  }

  /// Runs every job waiting now and all they cause, but no delayed message (a periodic timer
  /// would never let it end).
  void run_jobs() {
    if (sched_ != nullptr)
      sched_->run();
  }

private:
  caf::scheduler::test_coordinator* sched_;
};

} // namespace libra::journal
