// libFuzzer glue shared by the fuzz_*.cpp harnesses: a finding, an unexpected exception or any
// other throw becomes an abort with the reason on stderr (libFuzzer then saves the input).
#pragma once

#include "fuzz_entry.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <typeinfo>

namespace libra::fuzz {

template <class F>
void guarded(F&& f) {
  try {
    f();
  } catch (const finding& e) {
    std::fprintf(stderr, "==libra-fuzz== FINDING: %s\n", e.what());
    std::abort();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "==libra-fuzz== unexpected exception %s: %s\n", typeid(e).name(), e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "==libra-fuzz== unexpected exception of a non-std type\n");
    std::abort();
  }
}

} // namespace libra::fuzz
