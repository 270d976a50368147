#include "render.hpp"

#include "payload_fields.hpp"

#include <libra/json.hpp>

#include <fmt/format.h>

#include <charconv>
#include <iterator>
#include <type_traits>

namespace libra::journal {

namespace {

/// Writes the payload's fields (payload_fields.hpp: the JSON form's names and order) as
/// key=value pairs separated by spaces. Text with spaces, quotes or '=' is quoted with JSON's
/// escaping, so that one record stays one line and splits back into its pairs.
struct text_fields {
  std::string& out;

  void operator()(std::string_view k, std::string_view v) {
    key(k);
    const bool quote = v.empty() || v.find_first_of(" \"\\\n\r\t=") != std::string_view::npos;
    if (quote)
      append_json_string(out, v);
    else
      out += v;
  }
  template <class Tag>
  void operator()(std::string_view k, fixed_decimal<Tag> v) {
    key(k);
    out += v.to_string();
  }
  /// Integers exactly; a double in the shortest text that reads back as the same value.
  template <class Number>
  requires std::is_arithmetic_v<Number>
  void operator()(std::string_view k, Number v) {
    key(k);
    fmt::format_to(std::back_inserter(out), "{}", v);
  }
  void levels(std::string_view k, const std::vector<book_level>& ls) {
    key(k);
    if (ls.empty())
      out += R"("")";
    bool first = true;
    for (const auto& l : ls) {
      if (!first)
        out += ',';
      first = false;
      out += l.price.to_string();
      out += 'x';
      out += l.size.to_string();
    }
  }

  void key(std::string_view k) {
    if (!out.empty())
      out += ' ';
    out += k;
    out += '=';
  }
};

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

std::string payload_text(const event& e) {
  std::string out;
  text_fields visitor{out};
  detail::visit_payload_fields(e, visitor);
  return out;
}

std::string to_text(const record& r) {
  const auto& e = r.ev;
  return fmt::format("{} {} {} source={} trace={} span={}{} {}", e.sequence(), utc_text(e.time()), to_string(e.type()),
                     e.source().view(), e.trace_id().to_hex(), e.span_id().to_hex(),
                     r.parent ? " parent=" + r.parent->to_hex() : std::string{}, payload_text(e));
}

std::string to_json(const record& r) { return event_json(r.ev, r.parent); }

} // namespace libra::journal
