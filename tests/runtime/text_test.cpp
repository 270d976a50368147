#include <libra/text.hpp>

#include <catch2/catch.hpp>

#include <string>

using libra::printable;

TEST_CASE("printable shows control bytes as \\xNN and keeps the rest", "[runtime][text]") {
  CHECK(printable("plain text, UTF-8 \xc3\xa9") == "plain text, UTF-8 \xc3\xa9");
  CHECK(printable(std::string{"a\0b", 3}) == "a\\x00b"); // a NUL no longer cuts the text short
  CHECK(printable("\x1b[2J\r\n\t\x7f") == "\\x1b[2J\\x0d\\x0a\\x09\\x7f");
  CHECK(printable("") == "");
}
