// example.tick_counter: counts the ticks of one instrument and publishes a SIGNAL every `every`
// ticks. Built out of tree against the installed SDK and loaded by libra-runtime as a plugin.
#include <libra/libra.hpp>

#include <cstdint>
#include <vector>

namespace {

struct tick_counter {
  static constexpr libra::actor_spec spec{.name = "example.tick_counter",
                                          .description = "counts ticks; a SIGNAL every `every` ticks"};

  explicit tick_counter(const libra::params& p) : every{p.get_in("every", std::int64_t{100}, 1, 1'000'000'000)} {}

  [[nodiscard]] std::vector<libra::subscription> subscriptions() const { return {{libra::event_type::tick}}; }

  void on_event(libra::context& ctx, const libra::event& e) {
    if (++seen % static_cast<std::uint64_t>(every) != 0)
      return;
    const auto& t = e.get<libra::tick>();
    (void)ctx.publish_child(e, libra::event_type::signal, libra::signal{t.instrument, libra::side::none, 0.0, t.mid()});
  }

  void on_exit(libra::context& ctx) const { ctx.log().info("ticks seen: {}", seen); }

  std::int64_t every;
  std::uint64_t seen = 0;
};

} // namespace

LIBRA_PLUGIN(registry) { libra::add_actor<tick_counter>(registry); }
