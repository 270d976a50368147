#include <libra/report.hpp>

#include <algorithm>

namespace libra {

void actor_report::set(std::string_view name, double value, const figure_labels& labels, figure_kind kind) {
  std::lock_guard guard{mu_};
  auto it = std::find_if(figures_.begin(), figures_.end(),
                         [&](const figure& f) { return f.name == name && f.labels == labels; });
  if (it == figures_.end()) {
    figures_.push_back(figure{std::string{name}, labels, kind, value});
    return;
  }
  it->kind = kind;
  it->value = value;
}

void actor_report::counter(std::string_view name, double total, const figure_labels& labels) {
  set(name, total, labels, figure_kind::counter);
}

void actor_report::gauge(std::string_view name, double value, const figure_labels& labels) {
  set(name, value, labels, figure_kind::gauge);
}

void actor_report::summary(std::vector<std::string> lines) {
  std::lock_guard guard{mu_};
  lines_ = std::move(lines);
}

std::vector<figure> actor_report::figures() const {
  std::lock_guard guard{mu_};
  return figures_;
}

std::vector<std::string> actor_report::summary_lines() const {
  std::lock_guard guard{mu_};
  return lines_;
}

} // namespace libra
