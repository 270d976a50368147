#include <libra/json.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <iterator>
#include <type_traits>

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

// Writes one JSON object's members in order.
class object_writer {
public:
  explicit object_writer(std::string& out) : out_{out} { out_ += '{'; }
  object_writer(const object_writer&) = delete;
  object_writer& operator=(const object_writer&) = delete;
  ~object_writer() { out_ += '}'; }

  void key(std::string_view k) {
    if (!first_)
      out_ += ',';
    first_ = false;
    append_json_string(out_, k);
    out_ += ':';
  }
  void str(std::string_view k, std::string_view v) {
    key(k);
    append_json_string(out_, v);
  }
  template <class Tag>
  void dec(std::string_view k, fixed_decimal<Tag> v) {
    str(k, v.to_string());
  }
  template <class Int>
  requires std::is_integral_v<Int>
  void num(std::string_view k, Int v) {
    key(k);
    fmt::format_to(std::back_inserter(out_), "{}", v);
  }
  void real(std::string_view k, double v) {
    key(k);
    if (std::isfinite(v))
      fmt::format_to(std::back_inserter(out_), "{}", v);
    else
      out_ += "null";
  }
  std::string& out() { return out_; }

private:
  std::string& out_;
  bool first_ = true;
};

void levels(object_writer& w, std::string_view k, const std::vector<book_level>& side_levels) {
  w.key(k);
  auto& out = w.out();
  out += '[';
  for (std::size_t i = 0; i < side_levels.size(); ++i) {
    if (i > 0)
      out += ',';
    object_writer level{out};
    level.dec("price", side_levels[i].price);
    level.dec("size", side_levels[i].size);
  }
  out += ']';
}

void payload(object_writer& w, const tick& p) {
  w.str("instrument", p.instrument.view());
  w.dec("bid", p.bid);
  w.dec("ask", p.ask);
  w.dec("bid_size", p.bid_size);
  w.dec("ask_size", p.ask_size);
  w.dec("last", p.last);
  w.dec("last_size", p.last_size);
}

void payload(object_writer& w, const bar& p) {
  w.str("instrument", p.instrument.view());
  w.dec("open", p.open);
  w.dec("high", p.high);
  w.dec("low", p.low);
  w.dec("close", p.close);
  w.dec("volume", p.volume);
  w.num("interval_ns", p.interval.count());
}

void payload(object_writer& w, const order_book_ptr& p) {
  w.str("instrument", p->instrument.view());
  levels(w, "bids", p->bids);
  levels(w, "asks", p->asks);
}

void payload(object_writer& w, const order& p) {
  w.num("id", value(p.id));
  w.num("client_id", value(p.client_id));
  w.str("instrument", p.instrument.view());
  w.str("side", to_string(p.side));
  w.str("order_type", to_string(p.type));
  w.dec("quantity", p.quantity);
  w.dec("price", p.price);
  w.str("status", to_string(p.status));
  w.str("reason", to_string(p.reason));
}

void payload(object_writer& w, const fill& p) {
  w.num("id", value(p.id));
  w.num("client_id", value(p.client_id));
  w.str("instrument", p.instrument.view());
  w.str("side", to_string(p.side));
  w.dec("price", p.price);
  w.dec("quantity", p.quantity);
  w.dec("fee", p.fee);
}

void payload(object_writer& w, const position& p) {
  w.str("instrument", p.instrument.view());
  w.dec("quantity", p.quantity);
  w.dec("average_price", p.average_price);
  w.dec("realized_pnl", p.realized_pnl);
  w.dec("unrealized_pnl", p.unrealized_pnl);
}

void payload(object_writer& w, const risk& p) {
  w.str("rule", to_string(p.rule));
  w.str("instrument", p.instrument.view());
  w.real("limit", p.limit);
  w.real("value", p.value);
  w.str("message", p.text());
}

void payload(object_writer& w, const signal& p) {
  w.str("instrument", p.instrument.view());
  w.str("side", to_string(p.side));
  w.real("strength", p.strength);
  w.dec("reference", p.reference);
}

void payload(object_writer& w, const system& p) { w.str("component", p.component.view()); }

} // namespace

void append_event_json(std::string& out, const event& e, std::optional<span_id> parent) {
  object_writer w{out};
  w.str("type", to_string(e.type()));
  w.str("priority", to_string(e.priority()));
  w.str("time", format_utc(e.time()));
  w.num("time_ns", e.time().time_since_epoch().count());
  w.str("source", e.source().view());
  w.num("sequence", e.sequence());
  w.str("trace_id", e.trace_id().to_hex());
  w.str("span_id", e.span_id().to_hex());
  w.str("traceparent", e.trace().traceparent());
  if (parent)
    w.str("parent_span_id", parent->to_hex());
  w.key("payload");
  object_writer p{out};
  e.visit([&p](const auto& value) { payload(p, value); });
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
