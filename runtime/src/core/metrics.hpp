// Live metrics for Prometheus: libra-runtime --metrics ADDRESS (or the topology's `metrics:`)
// serves the text exposition format at http://ADDRESS/metrics through prometheus-cpp's pull
// exposer (Debian's prometheus-cpp-dev). Every figure is read at scrape time from counters libra
// keeps anyway (bus::stats(), the runtime's monitor, the journal's and the links' stats): the
// publish path pays nothing for it. docs/operations.md lists the metrics.
#pragma once

#include "core/monitor.hpp"

#include <libra/bus.hpp>

#include <prometheus/metric_family.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace prometheus {
class Exposer;
} // namespace prometheus

namespace libra::journal {
class journal_writer;
} // namespace libra::journal

namespace libra::net {
class node;
} // namespace libra::net

namespace libra::core {

/// The default port (the one OpenTelemetry's Prometheus exporter uses).
inline constexpr int default_metrics_port = 9464;

/// "HOST:PORT", "PORT" or ":PORT" (loopback), "[V6]:PORT" -> "HOST:PORT" for the exposer; throws
/// std::invalid_argument naming what is wrong.
std::string metrics_address(const std::string& text);

/// What a scrape reads. Pointers may be null (no journal, one process); they must outlive the
/// metrics_server that reads them.
struct metrics_sources {
  const bus* b = nullptr;
  monitor_state* mon = nullptr;
  const journal::journal_writer* journal = nullptr;
  const net::node* node = nullptr;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  /// Names of the subscriber actors (the topology's and the runtime's own) for the per-subscriber
  /// metrics' `subscriber` label; others are named by their CAF actor id.
  std::vector<std::pair<std::string, caf::actor>> names{};
};

/// The metric families of one scrape.
std::vector<prometheus::MetricFamily> collect_metrics(const metrics_sources& src);

/// The metrics as Prometheus' text exposition format (what /metrics serves).
std::string metrics_text(const metrics_sources& src);

/// Cannot listen on the address (taken, not an address of this host).
class metrics_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Serves /metrics on its own threads (civetweb's, inside prometheus-cpp) until destroyed.
class metrics_server {
public:
  /// address as metrics_address() returns it; port 0 picks a free one (see port()).
  metrics_server(const std::string& address, const metrics_sources& src);
  ~metrics_server();
  metrics_server(const metrics_server&) = delete;
  metrics_server& operator=(const metrics_server&) = delete;

  /// The port it listens on.
  [[nodiscard]] int port() const;

private:
  class collectable;
  std::shared_ptr<collectable> collectable_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

} // namespace libra::core
