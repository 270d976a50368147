// The runtime's own subscriber to every event type: counts per type. With the actors' reports
// (libra/report.hpp: their trading figures and summary lines, which the actors know and the
// runtime only shows), read by the runner (progress, summary, --stats-json) and by the metrics
// endpoint (core/metrics.hpp), from other threads.
#pragma once

#include <libra/event.hpp>
#include <libra/report.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace caf {
class behavior;
class event_based_actor;
} // namespace caf

namespace libra::core {

struct monitor_state {
  std::array<std::atomic<std::uint64_t>, event_type_count> by_type{};
  /// The topology's actors' reports, in topology order (set before anything runs, then only read).
  std::vector<std::pair<std::string, std::shared_ptr<const actor_report>>> reports;
};

caf::behavior monitor_actor(caf::event_based_actor* self, std::shared_ptr<monitor_state> st);

inline std::uint64_t count(const monitor_state& st, event_type t) {
  return st.by_type[static_cast<std::size_t>(t)].load(std::memory_order_relaxed);
}

} // namespace libra::core
