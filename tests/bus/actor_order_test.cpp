// FIFO within a priority, per publisher, when the publisher is an SDK actor: CAF runs its
// handlers on whichever worker it picks, and what one actor publishes must still reach
// subscribers in the order it was published.
#include "../support/bus_fixture.hpp"
#include "../support/eventually.hpp"

#include <libra/actor.hpp>
#include <libra/actor_registry.hpp>
#include <libra/params.hpp>

#include <catch2/catch.hpp>
#include <spdlog/sinks/null_sink.h>

using namespace libra;
using namespace libra::testing;

namespace {

/// For each tick, a signal at the tick's price: the signals' prices give the order they were
/// published in.
struct order_relay {
  static constexpr actor_spec spec{"test.order_relay", "a signal per tick, at its price"};
  explicit order_relay(const params& /*p*/) {}
  [[nodiscard]] std::vector<subscription> subscriptions() const { return {{event_type::tick}}; }
  void on_event(context& ctx, const event& e) {
    const auto& t = e.get<tick>();
    (void)ctx.publish_child(e, event_type::signal, libra::signal{t.instrument, side::buy, 1.0, t.bid});
  }
};

} // namespace

TEST_CASE("an actor's events keep their order within a priority, whichever worker runs its handler", "[bus][order]") {
  basic_system_fixture<4> w; // the relay moves between workers while one is held by the gate
  bus_config cfg;
  cfg.capacity = 100'000;
  bus b{w.sys, cfg};
  // The signals' subscriber holds its first event until every signal is staged: they then wait
  // in the broker's stage, where the order of their publisher is all that orders them.
  blocking_subscriber sink{w.sys};
  b.subscribe(event_type::signal, sink.actor);

  actor_registry reg;
  add_actor<order_relay>(reg);
  const auto* info = reg.find("test.order_relay");
  REQUIRE(info != nullptr);
  actor_context ctx;
  ctx.system = &w.sys;
  ctx.bus = &b;
  ctx.name = "relay";
  ctx.source = source_id{std::string_view{"relay"}};
  ctx.log = std::make_shared<spdlog::logger>("libra.relay", std::make_shared<spdlog::sinks::null_sink_mt>());
  auto relay = info->factory(params::from_yaml("{}", "topology.yaml", "actors[0].params", "."))(ctx);
  REQUIRE(relay);
  REQUIRE(b.start());

  constexpr std::int64_t n = 20'000;
  auto pub = b.make_publisher(); // one publisher: the ticks arrive at the relay in order
  for (std::int64_t i = 0; i < n;)
    if (pub.publish(make_tick(i)))
      ++i;
  REQUIRE(sink.entered.wait());
  REQUIRE(eventually([&] { return b.stats().published == static_cast<std::uint64_t>(2 * n); }));
  sink.release.open();
  REQUIRE(sink.got->wait(n));

  const auto got = sink.got->events();
  std::size_t out_of_order = 0;
  for (std::size_t i = 1; i < got.size(); ++i)
    if (got[i].get<signal>().reference <= got[i - 1].get<signal>().reference)
      ++out_of_order;
  CHECK(out_of_order == 0);
  CHECK(got.size() == static_cast<std::size_t>(n));
  b.stop();
  caf::anon_send_exit(relay, caf::exit_reason::user_shutdown);
}
