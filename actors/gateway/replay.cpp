// gateway.replay: replays a market-data file (quotes) as TICK events stamped with the file's
// times (UTC), as fast as possible or at a speed factor on the file's time gaps.
#include "market_data.hpp"
#include "producer.hpp"
#include "register.hpp"

#include <fmt/format.h>

#include <limits>

namespace libra::actors {

namespace {

class replay_feed : public feed {
public:
  replay_feed(const std::filesystem::path& path, md::format fmt, instrument_id inst, source_id src, double speed,
              std::uint64_t limit)
    : reader_{path, fmt}, inst_{inst}, src_{src}, speed_{speed}, limit_{limit} {}

  std::optional<feed_item> next() override {
    if (limit_ != 0 && rows_ >= limit_)
      return std::nullopt;
    std::optional<md::quote_row> row;
    try {
      row = reader_.next();
    } catch (const md::bad_row_error& ex) {
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
    // Quote tick: the files have no sizes and no trades.
    const tick t{inst_, row->bid, row->ask, {}, {}, {}, {}};
    return feed_item{event::create(event_type::tick, src_, t, trace_context::new_root(), row->time), due};
  }

private:
  md::quote_reader reader_;
  instrument_id inst_;
  source_id src_;
  double speed_;
  std::uint64_t limit_; // 0: no limit
  std::uint64_t rows_ = 0;
  std::optional<timestamp> first_;
};

} // namespace

actor_type_info replay_type() {
  return {[](const params& p) -> spawn_fn {
            const auto file = p.require_path("file");
            const auto format_name = p.get_choice("format", "histdata_ticks", {"histdata_ticks", "truefx_ticks"});
            const auto inst = require_instrument(p);
            const auto speed = p.get_in("speed", 0.0, 0.0, 1e9);
            const auto on_bad_row = p.get_choice("on_bad_row", "error", {"error", "skip"}) == "skip"
                                      ? bad_row_policy::skip
                                      : bad_row_policy::fail;
            std::uint64_t limit = 0;
            if (p.has("limit"))
              limit = static_cast<std::uint64_t>(
                p.get_in("limit", std::int64_t{1}, std::int64_t{1}, std::numeric_limits<std::int64_t>::max()));
            const auto fmt_id = format_name == "histdata_ticks" ? md::format::histdata_ticks : md::format::truefx_ticks;
            // A wrong format shows on the first row: report it now, at the param, when bad rows are errors.
            if (on_bad_row == bad_row_policy::fail) {
              bool has_rows = true;
              try {
                md::quote_reader probe{file, fmt_id};
                has_rows = probe.next().has_value();
              } catch (const md::bad_row_error& ex) {
                p.fail("format", fmt::format("{} (is the file in {} format?)", ex.what(), format_name));
              } catch (const std::runtime_error& ex) {
                p.fail("file", ex.what());
              }
              if (!has_rows)
                p.fail("file", fmt::format("'{}' has no data rows", file.string()));
            } else if (std::error_code ec; std::filesystem::file_size(file, ec) == 0 && !ec) {
              p.fail("file", fmt::format("'{}' is empty", file.string()));
            }
            return [=](const actor_context& ctx) {
              return spawn_producer(ctx, std::make_shared<replay_feed>(file, fmt_id, inst, ctx.source, speed, limit),
                                    on_bad_row);
            };
          },
          "replays a market-data file of quotes (HistData ticks, TrueFX) as TICK events with the file's timestamps",
          true};
}

} // namespace libra::actors
