// JSON for actors and tools that write it: a streaming writer (json_writer: what every JSON libra
// writes goes through it: events, --stats-json, the benchmarks' results), string literals, and an
// event as one JSON object (the recorder's lines and libra-journal cat --json write the same form).
#pragma once

#include <libra/event.hpp>
#include <libra/export.hpp>

#include <fmt/format.h>

#include <cmath>
#include <concepts>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace libra {

/// Appends `s` to `out` as a quoted JSON string: quote, backslash and control characters escaped,
/// UTF-8 passed through unchanged.
LIBRA_API void append_json_string(std::string& out, std::string_view s);

/// `s` as a quoted JSON string.
[[nodiscard]] inline std::string json_string(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  append_json_string(out, s);
  return out;
}

/// Writes JSON into a string as it goes: objects and arrays nest, commas and quoting are its
/// business. `w.begin_object().field("a", 1).key("b").begin_array().value(2).end().end()`
/// writes {"a":1,"b":[2]}. Numbers: integers exactly, doubles in the shortest form that reads back
/// the same (non-finite ones as null), fixed-point decimals as strings (exact).
class json_writer {
public:
  explicit json_writer(std::string& out) : out_{out} {}

  json_writer& begin_object() { return open('{'); }
  json_writer& begin_array() { return open('['); }
  /// Closes the innermost object or array.
  json_writer& end() {
    out_ += open_.back() ? '}' : ']';
    open_.pop_back();
    first_.pop_back();
    return *this;
  }
  json_writer& key(std::string_view k) {
    comma();
    append_json_string(out_, k);
    out_ += ':';
    after_key_ = true;
    return *this;
  }
  json_writer& value(std::string_view s) {
    comma();
    append_json_string(out_, s);
    return *this;
  }
  json_writer& value(const char* s) { return value(std::string_view{s}); }
  json_writer& value(const std::string& s) { return value(std::string_view{s}); }
  json_writer& value(bool b) { return raw(b ? "true" : "false"); }
  template <std::integral Int>
  requires(!std::same_as<Int, bool>) json_writer& value(Int v) {
    comma();
    fmt::format_to(std::back_inserter(out_), "{}", v);
    return *this;
  }
  json_writer& value(double v) {
    if (!std::isfinite(v))
      return null();
    comma();
    fmt::format_to(std::back_inserter(out_), "{}", v);
    return *this;
  }
  template <class Tag>
  json_writer& value(fixed_decimal<Tag> v) {
    return value(v.to_string());
  }
  json_writer& null() { return raw("null"); }
  /// A value already written as JSON.
  json_writer& raw(std::string_view json) {
    comma();
    out_ += json;
    return *this;
  }
  /// key(k).value(v).
  template <class T>
  json_writer& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

private:
  json_writer& open(char c) {
    comma();
    out_ += c;
    open_.push_back(c == '{');
    first_.push_back(true);
    return *this;
  }
  // A comma before every member or element but the first; none after a key.
  void comma() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (first_.empty())
      return;
    if (!first_.back())
      out_ += ',';
    first_.back() = false;
  }

  std::string& out_;
  std::vector<bool> open_;  // per open container: an object (true) or an array
  std::vector<bool> first_; // per open container: nothing in it yet
  bool after_key_ = false;
};

/// t as ISO 8601 UTC text with 3, 6 or 9 fractional digits, as many as it needs:
/// "2020-01-01T22:00:00.065Z".
[[nodiscard]] LIBRA_API std::string format_utc(timestamp t);

/// Appends e as one JSON object: type, priority, time (format_utc), time_ns, source, sequence,
/// trace_id, span_id, traceparent, parent_span_id (when given: a journal records it) and
/// payload, an object of the payload's fields (prices and quantities as decimal strings, exact;
/// order book levels as [{price, size}], risk texts as message).
LIBRA_API void append_event_json(std::string& out, const event& e, std::optional<span_id> parent = std::nullopt);

/// append_event_json() into a new string.
[[nodiscard]] inline std::string event_json(const event& e, std::optional<span_id> parent = std::nullopt) {
  std::string out;
  out.reserve(384);
  append_event_json(out, e, parent);
  return out;
}

} // namespace libra
