// What an actor reports about its own work: named figures (counters and gauges, with labels) and
// the lines it adds to the run's summary. The actor knows its trading figures (orders approved and
// rejected by reason, positions, PnL); the runtime only shows them: libra-runtime prints the lines
// in the summary, puts the figures in --stats-json (`actors`) and serves them on /metrics as
// `libra_<name>{actor="<actor>", <labels>}` (docs/operations.md). An actor gets its report from
// context::report(). Thread-safe: the actor writes, the runtime reads from other threads. Update it
// when a figure changes on events the actor acts on (an order, a fill), not per tick: each call
// takes a lock.
#pragma once

#include <libra/export.hpp>

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace libra {

/// A counter only grows (Prometheus counter: name it `..._total`); a gauge goes up and down.
enum class figure_kind : std::uint8_t { counter, gauge };

/// Label name and value, e.g. {"instrument", "EUR/USD"}.
using figure_labels = std::vector<std::pair<std::string, std::string>>;

/// One figure as last set.
struct figure {
  std::string name; ///< lower_snake_case, e.g. "order_rejections_total"
  figure_labels labels;
  figure_kind kind = figure_kind::gauge;
  double value = 0;
  friend bool operator==(const figure&, const figure&) = default;
};

class LIBRA_API actor_report {
public:
  /// Sets a counter to its running total (created at the first call, in that order).
  void counter(std::string_view name, double total, const figure_labels& labels = {});
  /// Sets a gauge.
  void gauge(std::string_view name, double value, const figure_labels& labels = {});
  /// Replaces the lines the actor adds to the run's summary (printed as given, after the runtime's
  /// own; the house style is a 19-column label, then the figures).
  void summary(std::vector<std::string> lines);

  /// The figures, in the order they were first set.
  [[nodiscard]] std::vector<figure> figures() const;
  [[nodiscard]] std::vector<std::string> summary_lines() const;

private:
  void set(std::string_view name, double value, const figure_labels& labels, figure_kind kind);

  mutable std::mutex mu_;
  std::vector<figure> figures_; // few: found by a linear search
  std::vector<std::string> lines_;
};

} // namespace libra
