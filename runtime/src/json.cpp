#include <libra/json.hpp>

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

void levels(json_writer& w, std::string_view k, const std::vector<book_level>& side_levels) {
  w.key(k).begin_array();
  for (const auto& l : side_levels)
    w.begin_object().field("price", l.price).field("size", l.size).end();
  w.end();
}

void payload(json_writer& w, const tick& p) {
  w.field("instrument", p.instrument.view());
  w.field("bid", p.bid);
  w.field("ask", p.ask);
  w.field("bid_size", p.bid_size);
  w.field("ask_size", p.ask_size);
  w.field("last", p.last);
  w.field("last_size", p.last_size);
}

void payload(json_writer& w, const bar& p) {
  w.field("instrument", p.instrument.view());
  w.field("open", p.open);
  w.field("high", p.high);
  w.field("low", p.low);
  w.field("close", p.close);
  w.field("volume", p.volume);
  w.field("interval_ns", p.interval.count());
}

void payload(json_writer& w, const order_book_ptr& p) {
  w.field("instrument", p->instrument.view());
  levels(w, "bids", p->bids);
  levels(w, "asks", p->asks);
}

void payload(json_writer& w, const order& p) {
  w.field("id", value(p.id));
  w.field("client_id", value(p.client_id));
  w.field("instrument", p.instrument.view());
  w.field("side", to_string(p.side));
  w.field("order_type", to_string(p.type));
  w.field("quantity", p.quantity);
  w.field("price", p.price);
  w.field("status", to_string(p.status));
  w.field("reason", to_string(p.reason));
}

void payload(json_writer& w, const fill& p) {
  w.field("id", value(p.id));
  w.field("client_id", value(p.client_id));
  w.field("instrument", p.instrument.view());
  w.field("side", to_string(p.side));
  w.field("price", p.price);
  w.field("quantity", p.quantity);
  w.field("fee", p.fee);
}

void payload(json_writer& w, const position& p) {
  w.field("instrument", p.instrument.view());
  w.field("quantity", p.quantity);
  w.field("average_price", p.average_price);
  w.field("realized_pnl", p.realized_pnl);
  w.field("unrealized_pnl", p.unrealized_pnl);
}

void payload(json_writer& w, const risk& p) {
  w.field("rule", to_string(p.rule));
  w.field("instrument", p.instrument.view());
  w.field("limit", p.limit);
  w.field("value", p.value);
  w.field("message", p.text());
}

void payload(json_writer& w, const signal& p) {
  w.field("instrument", p.instrument.view());
  w.field("side", to_string(p.side));
  w.field("strength", p.strength);
  w.field("reference", p.reference);
}

void payload(json_writer& w, const system& p) { w.field("component", p.component.view()); }

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
  e.visit([&w](const auto& value) { payload(w, value); });
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
