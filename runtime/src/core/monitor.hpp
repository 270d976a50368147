// The runtime's own subscriber to every event type: counts per type, the last position per
// instrument and the rejections by reason. Read by the runner (progress, summary, --stats-json)
// and by the metrics endpoint (core/metrics.hpp), from other threads.
#pragma once

#include <libra/event.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace caf {
class behavior;
class event_based_actor;
} // namespace caf

namespace libra::core {

struct monitor_state {
  std::array<std::atomic<std::uint64_t>, event_type_count> by_type{};
  std::mutex mu;
  std::map<std::string, position> positions;       // last position per instrument
  std::map<std::string, std::uint64_t> rejections; // by reason
};

caf::behavior monitor_actor(caf::event_based_actor* self, std::shared_ptr<monitor_state> st);

inline std::uint64_t count(const monitor_state& st, event_type t) {
  return st.by_type[static_cast<std::size_t>(t)].load(std::memory_order_relaxed);
}

/// Realized and unrealized PnL summed over the instruments.
std::pair<double, double> pnl(monitor_state& st);

} // namespace libra::core
