// gateway.synthetic: seeded random-walk quotes at a configured rate, for load tests. The same
// seed gives the same prices (times are the wall clock).
#include "producer.hpp"
#include "register.hpp"

#include <common/market_params.hpp>

#include <algorithm>
#include <random>

namespace libra::actors {

namespace {

struct synthetic {
  static constexpr actor_spec spec{.name = "gateway.synthetic",
                                   .description = "seeded random-walk quotes at a configured rate, for load tests",
                                   .producer = true};

  explicit synthetic(const params& p)
    : instrument{require_instrument(p)}, rng{p.get<std::uint64_t>("seed", 1)}, rate{p.get_in("rate", 0.0, 0.0, 1e9)},
      count{p.get<std::uint64_t>("count", 0)} {
    const auto start = decimal_param(p, "start_price", price::from_raw(1'100'000'000), price{}, true);
    step = decimal_param(p, "tick_size", price::from_raw(10'000), price{}, true).raw();
    spread = decimal_param(p, "spread", price::from_raw(100'000), price{}, false).raw();
    bid = start.raw() - spread / 2;
    if (bid < step)
      p.fail("start_price", "must leave the bid (start_price - spread/2) at least one tick_size above zero");
  }

  [[nodiscard]] std::vector<subscription> subscriptions() const { return {}; } // publishes only

  caf::message_handler handlers(context& ctx) { return out.handlers(ctx, *this); }
  void run(context& ctx) { out.run(ctx); }
  void halt(context& ctx) { out.halt(ctx); }

  /// The next quote: the bid moves by -1, 0 or +1 tick (staying positive), sizes 100k to 1M.
  std::optional<feed_item> next(const context& ctx) {
    if (count != 0 && n >= count)
      return std::nullopt;
    const auto move = static_cast<std::int64_t>(rng() % 3) - 1;
    bid = std::max(bid + move * step, step);
    const auto size = quantity::from_raw(static_cast<std::int64_t>(1 + rng() % 10) * 100'000 * quantity::scale);
    const auto due = rate > 0 ? static_cast<std::int64_t>(static_cast<double>(n) * 1e9 / rate) : 0;
    ++n;
    const tick t{instrument, price::from_raw(bid), price::from_raw(bid + spread), size, size, {}, {}};
    return feed_item{event::create(event_type::tick, ctx.source(), t), due};
  }

  instrument_id instrument;
  std::mt19937_64 rng;
  double rate;
  std::uint64_t count; // 0: until halted
  std::int64_t step = 0;
  std::int64_t spread = 0;
  std::int64_t bid = 0;
  std::uint64_t n = 0;
  producer out;
};

} // namespace

void register_synthetic(actor_registry& registry) { add_actor<synthetic>(registry); }

} // namespace libra::actors
