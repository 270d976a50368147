// W3C trace context (trace_context.hpp): id generation, hex forms, the traceparent header and its
// parser, and child contexts.
#include <catch2/catch.hpp>
#include <libra/trace_context.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

using libra::span_id;
using libra::trace_context;
using libra::trace_id;

static_assert(sizeof(trace_id) == 16 && sizeof(span_id) == 8);
static_assert(std::is_trivially_copyable_v<trace_context>);
static_assert(!trace_id{}.valid() && !span_id{}.valid());
static_assert(trace_id{0, 1}.valid() && trace_id{1, 0}.valid() && span_id{1}.valid());
static_assert(trace_context{}.flags == 0x01, "sampled by default");

bool is_lower_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

trace_context known() {
  trace_context ctx;
  ctx.trace = {0x0af7651916cd43ddULL, 0x8448eb211c80319cULL};
  ctx.span = {0xb7ad6b7169203331ULL};
  ctx.flags = 0x01;
  return ctx;
}

// The example from the W3C recommendation.
constexpr std::string_view known_header = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

} // namespace

TEST_CASE("new_root gives valid, distinct, sampled ids", "[event][trace]") {
  std::set<trace_id> traces;
  std::set<span_id> spans;
  constexpr int n = 2000;
  for (int i = 0; i < n; ++i) {
    const auto ctx = trace_context::new_root();
    REQUIRE(ctx.trace.valid());
    REQUIRE(ctx.span.valid());
    CHECK(ctx.flags == 0x01);
    traces.insert(ctx.trace);
    spans.insert(ctx.span);
  }
  CHECK(traces.size() == n);
  CHECK(spans.size() == n);
}

TEST_CASE("new_root ids differ between threads", "[event][trace][concurrency]") {
  // Each thread has its own generator: two threads must not replay the same sequence.
  std::vector<trace_id> main_ids;
  std::vector<trace_id> other_ids;
  for (int i = 0; i < 16; ++i)
    main_ids.push_back(trace_context::new_root().trace);
  std::thread worker{[&] {
    for (int i = 0; i < 16; ++i)
      other_ids.push_back(trace_context::new_root().trace);
  }};
  worker.join();
  std::set<trace_id> all(main_ids.begin(), main_ids.end());
  all.insert(other_ids.begin(), other_ids.end());
  CHECK(all.size() == 32);
}

TEST_CASE("to_hex gives 32 and 16 lowercase hex characters", "[event][trace]") {
  CHECK(trace_id{0x0123456789abcdefULL, 0xfedcba9876543210ULL}.to_hex() == "0123456789abcdeffedcba9876543210");
  CHECK(trace_id{0, 1}.to_hex() == "00000000000000000000000000000001");
  CHECK(trace_id{1, 0}.to_hex() == "00000000000000010000000000000000");
  CHECK(trace_id{~0ULL, ~0ULL}.to_hex() == "ffffffffffffffffffffffffffffffff");
  CHECK(span_id{0xabULL}.to_hex() == "00000000000000ab");
  CHECK(span_id{0xB7AD6B7169203331ULL}.to_hex() == "b7ad6b7169203331");
  CHECK(span_id{~0ULL}.to_hex() == "ffffffffffffffff");
  for (int i = 0; i < 100; ++i) {
    const auto ctx = trace_context::new_root();
    const auto t = ctx.trace.to_hex();
    const auto s = ctx.span.to_hex();
    CHECK(t.size() == 32);
    CHECK(s.size() == 16);
    CHECK(is_lower_hex(t));
    CHECK(is_lower_hex(s));
  }
}

TEST_CASE("traceparent is 00-<32 hex>-<16 hex>-<flags>", "[event][trace][traceparent]") {
  CHECK(known().traceparent() == known_header);
  auto unsampled = known();
  unsampled.flags = 0x00;
  CHECK(unsampled.traceparent() == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00");
  for (int i = 0; i < 100; ++i) {
    const auto ctx = trace_context::new_root();
    const auto h = ctx.traceparent();
    REQUIRE(h.size() == 55);
    CHECK(h.substr(0, 3) == "00-");
    CHECK(h.substr(3, 32) == ctx.trace.to_hex());
    CHECK(h[35] == '-');
    CHECK(h.substr(36, 16) == ctx.span.to_hex());
    CHECK(h.substr(52) == "-01");
  }
}

TEST_CASE("parse_traceparent reads a header and round-trips traceparent", "[event][trace][traceparent]") {
  const auto parsed = trace_context::parse_traceparent(known_header);
  REQUIRE(parsed.has_value());
  CHECK(parsed->trace.hi == 0x0af7651916cd43ddULL);
  CHECK(parsed->trace.lo == 0x8448eb211c80319cULL);
  CHECK(parsed->span.value == 0xb7ad6b7169203331ULL);
  CHECK(parsed->flags == 0x01);
  CHECK(*parsed == known());

  const auto unsampled = trace_context::parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00");
  REQUIRE(unsampled.has_value());
  CHECK(unsampled->flags == 0x00);

  // Ids with a zero half are still valid.
  const auto low_only = trace_context::parse_traceparent("00-00000000000000000000000000000001-0000000000000001-01");
  REQUIRE(low_only.has_value());
  CHECK(low_only->trace == trace_id{0, 1});
  CHECK(low_only->span == span_id{1});

  for (int i = 0; i < 200; ++i) {
    auto ctx = trace_context::new_root();
    ctx.flags = static_cast<std::uint8_t>(i % 2);
    const auto back = trace_context::parse_traceparent(ctx.traceparent());
    REQUIRE(back.has_value());
    CHECK(*back == ctx);
    CHECK(back->traceparent() == ctx.traceparent());
  }
}

TEST_CASE("parse_traceparent rejects malformed, all-zero and upper-case input", "[event][trace][traceparent]") {
  const std::string good{known_header};
  REQUIRE(trace_context::parse_traceparent(good).has_value());

  auto with = [&](std::size_t pos, char c) {
    std::string s = good;
    s[pos] = c;
    return s;
  };
  const std::vector<std::string> bad{
    "",
    "00",
    good.substr(0, 54),                                        // one short
    good + "0",                                                // one long
    good + "-",                                                // trailing field separator
    " " + good.substr(0, 54),                                  // leading space, right length
    "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", // unknown version
    "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", // forbidden version
    "00-00000000000000000000000000000000-b7ad6b7169203331-01", // all-zero trace id
    "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", // all-zero span id
    "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", // upper-case trace id
    "00-0af7651916cd43dd8448eb211c80319C-b7ad6b7169203331-01", // one upper-case digit
    "00-0af7651916cd43dd8448eb211c80319c-B7AD6B7169203331-01", // upper-case span id
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0A", // upper-case flags
    "00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", // wrong separators
    "00-0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331-01",
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331_01",
    "00-0af7651916cd43dd8448eb211c8031-9cb7ad6b7169203331-01", // separator in the wrong place
    with(3, 'g'),                                              // non-hex digits
    with(20, 'x'),
    with(40, 'z'),
    with(54, 'g'),
    with(3, '+'), // signs and spaces inside a field
    with(19, '-'),
    with(36, ' '),
    with(53, '-'),
  };
  for (const auto& s : bad) {
    INFO('"' << s << '"');
    CHECK_FALSE(trace_context::parse_traceparent(s).has_value());
  }
}

TEST_CASE("child keeps the trace id and flags and draws a new span id", "[event][trace]") {
  auto parent = known();
  parent.flags = 0x00;
  const auto snapshot = parent;
  const auto child = parent.child();
  CHECK(child.trace == parent.trace);
  CHECK(child.flags == 0x00);
  CHECK(child.span.valid());
  CHECK(child.span != parent.span);
  CHECK(parent == snapshot); // the parent is unchanged
  std::set<span_id> spans{parent.span};
  for (int i = 0; i < 100; ++i)
    spans.insert(parent.child().span);
  CHECK(spans.size() == 101);
}

TEST_CASE("trace and span ids compare by value", "[event][trace]") {
  CHECK(trace_id{1, 2} == trace_id{1, 2});
  CHECK(trace_id{1, 2} != trace_id{1, 3});
  CHECK(trace_id{1, 9} < trace_id{2, 0}); // hi is the more significant half
  CHECK(span_id{3} < span_id{4});
  auto a = known();
  auto b = known();
  CHECK(a == b);
  b.flags = 0;
  CHECK_FALSE(a == b);
  b = known();
  b.span = span_id{1};
  CHECK_FALSE(a == b);
}
