#include <catch2/catch.hpp>
#include <libra/event.hpp>
TEST_CASE("placeholder", "[event]") { CHECK(sizeof(libra::event) <= 128); }
