// The recent prices of one instrument, stamped with event time, for an actor that must read "the
// price in force at time t" (the venue's quote at a decision's time, the position's mid at a
// fill's time) while its own tick stream runs ahead of or behind the events that ask. Shared by
// execution.paper and position.manager. Not thread-safe: one per actor.
#pragma once

#include <libra/event.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <deque>
#include <iterator>

namespace libra::actors {

/// Values (a quote, a mid) in arrival order, which is event-time order. What is kept: those read
/// in the last keep_for of WALL time (an order or fill reaches the actor within milliseconds of
/// its tick, however far a fast replay's tick stream has run ahead in event time), at most
/// max_kept. Wall time only bounds memory; no decision reads it.
template <class T>
class price_history {
public:
  static constexpr std::chrono::seconds keep_for{10};
  static constexpr std::size_t max_kept = 100'000;

  /// Adds v, stamped with event time t, and forgets what is too old.
  void add(timestamp t, const T& v) {
    const auto now = std::chrono::steady_clock::now();
    values_.push_back(stamped{t, now, v});
    while (values_.size() > max_kept || (values_.size() > 1 && values_[1].read <= now - keep_for))
      values_.pop_front();
  }

  [[nodiscard]] bool empty() const noexcept { return values_.empty(); }
  /// The value in force at time t: the last one stamped at or before t (the oldest kept if all
  /// are later). Not empty.
  [[nodiscard]] const T& at(timestamp t) const {
    auto it =
      std::upper_bound(values_.begin(), values_.end(), t, [](timestamp x, const stamped& s) { return x < s.time; });
    return it == values_.begin() ? it->value : std::prev(it)->value;
  }
  /// The last value added, and its event time. Not empty.
  [[nodiscard]] const T& latest() const { return values_.back().value; }
  [[nodiscard]] timestamp latest_time() const { return values_.back().time; }

private:
  struct stamped {
    timestamp time;                             // event time
    std::chrono::steady_clock::time_point read; // when the actor read it
    T value;
  };
  std::deque<stamped> values_;
};

} // namespace libra::actors
