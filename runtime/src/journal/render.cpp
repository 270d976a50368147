#include "render.hpp"

#include <libra/json.hpp>

#include <fmt/format.h>

#include <charconv>
#include <cmath>

namespace libra::journal {

namespace {

/// Collects key/value pairs, then prints them as text (k=v) or JSON ("k":v).
class fields {
public:
  void text(std::string_view k, std::string_view v) { items_.push_back({std::string{k}, std::string{v}, true}); }
  void number(std::string_view k, std::string v) { items_.push_back({std::string{k}, std::move(v), false}); }
  /// Decimals are JSON strings: exact, as written (a JSON number would be read as a double).
  template <class Tag>
  void dec(std::string_view k, fixed_decimal<Tag> v) {
    text(k, v.to_string());
  }
  void u64(std::string_view k, std::uint64_t v) { number(k, std::to_string(v)); }
  /// Shortest text that reads back as the same double; a non-finite one as a string.
  void f64(std::string_view k, double v) {
    if (std::isfinite(v))
      number(k, fmt::format("{}", v));
    else
      text(k, fmt::format("{}", v));
  }

  [[nodiscard]] std::string as_text() const {
    std::string out;
    for (const auto& i : items_) {
      if (!out.empty())
        out += ' ';
      out += i.key;
      out += '=';
      // Text with spaces or quotes is quoted (JSON escaping): one line stays one line.
      const bool quote = i.quoted && (i.value.empty() || i.value.find_first_of(" \"\\\n\r\t=") != std::string::npos);
      out += quote ? json_string(i.value) : i.value;
    }
    return out;
  }
  [[nodiscard]] std::string as_json() const {
    std::string out = "{";
    for (const auto& i : items_) {
      if (out.size() > 1)
        out += ',';
      append_json_string(out, i.key);
      out += ':';
      if (i.quoted)
        append_json_string(out, i.value);
      else
        out += i.value;
    }
    return out + "}";
  }

private:
  struct item {
    std::string key;
    std::string value;
    bool quoted;
  };
  std::vector<item> items_;
};

void levels(fields& f, std::string_view name, const std::vector<book_level>& ls) {
  std::string v;
  for (const auto& l : ls) {
    if (!v.empty())
      v += ',';
    v += l.price.to_string() + 'x' + l.size.to_string();
  }
  f.text(name, v);
}

fields payload_fields(const event& e) {
  fields f;
  e.visit([&](const auto& p) {
    using P = std::decay_t<decltype(p)>;
    if constexpr (std::is_same_v<P, tick>) {
      f.text("instrument", p.instrument.view());
      f.dec("bid", p.bid);
      f.dec("ask", p.ask);
      f.dec("bid_size", p.bid_size);
      f.dec("ask_size", p.ask_size);
      f.dec("last", p.last);
      f.dec("last_size", p.last_size);
    } else if constexpr (std::is_same_v<P, bar>) {
      f.text("instrument", p.instrument.view());
      f.dec("open", p.open);
      f.dec("high", p.high);
      f.dec("low", p.low);
      f.dec("close", p.close);
      f.dec("volume", p.volume);
      f.number("interval_ns", std::to_string(p.interval.count()));
    } else if constexpr (std::is_same_v<P, order_book_ptr>) {
      f.text("instrument", p->instrument.view());
      levels(f, "bids", p->bids);
      levels(f, "asks", p->asks);
    } else if constexpr (std::is_same_v<P, order>) {
      f.u64("order_id", value(p.id));
      f.u64("client_order_id", value(p.client_id));
      f.text("instrument", p.instrument.view());
      f.dec("quantity", p.quantity);
      f.dec("price", p.price);
      f.text("side", to_string(p.side));
      f.text("order_type", to_string(p.type));
      f.text("status", to_string(p.status));
      f.text("reason", to_string(p.reason));
    } else if constexpr (std::is_same_v<P, fill>) {
      f.u64("order_id", value(p.id));
      f.u64("client_order_id", value(p.client_id));
      f.text("instrument", p.instrument.view());
      f.dec("price", p.price);
      f.dec("quantity", p.quantity);
      f.dec("fee", p.fee);
      f.text("side", to_string(p.side));
    } else if constexpr (std::is_same_v<P, position>) {
      f.text("instrument", p.instrument.view());
      f.dec("quantity", p.quantity);
      f.dec("average_price", p.average_price);
      f.dec("realized_pnl", p.realized_pnl);
      f.dec("unrealized_pnl", p.unrealized_pnl);
    } else if constexpr (std::is_same_v<P, risk>) {
      f.text("rule", to_string(p.rule));
      f.text("instrument", p.instrument.view());
      f.f64("limit", p.limit);
      f.f64("value", p.value);
      if (p.message)
        f.text("message", *p.message);
    } else if constexpr (std::is_same_v<P, signal>) {
      f.text("instrument", p.instrument.view());
      f.text("side", to_string(p.side));
      f.f64("strength", p.strength);
      f.dec("reference", p.reference);
    } else {
      f.text("component", p.component.view());
    }
  });
  return f;
}

bool parse_int(std::string_view s, std::int64_t& out) {
  const auto* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc{} && p == end;
}

} // namespace

std::string utc_text(timestamp t) {
  const auto days = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{days};
  const auto ns = (t - days).count();
  const auto secs = ns / 1'000'000'000;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), secs / 3600, secs / 60 % 60,
                     secs % 60, ns % 1'000'000'000);
}

std::optional<timestamp> parse_utc(std::string_view text) {
  auto s = text;
  std::int64_t v = 0;
  if (parse_int(s, v))
    return timestamp{std::chrono::nanoseconds{v}};
  if (!s.empty() && s.back() == 'Z')
    s.remove_suffix(1);
  // YYYY-MM-DD
  if (s.size() < 10 || s[4] != '-' || s[7] != '-')
    return std::nullopt;
  std::int64_t y = 0;
  std::int64_t mo = 0;
  std::int64_t d = 0;
  if (!parse_int(s.substr(0, 4), y) || !parse_int(s.substr(5, 2), mo) || !parse_int(s.substr(8, 2), d))
    return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{static_cast<int>(y)},
                                        std::chrono::month{static_cast<unsigned>(mo)},
                                        std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok())
    return std::nullopt;
  std::int64_t h = 0;
  std::int64_t mi = 0;
  std::int64_t sec = 0;
  std::int64_t frac_ns = 0;
  auto rest = s.substr(10);
  if (!rest.empty()) {
    if ((rest[0] != 'T' && rest[0] != ' ') || rest.size() < 6 || rest[3] != ':')
      return std::nullopt;
    if (!parse_int(rest.substr(1, 2), h) || !parse_int(rest.substr(4, 2), mi) || h > 23 || mi > 59)
      return std::nullopt;
    rest = rest.substr(6);
    if (!rest.empty()) {
      if (rest[0] != ':' || rest.size() < 3 || !parse_int(rest.substr(1, 2), sec) || sec > 60)
        return std::nullopt;
      rest = rest.substr(3);
      if (!rest.empty()) {
        if (rest[0] != '.' || rest.size() < 2 || rest.size() > 10)
          return std::nullopt;
        auto digits = std::string{rest.substr(1)};
        digits.resize(9, '0');
        if (!parse_int(digits, frac_ns) || frac_ns < 0)
          return std::nullopt;
      }
    }
  }
  const auto t = std::chrono::sys_days{ymd} + std::chrono::hours{h} + std::chrono::minutes{mi}
                 + std::chrono::seconds{sec} + std::chrono::nanoseconds{frac_ns};
  return timestamp{t};
}

std::optional<trace_id> parse_trace_id(std::string_view text) {
  const auto s = text;
  if (auto tc = trace_context::parse_traceparent(s))
    return tc->trace;
  if (s.size() != 32)
    return std::nullopt;
  trace_id id;
  for (std::size_t i = 0; i < 32; ++i) {
    const char c = s[i];
    unsigned v = 0;
    if (c >= '0' && c <= '9')
      v = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f')
      v = static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v = static_cast<unsigned>(c - 'A' + 10);
    else
      return std::nullopt;
    auto& half = i < 16 ? id.hi : id.lo;
    half = (half << 4) | v;
  }
  if (!id.valid())
    return std::nullopt;
  return id;
}

std::string payload_text(const event& e) { return payload_fields(e).as_text(); }

std::string to_text(const record& r) {
  const auto& e = r.ev;
  return fmt::format("{} {} {} source={} trace={} span={}{} {}", e.sequence(), utc_text(e.time()), to_string(e.type()),
                     e.source().view(), e.trace_id().to_hex(), e.span_id().to_hex(),
                     r.parent ? " parent=" + r.parent->to_hex() : std::string{}, payload_text(e));
}

std::string to_json(const record& r) { return event_json(r.ev, r.parent); }

} // namespace libra::journal
