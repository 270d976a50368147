#include "core/metrics.hpp"

#include "journal/writer.hpp"
#include "net/node.hpp"

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/text_serializer.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <sstream>

namespace libra::core {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

std::string priority_label(priority p) {
  std::string s{to_string(p)};
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// Builds one family; add() appends a sample with its labels.
class family {
public:
  family(std::string name, std::string help, MetricType type) {
    f_.name = std::move(name);
    f_.help = std::move(help);
    f_.type = type;
  }
  family& add(double v, std::vector<ClientMetric::Label> labels = {}) {
    ClientMetric m;
    m.label = std::move(labels);
    if (f_.type == MetricType::Counter)
      m.counter.value = v;
    else
      m.gauge.value = v;
    f_.metric.push_back(std::move(m));
    return *this;
  }
  family& add(ClientMetric m) {
    f_.metric.push_back(std::move(m));
    return *this;
  }
  void into(std::vector<MetricFamily>& out) {
    if (!f_.metric.empty())
      out.push_back(std::move(f_));
  }

private:
  MetricFamily f_;
};

double d(std::uint64_t v) { return static_cast<double>(v); }

/// A family of one sample without labels.
void single(std::vector<MetricFamily>& out, std::string name, std::string help, MetricType type, double v) {
  family{std::move(name), std::move(help), type}.add(v).into(out);
}

void bus_metrics(const bus& b, std::vector<MetricFamily>& out) {
  const auto s = b.stats();
  single(out, "libra_events_published_total", "Events the bus accepted (publish, publish_many)", MetricType::Counter,
         d(s.published));
  single(out, "libra_events_dispatched_total", "Events handed to every subscriber they matched", MetricType::Counter,
         d(s.dispatched));
  family{"libra_events_rejected_total", "Events the bus refused: full (its priority's share of capacity) or closed",
         MetricType::Counter}
    .add(d(s.rejected_full), {{"cause", "full"}})
    .add(d(s.rejected_closed), {{"cause", "closed"}})
    .into(out);
  family dropped{"libra_events_dropped_total", "Events accepted, then discarded by a stop at its drain timeout",
                 MetricType::Counter};
  family pending{"libra_events_pending", "Events accepted and not yet dispatched", MetricType::Gauge};
  family latency{"libra_publish_to_handler_latency_seconds",
                 "Publish to handler start (every RISK event, 1 in 16 others published one by one, every event of "
                 "publish_many)",
                 MetricType::Histogram};
  for (auto p : {priority::risk, priority::orders, priority::signals, priority::market_data}) {
    const auto label = priority_label(p);
    dropped.add(d(s.dropped_of(p)), {{"priority", label}});
    pending.add(d(s.pending_of(p)), {{"priority", label}});
    const auto& l = s.latency_of(p);
    ClientMetric m;
    m.label = {{"priority", label}};
    m.histogram.sample_count = l.count;
    m.histogram.sample_sum = std::chrono::duration<double>(l.sum).count();
    for (std::size_t i = 0; i < latency_bounds_ns.size(); ++i)
      m.histogram.bucket.push_back({l.cumulative.at(i), static_cast<double>(latency_bounds_ns.at(i)) / 1e9});
    m.histogram.bucket.push_back({l.count, std::numeric_limits<double>::infinity()});
    latency.add(std::move(m));
  }
  dropped.into(out);
  pending.into(out);
  latency.into(out);
  single(out, "libra_handler_errors_total", "Handlers and filters that threw (counted, isolated)", MetricType::Counter,
         d(s.errors));
  single(out, "libra_handler_calls_total", "Handler runs (one per event per matching subscription)",
         MetricType::Counter, d(s.handler_calls));
  single(out, "libra_events_conflated_total", "Events a slow conflating subscriber skipped (a newer one replaced them)",
         MetricType::Counter, d(s.conflated));
  single(out, "libra_subscriptions", "Live subscriptions on the bus", MetricType::Gauge, d(s.handlers));
}

void monitor_metrics(monitor_state& mon, std::vector<MetricFamily>& out) {
  family by_type{"libra_events_by_type_total", "Events dispatched, by type (the runtime's monitor sees every one)",
                 MetricType::Counter};
  for (auto t : all_event_types)
    by_type.add(d(count(mon, t)), {{"type", std::string{to_string(t)}}, {"priority", priority_label(priority_of(t))}});
  by_type.into(out);
  family orders{"libra_orders_total", "Orders by outcome: new (accepted by the venue), filled, rejected",
                MetricType::Counter};
  orders.add(d(count(mon, event_type::order_new)), {{"outcome", "new"}})
    .add(d(count(mon, event_type::order_filled)), {{"outcome", "filled"}})
    .add(d(count(mon, event_type::order_rejected)), {{"outcome", "rejected"}})
    .into(out);
}

/// What the actors report (libra/report.hpp), as libra_<figure>{actor="<name>", <labels>}: one
/// family per figure name, whichever actors report it, in the order first reported.
void actor_metrics(const monitor_state& mon, std::vector<MetricFamily>& out) {
  std::vector<family> families;
  std::vector<std::string> names;
  for (const auto& [actor, r] : mon.reports)
    for (const auto& f : r->figures()) {
      const auto name = "libra_" + f.name;
      auto it = std::find(names.begin(), names.end(), name);
      if (it == names.end()) {
        names.push_back(name);
        families.emplace_back(name, "Reported by the actor (label actor): see its documentation",
                              f.kind == figure_kind::counter ? MetricType::Counter : MetricType::Gauge);
        it = names.end() - 1;
      }
      std::vector<ClientMetric::Label> labels{{"actor", actor}};
      for (const auto& [k, v] : f.labels)
        labels.push_back({k, v});
      families[static_cast<std::size_t>(it - names.begin())].add(f.value, std::move(labels));
    }
  for (auto& f : families)
    f.into(out);
}

/// Credit in use, its limit, lag and events handled of each subscriber actor (bus::subscribers()).
void subscriber_metrics(const bus& b, const std::vector<std::pair<std::string, caf::actor>>& names,
                        std::vector<MetricFamily>& out) {
  family in_use{"libra_subscriber_credit_in_use",
                "Events handed to the subscriber and not yet handled (its credit window in use)", MetricType::Gauge};
  family limit{"libra_subscriber_credit_limit",
               "Most events of the priority handed to one subscriber and not yet handled (the credit window; "
               "RISK: its own ring)",
               MetricType::Gauge};
  family lag{"libra_subscriber_lag_events", "Events the broker holds that the subscriber has not yet been handed",
             MetricType::Gauge};
  family handled{"libra_subscriber_events_handled_total", "Events the subscriber ran (or skipped) and is done with",
                 MetricType::Counter};
  for (const auto& s : b.subscribers()) {
    std::string name;
    for (const auto& [n, a] : names)
      if (a == s.actor)
        name = n;
    if (name.empty())
      name = fmt::format("{}-{}", s.callback ? "callback" : "actor", s.actor ? s.actor.id() : 0);
    for (auto p : {priority::risk, priority::orders, priority::signals, priority::market_data}) {
      if (!s.takes(p))
        continue;
      const std::vector<ClientMetric::Label> labels{{"subscriber", name}, {"priority", priority_label(p)}};
      const auto i = static_cast<std::size_t>(p);
      in_use.add(d(s.in_flight.at(i)), labels);
      limit.add(p == priority::risk ? d(detail::risk_ring_capacity) : d(s.credit_window), labels);
      lag.add(d(s.lag.at(i)), labels);
    }
    handled.add(d(s.handled), {{"subscriber", name}});
  }
  for (auto* f : {&in_use, &limit, &lag, &handled})
    f->into(out);
}

void journal_metrics(const journal::journal_writer& w, std::vector<MetricFamily>& out) {
  const auto j = w.stats();
  single(out, "libra_journal_records_total", "Records written to the journal", MetricType::Counter, d(j.records));
  single(out, "libra_journal_bytes_total", "Journal bytes written, segment headers included", MetricType::Counter,
         d(j.bytes));
  single(out, "libra_journal_segments_total", "Segment files this run created", MetricType::Counter, d(j.segments));
  single(out, "libra_journal_fsyncs_total", "fsync calls", MetricType::Counter, d(j.fsyncs));
  single(out, "libra_journal_write_seconds_total", "Time in write(2) and fsync(2)", MetricType::Counter, j.busy_s);
  single(out, "libra_journal_writes_total", "Buffers of records written with write(2)", MetricType::Counter,
         d(j.writes));
  single(out, "libra_journal_lag_events_max", "Most events the journal's subscriber was behind the bus",
         MetricType::Gauge, d(j.max_lag_events));
}

void link_metrics(const net::node& n, std::vector<MetricFamily>& out) {
  family up{"libra_link_up", "1 while the link to the peer node is up", MetricType::Gauge};
  family sent{"libra_link_events_sent_total", "Events sent to the peer", MetricType::Counter};
  family acked{"libra_link_events_acked_total", "Events the peer acknowledged (published on its bus)",
               MetricType::Counter};
  family received{"libra_link_events_received_total", "Events received from the peer and published here",
                  MetricType::Counter};
  family lost{"libra_link_events_lost_total", "Events staged or in flight when the peer was lost", MetricType::Counter};
  family held{"libra_link_events_held", "Events received and not yet published here", MetricType::Gauge};
  family bad{"libra_link_bad_batches_total", "Batches that did not decode (dropped)", MetricType::Counter};
  for (const auto& l : n.stats()) {
    const std::vector<ClientMetric::Label> peer{{"peer", l.peer}};
    up.add(l.up ? 1 : 0, peer);
    sent.add(d(l.sent), peer);
    acked.add(d(l.acked), peer);
    received.add(d(l.received), peer);
    lost.add(d(l.lost_events), peer);
    held.add(d(l.held), peer);
    bad.add(d(l.bad_batches), peer);
  }
  for (auto* f : {&up, &sent, &acked, &received, &lost, &held, &bad})
    f->into(out);
}

} // namespace

std::string metrics_address(const std::string& text) {
  const auto fail = [&](const std::string& why) {
    throw std::invalid_argument(fmt::format("metrics address '{}': {}", text, why));
  };
  std::string host = "127.0.0.1";
  std::string port = text;
  if (const auto colon = text.rfind(':'); colon != std::string::npos) {
    port = text.substr(colon + 1);
    if (colon > 0)
      host = text.substr(0, colon);
    if (host.find(':') != std::string::npos && (host.front() != '[' || host.back() != ']'))
      fail("an IPv6 host goes in brackets, as [::1]:9464");
  }
  if (host.empty())
    fail("the host is empty");
  int value = -1;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value < 0 || value > 65535)
    fail("expected HOST:PORT, :PORT or PORT with a port of 0 to 65535 (0: any free one)");
  return host + ":" + std::to_string(value);
}

std::vector<MetricFamily> collect_metrics(const metrics_sources& src) {
  std::vector<MetricFamily> out;
  if (src.b != nullptr) {
    bus_metrics(*src.b, out);
    subscriber_metrics(*src.b, src.names, out);
  }
  if (src.mon != nullptr) {
    monitor_metrics(*src.mon, out);
    actor_metrics(*src.mon, out);
  }
  if (src.journal != nullptr)
    journal_metrics(*src.journal, out);
  if (src.node != nullptr)
    link_metrics(*src.node, out);
  single(out, "libra_uptime_seconds", "Seconds since the run started", MetricType::Gauge,
         std::chrono::duration<double>(std::chrono::steady_clock::now() - src.started).count());
  return out;
}

std::string metrics_text(const metrics_sources& src) {
  std::ostringstream out;
  prometheus::TextSerializer{}.Serialize(out, collect_metrics(src));
  return out.str();
}

class metrics_server::collectable : public prometheus::Collectable {
public:
  explicit collectable(metrics_sources src) : src_{std::move(src)} {}
  std::vector<MetricFamily> Collect() const override { return collect_metrics(src_); }

private:
  metrics_sources src_;
};

metrics_server::metrics_server(const std::string& address, const metrics_sources& src)
  : collectable_{std::make_shared<collectable>(src)} {
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(address, 1);
  } catch (const std::exception& ex) {
    throw metrics_error(fmt::format("cannot serve metrics on {}: {}", address, ex.what()));
  }
  exposer_->RegisterCollectable(collectable_);
}

metrics_server::~metrics_server() = default;

int metrics_server::port() const {
  const auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

} // namespace libra::core
