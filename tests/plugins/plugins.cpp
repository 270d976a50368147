// Broken plugins for the loader's tests, one per failure mode (chosen at compile time).
#include <libra/actor_registry.hpp>

#include <stdexcept>

#if defined(LIBRA_TEST_PLUGIN_EMPTY)
// Loads and runs its entry point, but registers no actor type.
LIBRA_PLUGIN(registry) { (void)registry; }
#elif defined(LIBRA_TEST_PLUGIN_THROWS)
// Its entry point fails half-way.
LIBRA_PLUGIN(registry) {
  (void)registry;
  throw std::runtime_error("test plugin: registration refused");
}
#else
// A shared library with no entry point at all.
extern "C" int libra_test_plugin_no_entry() { return 0; }
#endif
