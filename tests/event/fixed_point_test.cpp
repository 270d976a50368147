// Fixed-point prices, quantities and money (fixed_point.hpp): exact parsing, text, arithmetic,
// price x quantity -> money with rounding, and conversion from double. Values are compared through
// raw() so a failure prints the numbers.
#include <catch2/catch.hpp>
#include <libra/fixed_point.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace {

using libra::money;
using libra::price;
using libra::quantity;

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t int64_min = std::numeric_limits<std::int64_t>::min();

// --- compile-time checks ----------------------------------------------------------------------

static_assert(sizeof(price) == 8 && sizeof(quantity) == 8 && sizeof(money) == 8);
static_assert(std::is_trivially_copyable_v<price> && std::is_trivially_copyable_v<money>);
static_assert(price::scale == 1'000'000'000 && price::decimals == 9);
static_assert(price{}.raw() == 0 && price{}.is_zero());

// The tags keep the three apart: no mixing, no implicit conversions, only price x quantity -> money.
template <class A, class B>
concept addable = requires(A a, B b) {
  a + b;
};
template <class A, class B>
concept multipliable = requires(A a, B b) {
  a* b;
};
static_assert(addable<price, price> && addable<quantity, quantity> && addable<money, money>);
static_assert(!addable<price, quantity> && !addable<price, money> && !addable<quantity, money>);
static_assert(multipliable<price, quantity> && multipliable<quantity, price>);
static_assert(!multipliable<price, price> && !multipliable<quantity, quantity> && !multipliable<money, quantity>);
static_assert(!multipliable<money, price>);
static_assert(std::is_same_v<decltype(price{} * quantity{}), money>);
static_assert(std::is_same_v<decltype(quantity{} * price{}), money>);
static_assert(!std::is_convertible_v<price, quantity> && !std::is_constructible_v<price, quantity>);
static_assert(!std::is_convertible_v<double, price> && !std::is_convertible_v<std::int64_t, price>);

// Arithmetic is usable in constant expressions.
static_assert((price::from_raw(1'500'000'000) * quantity::from_raw(2'000'000'000)).raw() == 3'000'000'000);
static_assert((price::from_raw(1) * quantity::from_raw(500'000'000)).raw() == 1); // half away from zero
static_assert((price::from_raw(-1) * quantity::from_raw(500'000'000)).raw() == -1);
static_assert(price::from_double(1.5).raw() == 1'500'000'000);
static_assert((price::from_raw(3) + price::from_raw(4)).raw() == 7);
static_assert(price::from_raw(3) < price::from_raw(4));

struct parse_case {
  std::string_view text;
  std::int64_t raw;
};

struct text_case {
  std::int64_t raw;
  std::string_view text;
};

} // namespace

TEST_CASE("parse reads plain decimals exactly", "[event][fixed_point][parse]") {
  const std::vector<parse_case> cases{
    {"1.121200", 1'121'200'000},
    {"-3", -3'000'000'000},
    {"0.00141342", 1'413'420},
    {"+2.5", 2'500'000'000},
    {"0", 0},
    {"-0", 0},
    {"+0.0", 0},
    {"1", 1'000'000'000},
    {"10", 10'000'000'000},
    {"000123.4500", 123'450'000'000},
    {"0.000000001", 1},
    {"-0.000000001", -1},
    {"0.999999999", 999'999'999},
    {"1.100000000", 1'100'000'000}, // 9 decimals, trailing zeros
    {"123456789.123456789", 123'456'789'123'456'789},
    {"-42.000000042", -42'000'000'042},
    {"9223372036", 9'223'372'036'000'000'000},
    {"9223372036.854775807", int64_max}, // the largest value
    {"-9223372036.854775807", -int64_max},
  };
  for (const auto& c : cases) {
    INFO("parse(\"" << std::string{c.text} << "\")");
    const auto p = price::parse(c.text);
    REQUIRE(p.has_value());
    CHECK(p->raw() == c.raw);
    // Same rules for every tag.
    const auto q = quantity::parse(c.text);
    REQUIRE(q.has_value());
    CHECK(q->raw() == c.raw);
    const auto m = money::parse(c.text);
    REQUIRE(m.has_value());
    CHECK(m->raw() == c.raw);
  }
}

TEST_CASE("parse rejects what is not a plain decimal of at most 9 decimals in range", "[event][fixed_point][parse]") {
  for (std::string_view bad : {
         "",
         "-",
         "+",
         ".",
         "-.",
         "+.",
         "1.2.3",
         "..1",
         "abc",
         "1a",
         "a1",
         " 1",
         "1 ",
         "1\n",
         "1e5",
         "1E5",
         "--1",
         "+-1",
         "-+1",
         "1-",
         "1.-5",
         "1,5",
         "0x10",
         "inf",
         "nan",
         "1.2345678901",          // 10 decimals
         "0.0000000001",          // 10 decimals, below resolution
         "1.0000000000",          // 10 decimals, even if all zeros
         "9223372037",            // whole part out of range
         "-9223372037",           //
         "10000000000",           //
         "99999999999999999999",  //
         "92233720368547758070",  //
         "9223372036854775807.0", // raw max written as units
       }) {
    INFO("parse(\"" << std::string{bad} << "\")");
    CHECK_FALSE(price::parse(bad).has_value());
    CHECK_FALSE(money::parse(bad).has_value());
  }
}

TEST_CASE("parse refuses a value whose fraction takes it past the int64 range", "[event][fixed_point][parse]") {
  // The whole-part check admits 9223372036, then whole * scale + fraction overflows int64 (undefined
  // behaviour; in practice a wrapped negative value is returned) when the fraction exceeds .854775807.
  for (std::string_view big : {"9223372036.854775808", "9223372036.9", "9223372036.999999999", "-9223372036.9"}) {
    INFO("parse(\"" << std::string{big} << "\")");
    const auto p = price::parse(big);
    INFO("got " << (p ? p->to_string() : std::string{"nullopt"}));
    CHECK_FALSE(p.has_value());
  }
}

TEST_CASE("to_string writes the shortest exact decimal", "[event][fixed_point][text]") {
  const std::vector<text_case> cases{
    {1'121'200'000, "1.1212"},
    {-3'000'000'000, "-3"},
    {1'413'420, "0.00141342"},
    {0, "0"},
    {-500'000'000, "-0.5"},
    {1, "0.000000001"},
    {-1, "-0.000000001"},
    {1'000'000'000, "1"},
    {10'000'000'000, "10"},
    {100'000'000'000, "100"},
    {1'000'000'010, "1.00000001"},
    {123'456'789'123'456'789, "123456789.123456789"},
    {int64_max, "9223372036.854775807"},
    {int64_min, "-9223372036.854775808"},
  };
  for (const auto& c : cases) {
    INFO("raw " << c.raw);
    CHECK(price::from_raw(c.raw).to_string() == c.text);
    CHECK(money::from_raw(c.raw).to_string() == c.text);
  }
}

TEST_CASE("to_string and parse round-trip", "[event][fixed_point][text]") {
  for (std::int64_t raw : {std::int64_t{0}, std::int64_t{1}, std::int64_t{-1}, std::int64_t{999'999'999},
                           std::int64_t{1'000'000'001}, std::int64_t{-1'121'200'000}, std::int64_t{42'000'000'000},
                           std::int64_t{-987'654'321'012'345'678}, int64_max, -int64_max}) {
    INFO("raw " << raw);
    const auto text = quantity::from_raw(raw).to_string();
    const auto back = quantity::parse(text);
    REQUIRE(back.has_value());
    CHECK(back->raw() == raw);
  }
}

TEST_CASE("addition, subtraction, negation and comparison are exact", "[event][fixed_point][arithmetic]") {
  const auto a = price::from_raw(1'121'200'000);
  const auto b = price::from_raw(21'200'000);
  CHECK((a + b).raw() == 1'142'400'000);
  CHECK((a - b).raw() == 1'100'000'000);
  CHECK((b - a).raw() == -1'100'000'000);
  CHECK((-a).raw() == -1'121'200'000);
  CHECK((-(-a)).raw() == a.raw());
  auto c = a;
  c += b;
  CHECK(c.raw() == 1'142'400'000);
  c -= b;
  c -= b;
  CHECK(c.raw() == 1'100'000'000);
  CHECK(b < a);
  CHECK(a > b);
  CHECK(a == price::from_raw(1'121'200'000));
  CHECK(a != b);
  CHECK(a <= a);
  CHECK((a - a).is_zero());
  CHECK_FALSE(a.is_zero());
  CHECK(price{}.is_zero());
  CHECK(a.to_double() == Approx(1.1212));
  CHECK(price::from_raw(-500'000'000).to_double() == Approx(-0.5));
  // A sum of ten 0.1s is exactly 1, unlike doubles.
  money sum;
  for (int i = 0; i < 10; ++i)
    sum += money::from_raw(100'000'000);
  CHECK(sum.raw() == 1'000'000'000);
  CHECK(sum.to_string() == "1");
}

TEST_CASE("price x quantity gives exact money, rounded half away from zero", "[event][fixed_point][arithmetic]") {
  auto p = [](std::string_view s) { return *price::parse(s); };
  auto q = [](std::string_view s) { return *quantity::parse(s); };

  SECTION("exact products") {
    CHECK((p("1.5") * q("2")).raw() == 3'000'000'000);
    CHECK((p("1.1212") * q("100000")).raw() == 112'120'000'000'000);
    CHECK((p("0.333333333") * q("3")).raw() == 999'999'999);
    CHECK((p("1.23456789") * q("0.5")).raw() == 617'283'945);
    CHECK((p("1.121200") * q("100000")).to_string() == "112120");
    CHECK((p("0") * q("123.45")).raw() == 0);
  }
  SECTION("signs") {
    CHECK((p("-1.5") * q("2")).raw() == -3'000'000'000);
    CHECK((p("1.5") * q("-2")).raw() == -3'000'000'000);
    CHECK((p("-1.5") * q("-2")).raw() == 3'000'000'000);
    CHECK((p("1.1212") * q("-100000")).to_string() == "-112120");
  }
  SECTION("commutes") {
    CHECK((q("-2.5") * p("1.000000001")).raw() == (p("1.000000001") * q("-2.5")).raw());
    CHECK((q("7") * p("0.1")).raw() == 700'000'000);
  }
  SECTION("the 128-bit intermediate does not overflow") {
    // raw 9e12 x raw 1e15 = 9e27, far beyond int64; the result 9e9 units fits.
    CHECK((p("9000") * q("1000000")).raw() == 9'000'000'000'000'000'000);
    CHECK((p("-9000") * q("1000000")).raw() == -9'000'000'000'000'000'000);
    CHECK((p("0.000000001") * q("9223372036.854775807")).raw() == 9'223'372'037); // 9.223372036854775807 -> 9.223372037
  }
  SECTION("rounding to 1e-9, half away from zero") {
    const auto tiny = price::from_raw(1); // 1e-9
    CHECK((tiny * q("0.5")).raw() == 1);
    CHECK((tiny * q("0.499999999")).raw() == 0);
    CHECK((tiny * q("0.500000001")).raw() == 1);
    CHECK((tiny * q("-0.5")).raw() == -1);
    CHECK((tiny * q("-0.499999999")).raw() == 0);
    CHECK((price::from_raw(-1) * q("0.5")).raw() == -1);
    CHECK((price::from_raw(3) * q("0.5")).raw() == 2);                   // 1.5e-9 -> 2e-9
    CHECK((price::from_raw(-3) * q("0.5")).raw() == -2);                 // -1.5e-9 -> -2e-9
    CHECK((price::from_raw(5) * q("0.5")).raw() == 3);                   // 2.5e-9 -> 3e-9, not banker's 2e-9
    CHECK((p("1.000000001") * q("1.000000001")).raw() == 1'000'000'002); // 1.000000002000000001
    CHECK((p("1.000000001") * q("1.5")).raw() == 1'500'000'002);         // 1.5000000015
    CHECK((p("1.000000001") * q("-1.5")).raw() == -1'500'000'002);       // -1.5000000015
    CHECK((p("1.000000001") * q("1.4")).raw() == 1'400'000'001);         // 1.4000000014
  }
  SECTION("a thousand fills sum exactly") {
    money notional;
    for (int i = 0; i < 1000; ++i)
      notional += p("0.1") * q("0.1");
    CHECK(notional.raw() == 10'000'000'000);
  }
}

TEST_CASE("from_double rounds to the nearest 1e-9, half away from zero", "[event][fixed_point][double]") {
  CHECK(price::from_double(1.1212).raw() == 1'121'200'000);
  CHECK(price::from_double(1.121200).raw() == 1'121'200'000);
  CHECK(price::from_double(-3.0).raw() == -3'000'000'000);
  CHECK(price::from_double(0.00141342).raw() == 1'413'420);
  CHECK(price::from_double(0.1).raw() == 100'000'000);
  CHECK(price::from_double(0.0).raw() == 0);
  CHECK(price::from_double(-0.0).raw() == 0);
  CHECK(price::from_double(123.456789012).raw() == 123'456'789'012);
  CHECK(price::from_double(1.0000000004).raw() == 1'000'000'000);
  CHECK(price::from_double(1.0000000006).raw() == 1'000'000'001);
  CHECK(price::from_double(-1.0000000004).raw() == -1'000'000'000);
  CHECK(price::from_double(-1.0000000006).raw() == -1'000'000'001);
  CHECK(price::from_double(1.5e-9).raw() == 2);
  CHECK(price::from_double(-1.5e-9).raw() == -2);
  CHECK(price::from_double(0.4e-9).raw() == 0);
  CHECK(price::from_double(-0.4e-9).raw() == 0);
  // Round trip through double for values doubles hold to 1e-9.
  for (std::int64_t raw :
       {std::int64_t{1}, std::int64_t{-7}, std::int64_t{1'121'200'000}, std::int64_t{-98'765'432'100}}) {
    INFO("raw " << raw);
    CHECK(quantity::from_double(quantity::from_raw(raw).to_double()).raw() == raw);
  }
}
