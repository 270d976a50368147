// params::from_yaml: how a test or an embedding application gives an actor its params without
// yaml-cpp in the public API. Errors point at the text's line and column like the loader's.
#include <libra/config_error.hpp>
#include <libra/params.hpp>

#include <catch2/catch.hpp>

#include <string>

using libra::config_error;
using libra::params;

TEST_CASE("params::from_yaml reads a mapping, with typed access and unread keys", "[params]") {
  const auto p = params::from_yaml("fast: 5\nname: sma\nextra: 1\n", "t.yaml", "actors[0].params");
  CHECK(p.get<std::int64_t>("fast", 0) == 5);
  CHECK(p.require<std::string>("name") == "sma");
  REQUIRE(p.unread().size() == 1);
  CHECK(p.unread()[0].key_path() == "actors[0].params.extra");
  CHECK(p.unread()[0].line() == 3);
}

TEST_CASE("params::from_yaml of nothing is an empty mapping", "[params]") {
  const auto p = params::from_yaml("");
  CHECK_FALSE(p.has("anything"));
  CHECK(p.get<double>("rate", 0.5) == 0.5);
}

TEST_CASE("params::from_yaml refuses malformed YAML and non-mappings, located", "[params]") {
  SECTION("malformed") {
    try {
      (void)params::from_yaml("a: 1\nb: [1, 2\n", "bad.yaml", "p");
      FAIL("no error");
    } catch (const config_error& e) {
      CHECK(e.file() == "bad.yaml");
      CHECK(e.line() >= 2);
    }
  }
  SECTION("a sequence") {
    try {
      (void)params::from_yaml("- 1\n- 2\n", "seq.yaml", "p");
      FAIL("no error");
    } catch (const config_error& e) {
      CHECK(e.file() == "seq.yaml");
      CHECK(std::string{e.what()}.find("expected a mapping of parameters") != std::string::npos);
    }
  }
  SECTION("a wrong type is reported at its key") {
    const auto p = params::from_yaml("\n\nfast: five\n", "t.yaml", "actors[2].params");
    try {
      (void)p.get<std::int64_t>("fast", 0);
      FAIL("no error");
    } catch (const config_error& e) {
      CHECK(e.line() == 3);
      CHECK(e.key_path() == "actors[2].params.fast");
    }
  }
}
