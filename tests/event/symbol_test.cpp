// Inline names (symbol.hpp): instrument_id (15 characters) and source_id (21): length limits,
// literal and runtime construction, comparison and hashing.
#include <catch2/catch.hpp>
#include <libra/symbol.hpp>

#include <compare>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

namespace {

using libra::instrument_id;
using libra::source_id;

static_assert(instrument_id::max_length == 15);
static_assert(source_id::max_length == 21);
static_assert(sizeof(instrument_id) == 16 && sizeof(source_id) == 22, "stored inline, NUL-terminated");
static_assert(std::is_trivially_copyable_v<instrument_id> && std::is_trivially_copyable_v<source_id>);

// Literals are checked at compile time; exactly max_length characters fit.
constexpr instrument_id longest_instrument{"ABCDEFGHIJKLMNO"}; // 15
constexpr source_id longest_source{"gateway.binance.spot1"};   // 21
static_assert(longest_instrument.view().size() == 15 && longest_instrument.view() == "ABCDEFGHIJKLMNO");
static_assert(longest_source.view().size() == 21);
static_assert(instrument_id{"EUR/USD"}.view() == "EUR/USD");
static_assert(instrument_id{}.empty() && instrument_id{}.view().empty());
static_assert(!instrument_id{"X"}.empty());

static_assert(instrument_id::fits("") && instrument_id::fits("ABCDEFGHIJKLMNO"));
static_assert(!instrument_id::fits("ABCDEFGHIJKLMNOP"));
static_assert(source_id::fits("gateway.binance.spot1") && !source_id::fits("gateway.binance.spot12"));

// Runtime text must be converted explicitly (it may throw); literals convert implicitly.
static_assert(std::is_constructible_v<instrument_id, std::string_view>);
static_assert(!std::is_convertible_v<std::string_view, instrument_id>);
static_assert(!std::is_convertible_v<std::string, instrument_id>);

// Ordering and equality usable at compile time.
static_assert(instrument_id{"AUD/USD"} < instrument_id{"EUR/USD"});
static_assert(instrument_id{"EUR"} < instrument_id{"EUR/USD"});
static_assert(instrument_id{"EUR/USD"} == instrument_id{"EUR/USD"});
static_assert(instrument_id{"EUR/USD"} == "EUR/USD");

} // namespace

TEST_CASE("runtime names up to the maximum length are stored whole", "[event][name]") {
  const std::string fifteen(15, 'x');
  const instrument_id id{fifteen};
  CHECK(id.view() == fifteen);
  CHECK(id.str() == fifteen);
  CHECK(id.view().size() == 15);

  const std::string twenty_one = "gateway.binance.spot1";
  REQUIRE(twenty_one.size() == 21);
  const source_id src{twenty_one};
  CHECK(src.view() == twenty_one);

  const instrument_id empty{std::string_view{}};
  CHECK(empty.empty());
  CHECK(empty.view().empty());
  CHECK(empty.str().empty());

  const instrument_id from_string{std::string{"6EH4.XCME"}};
  CHECK(from_string.view() == "6EH4.XCME");
}

TEST_CASE("runtime names that are too long throw std::length_error", "[event][name][errors]") {
  CHECK_THROWS_AS(instrument_id{std::string(16, 'x')}, std::length_error);
  CHECK_THROWS_AS(instrument_id{std::string_view{"ABCDEFGHIJKLMNOP"}}, std::length_error);
  CHECK_THROWS_AS(source_id{std::string(22, 'y')}, std::length_error);
  CHECK_THROWS_AS(source_id{std::string(200, 'y')}, std::length_error);
  CHECK_THROWS_WITH(instrument_id{std::string_view{"TOO.LONG.INSTRUMENT"}},
                    Catch::Contains("TOO.LONG.INSTRUMENT") && Catch::Contains("15"));
  CHECK_THROWS_WITH(source_id{std::string(22, 'y')}, Catch::Contains("21"));
  CHECK_NOTHROW(source_id{std::string(21, 'y')});
}

TEST_CASE("fits tells whether runtime text can be a name", "[event][name]") {
  for (std::size_t n = 0; n <= 30; ++n) {
    const std::string text(n, 'a');
    INFO("length " << n);
    CHECK(instrument_id::fits(text) == (n <= 15));
    CHECK(source_id::fits(text) == (n <= 21));
    // fits() agrees with the constructor.
    if (instrument_id::fits(text)) {
      CHECK_NOTHROW(instrument_id{text});
    } else {
      CHECK_THROWS_AS(instrument_id{text}, std::length_error);
    }
  }
}

TEST_CASE("names compare by their text", "[event][name]") {
  const instrument_id eur{"EUR/USD"};
  const instrument_id eur_runtime{std::string{"EUR/"} + "USD"};
  const instrument_id gbp{"GBP/USD"};
  CHECK(eur == eur_runtime);
  CHECK_FALSE(eur != eur_runtime);
  CHECK(eur != gbp);
  CHECK(eur < gbp);
  CHECK(gbp > eur);
  CHECK(std::is_eq(eur <=> eur_runtime));
  // Named, not temporaries inside CHECK: a consteval-constructed temporary there crashes clang 14
  // (the ASan+UBSan build).
  const instrument_id eur_prefix{"EUR"};
  const instrument_id a{"A"};
  CHECK(eur_prefix < eur); // a prefix sorts first
  CHECK(instrument_id{} < a);
  // With text of every kind, on either side.
  CHECK(eur == "EUR/USD");
  CHECK("EUR/USD" == eur);
  CHECK(eur == std::string{"EUR/USD"});
  CHECK(eur == std::string_view{"EUR/USD"});
  CHECK(std::string_view{"EUR/USD"} == eur);
  CHECK(eur != "EUR/USD ");
  CHECK(eur != "EUR");
  CHECK(eur != "eur/usd");
  CHECK(instrument_id{} == "");
  // Copies are equal and independent.
  instrument_id copy = eur;
  CHECK(copy == eur);
  copy = gbp;
  CHECK(copy == "GBP/USD");
  CHECK(eur == "EUR/USD");
}

TEST_CASE("names work as keys of unordered containers", "[event][name][hash]") {
  // The names are built outside the CHECKs: a consteval-constructed temporary inside one crashes
  // clang 14 (the ASan+UBSan build).
  const instrument_id eur{"EUR/USD"};
  const instrument_id gbp{"GBP/USD"};
  const instrument_id jpy{"USD/JPY"};
  const instrument_id aud{"AUD/USD"};
  const std::hash<instrument_id> h;
  CHECK(h(eur) == h(instrument_id{std::string{"EUR/USD"}}));
  CHECK(h(eur) != h(gbp));

  std::unordered_set<instrument_id> set;
  CHECK(set.insert(eur).second);
  CHECK(set.insert(gbp).second);
  CHECK(set.insert(jpy).second);
  CHECK_FALSE(set.insert(instrument_id{std::string{"EUR/USD"}}).second);
  CHECK(set.size() == 3);
  CHECK(set.count(instrument_id{std::string_view{"GBP/USD"}}) == 1);
  CHECK(set.count(aud) == 0);
  CHECK(set.erase(jpy) == 1);
  CHECK(set.size() == 2);

  const source_id replay{"gateway.replay"};
  const source_id sma{"strategy.sma_cross"};
  std::unordered_map<source_id, int> counts;
  ++counts[replay];
  ++counts[source_id{std::string{"gateway.replay"}}];
  ++counts[sma];
  CHECK(counts.size() == 2);
  CHECK(counts[replay] == 2);
}

TEST_CASE("runtime text with an embedded NUL is refused", "[event][name][errors]") {
  // Stored NUL-padded, "EUR\0USD" would read back as "EUR" and equal "EUR\0GBP": refuse it.
  const std::string_view text{"EUR\0USD", 7};
  REQUIRE(text.size() == 7);
  CHECK_FALSE(instrument_id::fits(text));
  CHECK_THROWS_AS(instrument_id{text}, std::invalid_argument);
}
