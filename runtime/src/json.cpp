#include <libra/json.hpp>

#include "payload_fields.hpp"

#include <fmt/format.h>

#include <chrono>
#include <iterator>

namespace libra {

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        else
          out += c; // UTF-8 passes through
    }
  }
  out += '"';
}

namespace {

/// Writes the payload's fields (payload_fields.hpp) as JSON members.
struct json_fields {
  json_writer& w;
  template <class T>
  void operator()(std::string_view k, const T& v) {
    w.field(k, v);
  }
  void levels(std::string_view k, const std::vector<book_level>& side_levels) {
    w.key(k).begin_array();
    for (const auto& l : side_levels)
      w.begin_object().field("price", l.price).field("size", l.size).end();
    w.end();
  }
};

} // namespace

void append_event_json(std::string& out, const event& e, std::optional<span_id> parent) {
  json_writer w{out};
  w.begin_object();
  w.field("type", to_string(e.type()));
  w.field("priority", to_string(e.priority()));
  w.field("time", format_utc(e.time()));
  w.field("time_ns", e.time().time_since_epoch().count());
  w.field("source", e.source().view());
  w.field("sequence", e.sequence());
  w.field("trace_id", e.trace_id().to_hex());
  w.field("span_id", e.span_id().to_hex());
  w.field("traceparent", e.trace().traceparent());
  if (parent)
    w.field("parent_span_id", parent->to_hex());
  w.key("payload").begin_object();
  json_fields fields{w};
  detail::visit_payload_fields(e, fields);
  w.end().end();
}

std::string format_utc(timestamp t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  auto frac = hms.subseconds().count(); // nanoseconds
  int digits_shown = 9;
  for (; digits_shown > 3 && frac % 1000 == 0; digits_shown -= 3)
    frac /= 1000;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:0{}}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
                     hms.minutes().count(), hms.seconds().count(), frac, digits_shown);
}

} // namespace libra
