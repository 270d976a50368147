// gateway.replay: replays a real market-data file as TICK events with the file's timestamps.
#include "market_data.hpp"
#include "producer.hpp"
#include "register.hpp"

#include <fmt/format.h>

namespace libra::actors {

namespace {

class replay_feed : public feed {
public:
  replay_feed(const std::string& path, md::format fmt, instrument_id inst, source_id src, double speed,
              std::uint64_t limit)
    : reader_{path, fmt}, inst_{inst}, src_{src}, speed_{speed}, limit_{limit} {}

  std::optional<feed_item> next() override {
    if (limit_ != 0 && rows_ >= limit_)
      return std::nullopt;
    std::optional<md::quote_row> row;
    try {
      row = reader_.next();
    } catch (const std::runtime_error& ex) {
      throw bad_row{ex.what()};
    }
    if (!row)
      return std::nullopt;
    ++rows_;
    if (!first_)
      first_ = row->time;
    std::int64_t due = 0;
    if (speed_ > 0)
      due = static_cast<std::int64_t>(static_cast<double>((row->time - *first_).count()) / speed_);
    tick t{inst_, row->bid, row->ask, {}, {}, {}, {}};
    return feed_item{event::create(event_type::tick, src_, t, trace_context::new_root(), row->time), due};
  }

private:
  md::quote_reader reader_;
  instrument_id inst_;
  source_id src_;
  double speed_;
  std::uint64_t limit_;
  std::uint64_t rows_ = 0;
  std::optional<timestamp> first_;
};

instrument_id instrument_param(const params& p) {
  const auto name = p.require<std::string>("instrument");
  if (name.empty() || !instrument_id::fits(name))
    p.fail("instrument", fmt::format("instrument must be 1 to {} characters", instrument_id::max_length));
  return instrument_id{name};
}

} // namespace

instrument_id require_instrument(const params& p) { return instrument_param(p); }

actor_type_info replay_type() {
  return {[](const params& p) -> spawn_fn {
            const auto file = p.require_path("file");
            const auto format = p.get_choice("format", "histdata_ticks", {"histdata_ticks", "truefx_ticks"});
            const auto inst = instrument_param(p);
            const auto speed = p.get_in("speed", 0.0, 0.0, 1e9);
            const auto skip = p.get_choice("on_bad_row", "error", {"error", "skip"}) == "skip";
            const auto limit = p.get<std::uint64_t>("limit", 0);
            const auto fmt_id = format == "histdata_ticks" ? md::format::histdata_ticks : md::format::truefx_ticks;
            return [=](const actor_context& ctx) {
              auto f = std::make_shared<replay_feed>(file.string(), fmt_id, inst, ctx.source, speed, limit);
              return spawn_producer(ctx, std::move(f), {skip});
            };
          },
          "replays a market-data file (quotes) as TICK events with the file's timestamps", true};
}

} // namespace libra::actors
