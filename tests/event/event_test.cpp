// The event model: the 18 types and their priorities (event_type.hpp), the payloads (payloads.hpp)
// and libra::event itself (event.hpp): creation, typed access, trace propagation, dispatch order and
// the lifetime of the two payloads held by shared pointer. The expected tables below are written out
// by hand, not derived from the headers, so that a changed mapping fails here.
#include <catch2/catch.hpp>
#include <libra/event.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace {

using libra::event;
using libra::event_type;
using libra::payload_kind;
using libra::priority;

// ---------------------------------------------------------------------------------------------
// Expected model, independent of the implementation.

struct type_row {
  event_type type;
  priority prio;
  std::string_view name;
  payload_kind kind;
};

constexpr std::array<type_row, 18> expected_types{{
  {event_type::tick, priority::market_data, "TICK", payload_kind::tick},
  {event_type::bar, priority::market_data, "BAR", payload_kind::bar},
  {event_type::order_book, priority::market_data, "ORDER_BOOK", payload_kind::order_book},
  {event_type::order_new, priority::orders, "ORDER_NEW", payload_kind::order},
  {event_type::order_filled, priority::orders, "ORDER_FILLED", payload_kind::fill},
  {event_type::order_cancelled, priority::orders, "ORDER_CANCELLED", payload_kind::order},
  {event_type::order_rejected, priority::orders, "ORDER_REJECTED", payload_kind::order},
  {event_type::position_opened, priority::orders, "POSITION_OPENED", payload_kind::position},
  {event_type::position_closed, priority::orders, "POSITION_CLOSED", payload_kind::position},
  {event_type::position_updated, priority::orders, "POSITION_UPDATED", payload_kind::position},
  {event_type::risk_limit_breach, priority::risk, "RISK_LIMIT_BREACH", payload_kind::risk},
  {event_type::drawdown_warning, priority::risk, "DRAWDOWN_WARNING", payload_kind::risk},
  {event_type::circuit_breaker, priority::risk, "CIRCUIT_BREAKER", payload_kind::risk},
  {event_type::signal, priority::signals, "SIGNAL", payload_kind::signal},
  {event_type::gateway_connected, priority::market_data, "GATEWAY_CONNECTED", payload_kind::system},
  {event_type::gateway_disconnected, priority::market_data, "GATEWAY_DISCONNECTED", payload_kind::system},
  {event_type::strategy_started, priority::market_data, "STRATEGY_STARTED", payload_kind::system},
  {event_type::strategy_stopped, priority::market_data, "STRATEGY_STOPPED", payload_kind::system},
}};

constexpr std::array<payload_kind, 9> all_payload_kinds{
  payload_kind::tick,     payload_kind::bar,  payload_kind::order_book, payload_kind::order,  payload_kind::fill,
  payload_kind::position, payload_kind::risk, payload_kind::signal,     payload_kind::system,
};

constexpr std::array<priority, 4> all_priorities{priority::risk, priority::orders, priority::signals,
                                                 priority::market_data};

// ---------------------------------------------------------------------------------------------
// Compile-time checks: what the compiler can check is a static_assert.

constexpr bool table_matches_maps() {
  for (const auto& row : expected_types)
    if (libra::priority_of(row.type) != row.prio || libra::payload_kind_of(row.type) != row.kind)
      return false;
  return true;
}
static_assert(libra::event_type_count == 18);
static_assert(libra::priority_count == 4);
static_assert(table_matches_maps(), "priority_of / payload_kind_of differ from the documented table");

// A lower value is more urgent; RISK is 0.
static_assert(static_cast<int>(priority::risk) == 0);
static_assert(priority::risk < priority::orders && priority::orders < priority::signals
              && priority::signals < priority::market_data);
static_assert(static_cast<std::size_t>(priority::market_data) == libra::priority_count - 1);

// Size: one 128-byte block.
static_assert(sizeof(event) <= 128, "an event must fit in 128 bytes");

// Immutability: no aggregate initialisation, no default construction, no public constructor from
// parts; the only public way to make an event is create()/child_event()/with_sequence().
static_assert(!std::is_aggregate_v<event>);
static_assert(!std::is_default_constructible_v<event>);
static_assert(
  !std::is_constructible_v<event, event_type, libra::source_id, libra::tick, libra::trace_context, libra::timestamp>);
static_assert(!std::is_constructible_v<event, event_type, libra::tick>);
static_assert(std::is_copy_constructible_v<event> && std::is_copy_assignable_v<event>);
static_assert(std::is_nothrow_move_constructible_v<event> && std::is_nothrow_move_assignable_v<event>);
static_assert(std::is_nothrow_destructible_v<event>);

// Accessors return values or const references, so nothing reached through them can change the event.
template <class T>
inline constexpr bool read_only_v = !std::is_reference_v<T> || std::is_const_v<std::remove_reference_t<T>>;

#define LIBRA_CHECK_READ_ONLY(expr)                                                                                    \
  static_assert(read_only_v<decltype(std::declval<event&>().expr)>);                                                   \
  static_assert(std::is_same_v<decltype(std::declval<event&>().expr), decltype(std::declval<const event&>().expr)>)

LIBRA_CHECK_READ_ONLY(type());
LIBRA_CHECK_READ_ONLY(priority());
LIBRA_CHECK_READ_ONLY(time());
LIBRA_CHECK_READ_ONLY(source());
LIBRA_CHECK_READ_ONLY(sequence());
LIBRA_CHECK_READ_ONLY(trace());
LIBRA_CHECK_READ_ONLY(trace_id());
LIBRA_CHECK_READ_ONLY(span_id());
LIBRA_CHECK_READ_ONLY(kind());
LIBRA_CHECK_READ_ONLY(get<libra::tick>());
LIBRA_CHECK_READ_ONLY(get<libra::order_book_ptr>());
LIBRA_CHECK_READ_ONLY(get<libra::risk>());
#undef LIBRA_CHECK_READ_ONLY

// Even on a non-const event, the results cannot be assigned through.
static_assert(!std::is_assignable_v<decltype((std::declval<event&>().type())), event_type>);
static_assert(!std::is_assignable_v<decltype((std::declval<event&>().sequence())), std::uint64_t>);
static_assert(!std::is_assignable_v<decltype((std::declval<event&>().priority())), priority>);
static_assert(!std::is_assignable_v<decltype((std::declval<event&>().kind())), payload_kind>);
static_assert(!std::is_assignable_v<decltype((std::declval<event&>().source())), libra::source_id>);
static_assert(!std::is_assignable_v<decltype((std::declval<event&>().trace_id())), libra::trace_id>);
static_assert(!std::is_assignable_v<decltype((std::declval<event&>().span_id())), libra::span_id>);
static_assert(!std::is_assignable_v<decltype((std::declval<event&>().get<libra::tick>())), libra::tick>);
static_assert(
  !std::is_assignable_v<decltype((std::declval<event&>().get<libra::order_book_ptr>())), libra::order_book_ptr>);
static_assert(std::is_same_v<decltype(std::declval<event&>().get_if<libra::tick>()), const libra::tick*>);
static_assert(
  std::is_same_v<decltype(std::declval<event&>().get_if<libra::order_book_ptr>()), const libra::order_book_ptr*>);
// The shared book itself is immutable too.
static_assert(std::is_same_v<libra::order_book_ptr::element_type, const libra::order_book>);
// with_sequence/child_event return new events, for lvalues and rvalues alike.
static_assert(std::is_same_v<decltype(std::declval<const event&>().with_sequence(1)), event>);
static_assert(std::is_same_v<decltype(std::declval<event&&>().with_sequence(1)), event>);

// Payloads: trivially copyable where documented (all but order_book and risk), each within 64 bytes.
static_assert(std::is_trivially_copyable_v<libra::tick>);
static_assert(std::is_trivially_copyable_v<libra::bar>);
static_assert(std::is_trivially_copyable_v<libra::order>);
static_assert(std::is_trivially_copyable_v<libra::fill>);
static_assert(std::is_trivially_copyable_v<libra::position>);
static_assert(std::is_trivially_copyable_v<libra::signal>);
static_assert(std::is_trivially_copyable_v<libra::system>);
static_assert(std::is_trivially_copyable_v<libra::book_level>);
static_assert(std::is_trivially_copyable_v<libra::instrument_id> && std::is_trivially_copyable_v<libra::source_id>);
static_assert(std::is_trivially_copyable_v<libra::price> && sizeof(libra::price) == 8);
// The two documented exceptions hold shared pointers.
static_assert(!std::is_trivially_copyable_v<libra::risk>);
static_assert(!std::is_trivially_copyable_v<libra::order_book_ptr>);
static_assert(sizeof(libra::tick) <= 64 && sizeof(libra::bar) <= 64 && sizeof(libra::order_book_ptr) <= 64);
static_assert(sizeof(libra::order) <= 64 && sizeof(libra::fill) <= 64 && sizeof(libra::position) <= 64);
static_assert(sizeof(libra::risk) <= 64 && sizeof(libra::signal) <= 64 && sizeof(libra::system) <= 64);

// The payload -> kind map, and only the nine payloads are payloads.
static_assert(libra::payload_kind_for<libra::tick> == payload_kind::tick);
static_assert(libra::payload_kind_for<libra::bar> == payload_kind::bar);
static_assert(libra::payload_kind_for<libra::order_book_ptr> == payload_kind::order_book);
static_assert(libra::payload_kind_for<libra::order> == payload_kind::order);
static_assert(libra::payload_kind_for<libra::fill> == payload_kind::fill);
static_assert(libra::payload_kind_for<libra::position> == payload_kind::position);
static_assert(libra::payload_kind_for<libra::risk> == payload_kind::risk);
static_assert(libra::payload_kind_for<libra::signal> == payload_kind::signal);
static_assert(libra::payload_kind_for<libra::system> == payload_kind::system);
static_assert(!libra::payload_type<int> && !libra::payload_type<std::string>);
static_assert(!libra::payload_type<libra::order_book>); // a book travels only by pointer
static_assert(!libra::payload_type<const libra::tick&>);

// ---------------------------------------------------------------------------------------------
// Builders.

const libra::timestamp t_sample{std::chrono::nanoseconds{1'700'000'000'123'456'789}};

libra::price px(std::int64_t raw) { return libra::price::from_raw(raw); }
libra::quantity qty(std::int64_t raw) { return libra::quantity::from_raw(raw); }

libra::trace_context fixed_trace(std::uint8_t flags = 0x01) {
  libra::trace_context ctx;
  ctx.trace = {0x0123456789abcdefULL, 0xfedcba9876543210ULL};
  ctx.span = {0x1122334455667788ULL};
  ctx.flags = flags;
  return ctx;
}

libra::tick sample_tick() {
  libra::tick t;
  t.instrument = "EUR/USD";
  t.bid = px(1'121'100'000);
  t.ask = px(1'121'300'000);
  t.bid_size = qty(1'000'000'000'000);
  t.ask_size = qty(2'000'000'000'000);
  return t;
}

libra::bar sample_bar() {
  libra::bar b;
  b.instrument = "EUR/USD";
  b.open = px(1'120'000'000);
  b.high = px(1'125'000'000);
  b.low = px(1'119'000'000);
  b.close = px(1'124'000'000);
  b.volume = qty(42'000'000'000);
  b.interval = std::chrono::minutes{1};
  return b;
}

libra::order_book_ptr sample_book() {
  libra::order_book book;
  book.instrument = "EUR/USD";
  book.bids = {{px(1'121'100'000), qty(1'000'000'000)}, {px(1'121'000'000), qty(3'000'000'000)}};
  book.asks = {{px(1'121'300'000), qty(2'000'000'000)}};
  return std::make_shared<const libra::order_book>(std::move(book));
}

libra::order sample_order() {
  libra::order o;
  o.id = libra::order_id{17};
  o.client_id = libra::client_order_id{4};
  o.instrument = "EUR/USD";
  o.quantity = qty(100'000'000'000'000);
  o.price = px(1'121'300'000);
  o.side = libra::side::buy;
  o.type = libra::order_type::limit;
  o.status = libra::order_status::accepted;
  return o;
}

libra::fill sample_fill() {
  libra::fill f;
  f.id = libra::order_id{17};
  f.client_id = libra::client_order_id{4};
  f.instrument = "EUR/USD";
  f.price = px(1'121'300'000);
  f.quantity = qty(50'000'000'000'000);
  f.fee = libra::money::from_raw(1'120'000'000);
  f.side = libra::side::buy;
  return f;
}

libra::position sample_position() {
  libra::position p;
  p.instrument = "EUR/USD";
  p.quantity = qty(-50'000'000'000'000);
  p.average_price = px(1'121'300'000);
  p.realized_pnl = libra::money::from_raw(-12'500'000'000);
  return p;
}

libra::risk sample_risk(std::string text = "drawdown 12% over the 10% limit") {
  libra::risk r;
  r.rule = libra::risk_rule::drawdown;
  r.limit = 0.10;
  r.value = 0.12;
  r.message = std::make_shared<const std::string>(std::move(text));
  return r;
}

libra::signal sample_signal() {
  libra::signal s;
  s.instrument = "EUR/USD";
  s.side = libra::side::sell;
  s.strength = 0.75;
  s.reference = px(1'121'200'000);
  return s;
}

libra::system sample_system() {
  libra::system s;
  s.component = "gateway.replay";
  return s;
}

/// An event of type t carrying a sample payload of kind k (which may not belong to t).
event make_event(event_type t, payload_kind k, libra::trace_context ctx = fixed_trace(),
                 libra::timestamp ts = t_sample) {
  const libra::source_id src{"test.source"};
  switch (k) {
    case payload_kind::tick:
      return event::create(t, src, sample_tick(), ctx, ts);
    case payload_kind::bar:
      return event::create(t, src, sample_bar(), ctx, ts);
    case payload_kind::order_book:
      return event::create(t, src, sample_book(), ctx, ts);
    case payload_kind::order:
      return event::create(t, src, sample_order(), ctx, ts);
    case payload_kind::fill:
      return event::create(t, src, sample_fill(), ctx, ts);
    case payload_kind::position:
      return event::create(t, src, sample_position(), ctx, ts);
    case payload_kind::risk:
      return event::create(t, src, sample_risk(), ctx, ts);
    case payload_kind::signal:
      return event::create(t, src, sample_signal(), ctx, ts);
    case payload_kind::system:
      break;
  }
  return event::create(t, src, sample_system(), ctx, ts);
}

/// An event of type t with its right payload.
event sample_event(event_type t, libra::trace_context ctx = fixed_trace(), libra::timestamp ts = t_sample) {
  return make_event(t, libra::payload_kind_of(t), ctx, ts);
}

template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

/// Calls f(std::type_identity<P>{}) for each of the nine payload types.
template <class F>
void for_each_payload_type(F&& f) {
  f(std::type_identity<libra::tick>{});
  f(std::type_identity<libra::bar>{});
  f(std::type_identity<libra::order_book_ptr>{});
  f(std::type_identity<libra::order>{});
  f(std::type_identity<libra::fill>{});
  f(std::type_identity<libra::position>{});
  f(std::type_identity<libra::risk>{});
  f(std::type_identity<libra::signal>{});
  f(std::type_identity<libra::system>{});
}

} // namespace

// =============================================================================================
// Types, priorities, names

TEST_CASE("the seed's 18 event type names round-trip through to_string and from_string", "[event][types]") {
  CHECK(libra::event_types.size() == expected_types.size());
  for (const auto& row : expected_types) {
    INFO(row.name);
    CHECK(libra::to_string(row.type) == row.name);
    event_type parsed = event_type::tick;
    REQUIRE(libra::from_string(row.name, parsed));
    CHECK(parsed == row.type);
  }
  event_type untouched = event_type::bar;
  CHECK_FALSE(libra::from_string("tick", untouched)); // names are case-sensitive
  CHECK_FALSE(libra::from_string("", untouched));
  CHECK(untouched == event_type::bar);
  CHECK(libra::to_string(static_cast<event_type>(200)) == "INVALID");
}

TEST_CASE("each event type maps to its documented priority and payload kind", "[event][priority]") {
  for (const auto& row : expected_types) {
    INFO(row.name);
    CHECK(libra::priority_of(row.type) == row.prio);
    CHECK(libra::payload_kind_of(row.type) == row.kind);
  }
  SECTION("RISK: risk_limit_breach, drawdown_warning, circuit_breaker") {
    CHECK(libra::priority_of(event_type::risk_limit_breach) == priority::risk);
    CHECK(libra::priority_of(event_type::drawdown_warning) == priority::risk);
    CHECK(libra::priority_of(event_type::circuit_breaker) == priority::risk);
  }
  SECTION("ORDERS: order_* and position_*") {
    for (auto t :
         {event_type::order_new, event_type::order_filled, event_type::order_cancelled, event_type::order_rejected,
          event_type::position_opened, event_type::position_closed, event_type::position_updated})
      CHECK(libra::priority_of(t) == priority::orders);
  }
  SECTION("SIGNALS: signal only") {
    for (auto t : libra::all_event_types)
      CHECK((libra::priority_of(t) == priority::signals) == (t == event_type::signal));
  }
  SECTION("MARKET_DATA: tick, bar, order_book, gateway_*, strategy_*") {
    for (auto t : {event_type::tick, event_type::bar, event_type::order_book, event_type::gateway_connected,
                   event_type::gateway_disconnected, event_type::strategy_started, event_type::strategy_stopped})
      CHECK(libra::priority_of(t) == priority::market_data);
  }
}

TEST_CASE("priorities order RISK(0) < ORDERS < SIGNALS < MARKET_DATA and have stable names", "[event][priority]") {
  CHECK(static_cast<int>(priority::risk) == 0);
  CHECK(static_cast<int>(priority::orders) == 1);
  CHECK(static_cast<int>(priority::signals) == 2);
  CHECK(static_cast<int>(priority::market_data) == 3);
  CHECK(std::is_sorted(all_priorities.begin(), all_priorities.end()));
  CHECK(libra::to_string(priority::risk) == "RISK");
  CHECK(libra::to_string(priority::orders) == "ORDERS");
  CHECK(libra::to_string(priority::signals) == "SIGNALS");
  CHECK(libra::to_string(priority::market_data) == "MARKET_DATA");
  CHECK(libra::to_string(static_cast<priority>(4)) == "INVALID");
}

TEST_CASE("to_string/from_string round-trip every event type", "[event][types][names]") {
  for (const auto& row : expected_types) {
    INFO(row.name);
    CHECK(libra::to_string(row.type) == row.name);
    event_type parsed = event_type::tick;
    REQUIRE(libra::from_string(row.name, parsed));
    CHECK(parsed == row.type);
    // And from the produced name, not just the expected one.
    event_type again = event_type::strategy_stopped;
    REQUIRE(libra::from_string(libra::to_string(row.type), again));
    CHECK(again == row.type);
  }
  // Names are distinct.
  std::set<std::string_view> names;
  for (auto t : libra::all_event_types)
    names.insert(libra::to_string(t));
  CHECK(names.size() == libra::event_type_count);
}

TEST_CASE("from_string rejects unknown names and leaves the output alone", "[event][types][names]") {
  for (std::string_view bad : {"", "tick", "Tick", "TICK ", " TICK", "TICKS", "TIC", "RISK", "ORDER", "INVALID",
                               "CIRCUIT-BREAKER", "ORDER_NEW\n"}) {
    INFO('"' << std::string{bad} << '"');
    event_type out = event_type::bar;
    CHECK_FALSE(libra::from_string(bad, out));
    CHECK(out == event_type::bar);
  }
  CHECK(libra::to_string(static_cast<event_type>(18)) == "INVALID");
  CHECK(libra::to_string(static_cast<event_type>(255)) == "INVALID");
}

TEST_CASE("types_of masks partition all event types by priority", "[event][priority][mask]") {
  const std::uint32_t all = (std::uint32_t{1} << libra::event_type_count) - 1;
  std::uint32_t seen = 0;
  for (auto p : all_priorities) {
    const std::uint32_t m = libra::types_of(p);
    INFO(libra::to_string(p));
    CHECK(m != 0);
    CHECK((m & seen) == 0); // disjoint
    CHECK((m & ~all) == 0); // no bits beyond the last type
    seen |= m;
    for (auto t : libra::all_event_types)
      CHECK(((m & libra::type_bit(t)) != 0) == (libra::priority_of(t) == p));
  }
  CHECK(seen == all); // covering
  CHECK(std::popcount(libra::types_of(priority::risk)) == 3);
  CHECK(std::popcount(libra::types_of(priority::orders)) == 7);
  CHECK(std::popcount(libra::types_of(priority::signals)) == 1);
  CHECK(std::popcount(libra::types_of(priority::market_data)) == 7);
  CHECK(libra::types_of(priority::signals) == libra::type_bit(event_type::signal));
  CHECK(libra::types_of(priority::risk)
        == (libra::type_bit(event_type::risk_limit_breach) | libra::type_bit(event_type::drawdown_warning)
            | libra::type_bit(event_type::circuit_breaker)));
  // type_bit gives one distinct bit per type.
  std::uint32_t bits = 0;
  for (auto t : libra::all_event_types) {
    CHECK(std::popcount(libra::type_bit(t)) == 1);
    CHECK((bits & libra::type_bit(t)) == 0);
    bits |= libra::type_bit(t);
  }
  CHECK(bits == all);
}

TEST_CASE("payload enums have stable lower-case names", "[event][names]") {
  CHECK(libra::to_string(libra::side::none) == "none");
  CHECK(libra::to_string(libra::side::buy) == "buy");
  CHECK(libra::to_string(libra::side::sell) == "sell");
  CHECK(libra::to_string(libra::order_type::market) == "market");
  CHECK(libra::to_string(libra::order_type::limit) == "limit");
  CHECK(libra::to_string(libra::order_status::partially_filled) == "partially_filled");
  CHECK(libra::to_string(libra::order_status::rejected) == "rejected");
  CHECK(libra::to_string(libra::order_reason::max_notional) == "max_notional");
  CHECK(libra::to_string(libra::order_reason::no_market) == "no_market");
  CHECK(libra::to_string(libra::risk_rule::drawdown) == "drawdown");
  CHECK(libra::to_string(libra::risk_rule::circuit_breaker) == "circuit_breaker");
}

// =============================================================================================
// Creation and typed access

TEST_CASE("create works for every type with its payload family and derives the priority", "[event][create]") {
  for (const auto& row : expected_types) {
    INFO(row.name);
    const auto ctx = fixed_trace();
    const event e = sample_event(row.type, ctx, t_sample);
    CHECK(e.type() == row.type);
    CHECK(e.priority() == row.prio);
    CHECK(e.kind() == row.kind);
    CHECK(e.sequence() == 0u);
    CHECK(e.time() == t_sample);
    CHECK(e.source() == "test.source");
    CHECK(e.trace() == ctx);
    CHECK(e.trace_id() == ctx.trace);
    CHECK(e.span_id() == ctx.span);
  }
}

TEST_CASE("create keeps each payload family's values", "[event][create][payload]") {
  SECTION("tick") {
    const auto e = event::create(event_type::tick, "gateway.replay", sample_tick(), fixed_trace(), t_sample);
    const auto& t = e.get<libra::tick>();
    CHECK(t.instrument == "EUR/USD");
    CHECK(t.bid.raw() == 1'121'100'000);
    CHECK(t.ask.raw() == 1'121'300'000);
    CHECK(t.bid_size.raw() == 1'000'000'000'000);
    CHECK(t.ask_size.raw() == 2'000'000'000'000);
    CHECK(t.last.is_zero());
    CHECK(t.mid().raw() == 1'121'200'000);
    CHECK(e.source() == "gateway.replay");
  }
  SECTION("bar") {
    const auto e = event::create(event_type::bar, "gateway.replay", sample_bar(), fixed_trace(), t_sample);
    const auto& b = e.get<libra::bar>();
    CHECK(b.open.raw() == 1'120'000'000);
    CHECK(b.high.raw() == 1'125'000'000);
    CHECK(b.low.raw() == 1'119'000'000);
    CHECK(b.close.raw() == 1'124'000'000);
    CHECK(b.volume.raw() == 42'000'000'000);
    CHECK(b.interval == std::chrono::minutes{1});
  }
  SECTION("order book, shared not copied") {
    auto book = sample_book();
    const auto e = event::create(event_type::order_book, "gateway.depth", book, fixed_trace(), t_sample);
    const auto& held = e.get<libra::order_book_ptr>();
    CHECK(held.get() == book.get());
    CHECK(held->bids.size() == 2);
    CHECK(held->asks.size() == 1);
    CHECK(held->bids.front().price.raw() == 1'121'100'000);
    CHECK(book.use_count() == 2);
  }
  SECTION("order, for each order type") {
    for (auto t : {event_type::order_new, event_type::order_cancelled, event_type::order_rejected}) {
      INFO(libra::to_string(t));
      const auto e = event::create(t, "risk.engine", sample_order(), fixed_trace(), t_sample);
      const auto& o = e.get<libra::order>();
      CHECK(o.id == libra::order_id{17});
      CHECK(o.client_id == libra::client_order_id{4});
      CHECK(o.quantity.raw() == 100'000'000'000'000);
      CHECK(o.side == libra::side::buy);
      CHECK(o.type == libra::order_type::limit);
      CHECK(o.status == libra::order_status::accepted);
      CHECK(e.priority() == priority::orders);
    }
  }
  SECTION("fill") {
    const auto e = event::create(event_type::order_filled, "execution.paper", sample_fill(), fixed_trace(), t_sample);
    const auto& f = e.get<libra::fill>();
    CHECK(f.id == libra::order_id{17});
    CHECK(f.price.raw() == 1'121'300'000);
    CHECK(f.quantity.raw() == 50'000'000'000'000);
    CHECK(f.fee.raw() == 1'120'000'000);
  }
  SECTION("position, for each position type") {
    for (auto t : {event_type::position_opened, event_type::position_updated, event_type::position_closed}) {
      INFO(libra::to_string(t));
      const auto e = event::create(t, "position.manager", sample_position(), fixed_trace(), t_sample);
      CHECK(e.get<libra::position>().quantity.raw() == -50'000'000'000'000);
      CHECK(e.get<libra::position>().realized_pnl.raw() == -12'500'000'000);
    }
  }
  SECTION("risk, for each risk type, message shared") {
    for (auto t : {event_type::risk_limit_breach, event_type::drawdown_warning, event_type::circuit_breaker}) {
      INFO(libra::to_string(t));
      auto r = sample_risk();
      const auto msg = r.message;
      const auto e = event::create(t, "risk.engine", r, fixed_trace(), t_sample);
      const auto& held = e.get<libra::risk>();
      CHECK(held.rule == libra::risk_rule::drawdown);
      CHECK(held.limit == Approx(0.10));
      CHECK(held.value == Approx(0.12));
      CHECK(held.text() == "drawdown 12% over the 10% limit");
      CHECK(held.message.get() == msg.get());
      CHECK(msg.use_count() == 3); // msg, r, the event
      CHECK(e.priority() == priority::risk);
    }
  }
  SECTION("risk without a message") {
    libra::risk r;
    r.rule = libra::risk_rule::circuit_breaker;
    const auto e = event::create(event_type::circuit_breaker, "risk.engine", r, fixed_trace(), t_sample);
    CHECK(e.get<libra::risk>().text().empty());
  }
  SECTION("signal") {
    const auto e = event::create(event_type::signal, "strategy.sma", sample_signal(), fixed_trace(), t_sample);
    const auto& s = e.get<libra::signal>();
    CHECK(s.side == libra::side::sell);
    CHECK(s.strength == Approx(0.75));
    CHECK(s.reference.raw() == 1'121'200'000);
    CHECK(e.priority() == priority::signals);
  }
  SECTION("system, for each lifecycle type") {
    for (auto t : {event_type::gateway_connected, event_type::gateway_disconnected, event_type::strategy_started,
                   event_type::strategy_stopped}) {
      INFO(libra::to_string(t));
      const auto e = event::create(t, "runtime", sample_system(), fixed_trace(), t_sample);
      CHECK(e.get<libra::system>().component == "gateway.replay");
      CHECK(e.priority() == priority::market_data);
    }
  }
}

TEST_CASE("create without a trace starts a new valid trace and stamps the current time", "[event][create][trace]") {
  const auto before = libra::utc_now();
  const auto a = event::create(event_type::tick, "gateway", sample_tick());
  const auto b = event::create(event_type::tick, "gateway", sample_tick());
  const auto after = libra::utc_now();
  CHECK(a.trace_id().valid());
  CHECK(a.span_id().valid());
  CHECK(a.trace().flags == 0x01);
  CHECK(a.trace_id() != b.trace_id());
  CHECK(a.span_id() != b.span_id());
  CHECK(a.time() >= before);
  CHECK(b.time() >= a.time());
  CHECK(b.time() <= after);
}

TEST_CASE("create with a payload of another family throws std::invalid_argument", "[event][create][errors]") {
  std::size_t accepted = 0;
  for (auto t : libra::all_event_types) {
    for (auto k : all_payload_kinds) {
      INFO(libra::to_string(t) << " with payload kind " << static_cast<int>(k));
      if (k == libra::payload_kind_of(t)) {
        CHECK_NOTHROW(make_event(t, k));
        ++accepted;
      } else {
        CHECK_THROWS_AS(make_event(t, k), std::invalid_argument);
      }
    }
  }
  CHECK(accepted == libra::event_type_count); // exactly one family per type
  // Spot checks named in the contract.
  CHECK_THROWS_AS(event::create(event_type::order_new, "x", sample_tick()), std::invalid_argument);
  CHECK_THROWS_AS(event::create(event_type::tick, "x", sample_order()), std::invalid_argument);
  CHECK_THROWS_AS(event::create(event_type::order_filled, "x", sample_order()), std::invalid_argument);
  CHECK_THROWS_AS(event::create(event_type::order_new, "x", sample_fill()), std::invalid_argument);
  CHECK_THROWS_AS(event::create(event_type::circuit_breaker, "x", sample_system()), std::invalid_argument);
}

TEST_CASE("create refuses an invalid event type and a null order book", "[event][create][errors]") {
  CHECK_THROWS_AS(event::create(static_cast<event_type>(18), "x", sample_system()), std::invalid_argument);
  CHECK_THROWS_AS(event::create(static_cast<event_type>(200), "x", sample_tick()), std::invalid_argument);
  CHECK_THROWS_AS(event::create(event_type::order_book, "gateway", libra::order_book_ptr{}), std::invalid_argument);
  CHECK_THROWS_AS(event::create(event_type::order_book, "gateway", libra::order_book_ptr{}, fixed_trace(), t_sample),
                  std::invalid_argument);
  // A parent cannot make a null-book child either.
  const auto parent = sample_event(event_type::tick);
  CHECK_THROWS_AS(parent.child_event(event_type::order_book, "gateway", libra::order_book_ptr{}),
                  std::invalid_argument);
  // A non-null book is fine.
  CHECK_NOTHROW(event::create(event_type::order_book, "gateway", sample_book()));
}

TEST_CASE("get and get_if succeed only for the payload kind the event carries", "[event][payload]") {
  for (auto t : libra::all_event_types) {
    const event e = sample_event(t);
    INFO(libra::to_string(t));
    std::size_t matches = 0;
    for_each_payload_type([&]<class P>(std::type_identity<P>) {
      if (libra::payload_kind_for<P> == e.kind()) {
        ++matches;
        const P* p = e.get_if<P>();
        REQUIRE(p != nullptr);
        CHECK(&e.get<P>() == p);
      } else {
        CHECK(e.get_if<P>() == nullptr);
        CHECK_THROWS_AS(e.get<P>(), std::bad_variant_access);
      }
    });
    CHECK(matches == 1);
  }
}

TEST_CASE("visit calls the overload for the payload the event carries", "[event][payload][visit]") {
  const auto kind_of = overloaded{
    [](const libra::tick&) { return payload_kind::tick; },
    [](const libra::bar&) { return payload_kind::bar; },
    [](const libra::order_book_ptr&) { return payload_kind::order_book; },
    [](const libra::order&) { return payload_kind::order; },
    [](const libra::fill&) { return payload_kind::fill; },
    [](const libra::position&) { return payload_kind::position; },
    [](const libra::risk&) { return payload_kind::risk; },
    [](const libra::signal&) { return payload_kind::signal; },
    [](const libra::system&) { return payload_kind::system; },
  };
  for (const auto& row : expected_types) {
    INFO(row.name);
    const event e = sample_event(row.type);
    CHECK(e.visit(kind_of) == row.kind);
    // The visitor sees the stored payload itself (the object get_if returns), not a copy.
    const void* seen = e.visit([](const auto& p) { return static_cast<const void*>(&p); });
    const void* stored = nullptr;
    for_each_payload_type([&]<class P>(std::type_identity<P>) {
      if (const P* p = e.get_if<P>())
        stored = p;
    });
    CHECK(seen != nullptr);
    CHECK(seen == stored);
  }
  // Values reach the visitor.
  const auto tick_event = sample_event(event_type::tick);
  const auto bid = tick_event.visit(
    overloaded{[](const libra::tick& t) { return t.bid.raw(); }, [](const auto&) { return std::int64_t{-1}; }});
  CHECK(bid == 1'121'100'000);
  const auto risk_event = sample_event(event_type::circuit_breaker);
  const auto text = risk_event.visit(overloaded{[](const libra::risk& r) { return std::string{r.text()}; },
                                                [](const auto&) { return std::string{"wrong"}; }});
  CHECK(text == "drawdown 12% over the 10% limit");
  // visit passes the same object get_if returns.
  const auto book_event = sample_event(event_type::order_book);
  const void* addr = book_event.visit([](const auto& p) { return static_cast<const void*>(&p); });
  CHECK(addr == static_cast<const void*>(book_event.get_if<libra::order_book_ptr>()));
}

TEST_CASE("to_string of an event names type, source, sequence and trace ids", "[event][names]") {
  const auto e = sample_event(event_type::circuit_breaker).with_sequence(42);
  const auto s = libra::to_string(e);
  CHECK_THAT(s, Catch::Contains("CIRCUIT_BREAKER"));
  CHECK_THAT(s, Catch::Contains("source=test.source"));
  CHECK_THAT(s, Catch::Contains("seq=42"));
  CHECK_THAT(s, Catch::Contains("trace_id=0123456789abcdeffedcba9876543210"));
  CHECK_THAT(s, Catch::Contains("span_id=1122334455667788"));
}

// =============================================================================================
// Trace propagation and sequence numbers

TEST_CASE("child_event keeps the trace id, gets a new span id and sequence 0", "[event][trace]") {
  const auto parent = sample_event(event_type::tick, fixed_trace(0x00), t_sample).with_sequence(42);
  const libra::timestamp t1 = t_sample + std::chrono::microseconds{5};
  const auto child = parent.child_event(event_type::signal, "strategy.sma", sample_signal(), t1);

  CHECK(child.trace_id() == parent.trace_id());
  CHECK(child.span_id() != parent.span_id());
  CHECK(child.span_id().valid());
  CHECK(child.trace().flags == 0x00); // flags are inherited, not reset to the default
  CHECK(child.sequence() == 0u);
  CHECK(child.type() == event_type::signal);
  CHECK(child.priority() == priority::signals);
  CHECK(child.source() == "strategy.sma");
  CHECK(child.time() == t1);
  CHECK(child.get<libra::signal>().strength == Approx(0.75));

  // The parent is untouched.
  CHECK(parent.trace() == fixed_trace(0x00));
  CHECK(parent.sequence() == 42u);
  CHECK(parent.type() == event_type::tick);

  SECTION("a chain shares one trace id, every span distinct") {
    const auto order = child.child_event(event_type::order_new, "risk.engine", sample_order(), t1);
    const auto fill = order.child_event(event_type::order_filled, "execution.paper", sample_fill(), t1);
    const auto pos = fill.child_event(event_type::position_opened, "position.manager", sample_position(), t1);
    std::set<std::uint64_t> spans;
    for (const event* e : {&parent, &child, &order, &fill, &pos}) {
      CHECK(e->trace_id() == parent.trace_id());
      spans.insert(e->span_id().value);
    }
    CHECK(spans.size() == 5);
  }
  SECTION("the default time is now") {
    const auto before = libra::utc_now();
    const auto c = parent.child_event(event_type::order_book, "gateway", sample_book());
    CHECK(c.time() >= before);
    CHECK(c.time() <= libra::utc_now());
  }
  SECTION("a mismatched payload throws") {
    CHECK_THROWS_AS(parent.child_event(event_type::signal, "strategy", sample_tick()), std::invalid_argument);
  }
}

TEST_CASE("with_sequence on an lvalue returns a copy and leaves the original unchanged", "[event][sequence]") {
  SECTION("trivially copyable payload") {
    const auto e = sample_event(event_type::tick);
    const auto s = e.with_sequence(7);
    CHECK(s.sequence() == 7u);
    CHECK(e.sequence() == 0u);
    CHECK(s.type() == e.type());
    CHECK(s.time() == e.time());
    CHECK(s.trace() == e.trace());
    CHECK(s.source() == e.source());
    CHECK(s.get<libra::tick>().bid.raw() == e.get<libra::tick>().bid.raw());
    CHECK(&s.get<libra::tick>() != &e.get<libra::tick>());
    // Re-sequencing a sequenced event replaces the number.
    const auto r = s.with_sequence(9);
    CHECK(r.sequence() == 9u);
    CHECK(s.sequence() == 7u);
  }
  SECTION("shared book: the copy shares it") {
    auto book = sample_book();
    const auto e = event::create(event_type::order_book, "gateway", book, fixed_trace(), t_sample);
    REQUIRE(book.use_count() == 2);
    {
      const auto s = e.with_sequence(3);
      CHECK(s.sequence() == 3u);
      CHECK(e.sequence() == 0u);
      CHECK(book.use_count() == 3);
      CHECK(s.get<libra::order_book_ptr>().get() == book.get());
      CHECK(e.get<libra::order_book_ptr>().get() == book.get());
    }
    CHECK(book.use_count() == 2);
  }
}

TEST_CASE("with_sequence on an rvalue moves the payload and leaves the original's header unchanged",
          "[event][sequence]") {
  SECTION("trivially copyable payload") {
    auto e = sample_event(event_type::order_new, fixed_trace(), t_sample);
    const auto s = std::move(e).with_sequence(11);
    CHECK(s.sequence() == 11u);
    CHECK(s.get<libra::order>().id == libra::order_id{17});
    // NOLINTBEGIN(bugprone-use-after-move): the moved-from event must stay valid and unchanged
    CHECK(e.sequence() == 0u);
    CHECK(e.type() == event_type::order_new);
    CHECK(e.trace() == fixed_trace());
    CHECK(e.time() == t_sample);
    CHECK(e.get<libra::order>().id == libra::order_id{17});
    // NOLINTEND(bugprone-use-after-move)
  }
  SECTION("shared book: moved, no extra reference") {
    auto book = sample_book();
    auto e = event::create(event_type::order_book, "gateway", book, fixed_trace(), t_sample);
    REQUIRE(book.use_count() == 2);
    {
      const auto s = std::move(e).with_sequence(5);
      CHECK(s.sequence() == 5u);
      CHECK(book.use_count() == 2); // the event's reference moved into s
      CHECK(s.get<libra::order_book_ptr>().get() == book.get());
      // NOLINTBEGIN(bugprone-use-after-move)
      CHECK(e.sequence() == 0u);
      CHECK(e.type() == event_type::order_book);
      CHECK(e.get_if<libra::order_book_ptr>() != nullptr);
      // NOLINTEND(bugprone-use-after-move)
    }
    CHECK(book.use_count() == 1);
  }
  SECTION("shared risk message: moved, no extra reference") {
    const auto msg = std::make_shared<const std::string>("drawdown 12% over the 10% limit");
    libra::risk r;
    r.message = msg;
    auto e = event::create(event_type::risk_limit_breach, "risk.engine", std::move(r), fixed_trace(), t_sample);
    REQUIRE(msg.use_count() == 2);
    const auto s = std::move(e).with_sequence(6);
    CHECK(msg.use_count() == 2);
    CHECK(s.get<libra::risk>().text() == "drawdown 12% over the 10% limit");
    CHECK(e.sequence() == 0u); // NOLINT(bugprone-use-after-move)
  }
}

// =============================================================================================
// Dispatch order

TEST_CASE("operator< orders by priority first, then by sequence", "[event][priority][order]") {
  const auto risk_late = sample_event(event_type::circuit_breaker).with_sequence(1000);
  const auto order_mid = sample_event(event_type::order_filled).with_sequence(500);
  const auto signal_early = sample_event(event_type::signal).with_sequence(2);
  const auto tick_first = sample_event(event_type::tick).with_sequence(1);
  const auto tick_second = sample_event(event_type::tick).with_sequence(2);
  const auto book_third = sample_event(event_type::order_book).with_sequence(3);
  const auto gateway_zero = sample_event(event_type::gateway_connected).with_sequence(0);

  // Priority beats sequence.
  CHECK(risk_late < tick_first);
  CHECK_FALSE(tick_first < risk_late);
  CHECK(risk_late < order_mid);
  CHECK(order_mid < signal_early);
  CHECK_FALSE(signal_early < order_mid);
  CHECK(signal_early < tick_first);
  // Within a priority, sequence decides, whatever the type.
  CHECK(tick_first < tick_second);
  CHECK_FALSE(tick_second < tick_first);
  CHECK(tick_second < book_third);
  CHECK(gateway_zero < tick_first);
  // Irreflexive; equal keys are equivalent.
  CHECK_FALSE(tick_first < tick_first);
  const auto bar_second = sample_event(event_type::bar).with_sequence(2);
  CHECK_FALSE(tick_second < bar_second);
  CHECK_FALSE(bar_second < tick_second);
  // Time and trace play no part.
  const auto later = sample_event(event_type::tick, libra::trace_context::new_root(), t_sample + std::chrono::hours{1});
  const auto earlier = sample_event(event_type::tick, libra::trace_context::new_root(), t_sample);
  CHECK(later.with_sequence(1) < earlier.with_sequence(2));
}

TEST_CASE("sorting a mixed vector puts RISK first and keeps FIFO by sequence within a priority",
          "[event][priority][order]") {
  auto book = sample_book();
  std::vector<event> events;
  // 90 events cycling through all 18 types in a scrambled order; sequence = admission order.
  std::vector<event_type> pattern(libra::all_event_types.begin(), libra::all_event_types.end());
  std::mt19937 rng{20240601};
  std::uint64_t seq = 1;
  std::map<priority, std::vector<std::uint64_t>> expected; // per priority, in admission order
  for (int round = 0; round < 5; ++round) {
    std::shuffle(pattern.begin(), pattern.end(), rng);
    for (auto t : pattern) {
      event e =
        t == event_type::order_book ? event::create(t, "gateway", book, fixed_trace(), t_sample) : sample_event(t);
      expected[libra::priority_of(t)].push_back(seq);
      events.push_back(std::move(e).with_sequence(seq++));
    }
  }
  REQUIRE(events.size() == 90);
  CHECK(book.use_count() == 6);
  std::shuffle(events.begin(), events.end(), rng);

  std::sort(events.begin(), events.end());

  std::vector<std::pair<priority, std::uint64_t>> want;
  for (auto p : all_priorities)
    for (auto s : expected[p])
      want.emplace_back(p, s);
  std::vector<std::pair<priority, std::uint64_t>> got;
  for (const auto& e : events)
    got.emplace_back(e.priority(), e.sequence());
  CHECK(got == want);

  CHECK(events.front().priority() == priority::risk);
  CHECK(events.back().priority() == priority::market_data);
  CHECK(std::is_sorted(events.begin(), events.end()));
  // Sorting moved payloads around without losing or leaking a reference.
  CHECK(book.use_count() == 6);
  for (const auto& e : events) {
    if (e.type() == event_type::order_book) {
      CHECK(e.get<libra::order_book_ptr>().get() == book.get());
    } else if (e.kind() == payload_kind::risk) {
      CHECK(e.get<libra::risk>().text() == "drawdown 12% over the 10% limit");
    }
  }
  events.clear();
  CHECK(book.use_count() == 1);
}

// =============================================================================================
// Copy, move and assignment of events with shared payloads

TEST_CASE("copies of a book or risk event share the payload, moves transfer it", "[event][lifetime]") {
  SECTION("order book") {
    auto book = sample_book();
    REQUIRE(book.use_count() == 1);
    {
      event e = event::create(event_type::order_book, "gateway", book, fixed_trace(), t_sample);
      CHECK(book.use_count() == 2);
      event copy{e};
      CHECK(book.use_count() == 3);
      CHECK(copy.get<libra::order_book_ptr>().get() == book.get());
      CHECK(copy.type() == event_type::order_book);
      CHECK(copy.trace() == e.trace());
      event moved{std::move(e)};
      CHECK(book.use_count() == 3); // a move takes no new reference
      CHECK(moved.get<libra::order_book_ptr>().get() == book.get());
      CHECK(moved.get<libra::order_book_ptr>()->asks.size() == 1);
      // NOLINTBEGIN(bugprone-use-after-move): the moved-from event stays a valid book event
      CHECK(e.type() == event_type::order_book);
      CHECK(e.get_if<libra::order_book_ptr>() != nullptr);
      // NOLINTEND(bugprone-use-after-move)
      {
        event outlives{copy};
        CHECK(book.use_count() == 4);
      }
      CHECK(book.use_count() == 3);
    }
    CHECK(book.use_count() == 1);
  }
  SECTION("risk message") {
    auto msg = std::make_shared<const std::string>("max_notional breached");
    {
      libra::risk r;
      r.rule = libra::risk_rule::max_notional;
      r.message = msg;
      event e = event::create(event_type::risk_limit_breach, "risk.engine", std::move(r), fixed_trace(), t_sample);
      CHECK(msg.use_count() == 2);
      event copy{e};
      CHECK(msg.use_count() == 3);
      CHECK(copy.get<libra::risk>().text() == "max_notional breached");
      CHECK(copy.get<libra::risk>().rule == libra::risk_rule::max_notional);
      event moved{std::move(e)};
      CHECK(msg.use_count() == 3);
      CHECK(moved.get<libra::risk>().message.get() == msg.get());
      CHECK(e.type() == event_type::risk_limit_breach); // NOLINT(bugprone-use-after-move)
    }
    CHECK(msg.use_count() == 1);
  }
  SECTION("a copy outlives the original") {
    auto book = sample_book();
    std::vector<event> keep;
    {
      const auto e = event::create(event_type::order_book, "gateway", book, fixed_trace(), t_sample);
      keep.push_back(e);
      keep.push_back(e.with_sequence(1));
    }
    CHECK(book.use_count() == 3);
    CHECK(keep[1].get<libra::order_book_ptr>()->instrument == "EUR/USD");
    keep.clear();
    CHECK(book.use_count() == 1);
  }
}

TEST_CASE("assigning between events of different payload kinds releases what was held", "[event][lifetime]") {
  auto book = sample_book();
  auto msg = std::make_shared<const std::string>("halt");
  auto make_book_event = [&] {
    return event::create(event_type::order_book, "gateway", book, fixed_trace(), t_sample);
  };
  auto make_risk_event = [&] {
    libra::risk r;
    r.rule = libra::risk_rule::circuit_breaker;
    r.message = msg;
    return event::create(event_type::circuit_breaker, "risk.engine", r, fixed_trace(), t_sample);
  };

  SECTION("copy-assign a tick over a book event") {
    event target = make_book_event();
    const event tick_event = sample_event(event_type::tick);
    REQUIRE(book.use_count() == 2);
    target = tick_event;
    CHECK(book.use_count() == 1);
    CHECK(target.type() == event_type::tick);
    CHECK(target.get<libra::tick>().ask.raw() == 1'121'300'000);
    CHECK_THROWS_AS(target.get<libra::order_book_ptr>(), std::bad_variant_access);
  }
  SECTION("move-assign a tick over a book event") {
    event target = make_book_event();
    event tick_event = sample_event(event_type::tick);
    REQUIRE(book.use_count() == 2);
    target = std::move(tick_event);
    CHECK(book.use_count() == 1);
    CHECK(target.get<libra::tick>().bid.raw() == 1'121'100'000);
  }
  SECTION("copy-assign a book over a tick event, then back") {
    const event source = make_book_event();
    event target = sample_event(event_type::tick);
    target = source;
    CHECK(book.use_count() == 3);
    CHECK(target.get<libra::order_book_ptr>().get() == book.get());
    target = sample_event(event_type::bar);
    CHECK(book.use_count() == 2);
    CHECK(target.get<libra::bar>().close.raw() == 1'124'000'000);
  }
  SECTION("move-assign a book over a tick event") {
    event source = make_book_event();
    event target = sample_event(event_type::tick);
    target = std::move(source);
    CHECK(book.use_count() == 2);
    CHECK(target.get<libra::order_book_ptr>().get() == book.get());
  }
  SECTION("risk over book and book over risk") {
    event a = make_book_event();
    event b = make_risk_event();
    REQUIRE(book.use_count() == 2);
    REQUIRE(msg.use_count() == 2);
    a = b; // copy: book released, message shared
    CHECK(book.use_count() == 1);
    CHECK(msg.use_count() == 3);
    CHECK(a.get<libra::risk>().text() == "halt");
    b = make_book_event(); // move: message released, book taken
    CHECK(msg.use_count() == 2);
    CHECK(book.use_count() == 2);
    a = std::move(b);
    CHECK(msg.use_count() == 1);
    CHECK(book.use_count() == 2);
    CHECK(a.get<libra::order_book_ptr>().get() == book.get());
  }
  SECTION("book over another book") {
    auto other_book = sample_book();
    event a = make_book_event();
    event b = event::create(event_type::order_book, "gateway", other_book, fixed_trace(), t_sample);
    a = b;
    CHECK(book.use_count() == 1);
    CHECK(other_book.use_count() == 3);
    a = make_book_event();
    CHECK(book.use_count() == 2);
    CHECK(other_book.use_count() == 2);
  }
  SECTION("self-assignment keeps the payload") {
    event a = make_book_event();
    event& alias = a;
    a = alias;
    CHECK(book.use_count() == 2);
    CHECK(a.get<libra::order_book_ptr>().get() == book.get());
    a = std::move(alias);
    CHECK(book.use_count() == 2);
    CHECK(a.get<libra::order_book_ptr>().get() == book.get());
  }
  SECTION("a moved-from event can be assigned again") {
    event a = make_book_event();
    event b{std::move(a)};
    a = make_risk_event(); // NOLINT(bugprone-use-after-move)
    CHECK(a.get<libra::risk>().text() == "halt");
    CHECK(book.use_count() == 2);
    CHECK(msg.use_count() == 2);
  }
  CHECK(book.use_count() == 1);
  CHECK(msg.use_count() == 1);
}

// =============================================================================================
// Payloads checked at compile time

namespace {
template <event_type Type, class P>
concept creatable = requires(P p) {
  event::create<Type>(libra::source_id{"test"}, p);
};
} // namespace

TEST_CASE("a payload of the wrong kind does not compile when the type is known at compile time", "[event][payload]") {
  STATIC_REQUIRE(creatable<event_type::tick, libra::tick>);
  STATIC_REQUIRE_FALSE(creatable<event_type::tick, libra::order>);
  STATIC_REQUIRE(creatable<event_type::order_filled, libra::fill>);
  STATIC_REQUIRE_FALSE(creatable<event_type::order_filled, libra::order>);
  STATIC_REQUIRE(creatable<event_type::circuit_breaker, libra::risk>);
  STATIC_REQUIRE_FALSE(creatable<event_type::circuit_breaker, libra::signal>);
  auto e = event::create<event_type::signal>("strategy.test", libra::signal{});
  CHECK(e.type() == event_type::signal);
  CHECK(e.priority() == priority::signals);
}

TEST_CASE("an event created without a payload carries its type's payload, defaulted", "[event][payload]") {
  for (const auto& info : libra::event_types) {
    INFO(info.name);
    auto e = event::create(info.type, "test");
    CHECK(e.type() == info.type);
    CHECK(e.kind() == info.payload);
  }
  CHECK(event::create(event_type::order_book, "test").get<libra::order_book_ptr>() != nullptr);
  CHECK_THROWS_AS(event::create(static_cast<event_type>(99), "test"), std::invalid_argument);
}
