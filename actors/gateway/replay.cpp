// gateway.replay: replays a market-data file (quotes) as TICK events stamped with the file's
// times (UTC), as fast as possible or at a speed factor on the file's time gaps.
#include "market_data.hpp"
#include "producer.hpp"
#include "register.hpp"

#include <common/market_params.hpp>

#include <fmt/format.h>

#include <limits>

namespace libra::actors {

namespace {

struct replay {
  static constexpr actor_spec spec{
    .name = "gateway.replay",
    .description = "replays a market-data file of quotes (HistData ticks, TrueFX) as TICK events with the file's "
                   "timestamps",
    .producer = true};

  explicit replay(const params& p)
    : file{p.require_path("file")}, format_name{p.get_choice("format", "histdata_ticks",
                                                             {"histdata_ticks", "truefx_ticks"})},
      instrument{require_instrument(p)}, speed{p.get_in("speed", 0.0, 0.0, 1e9)},
      on_bad_row{p.get_choice("on_bad_row", "error", {"error", "skip"}) == "skip" ? bad_row_policy::skip
                                                                                  : bad_row_policy::fail} {
    if (p.has("limit"))
      limit = static_cast<std::uint64_t>(
        p.get_in("limit", std::int64_t{1}, std::int64_t{1}, std::numeric_limits<std::int64_t>::max()));
    file_format = format_name == "histdata_ticks" ? md::format::histdata_ticks : md::format::truefx_ticks;
    // A wrong format shows on the first row: report it now, at the param, when bad rows are errors.
    if (on_bad_row == bad_row_policy::fail) {
      bool has_rows = true;
      try {
        md::quote_reader probe{file, file_format};
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
  }

  [[nodiscard]] std::vector<subscription> subscriptions() const { return {}; } // publishes only

  // Opened at spawn: a file gone since the check refuses the start.
  void open(const actor_context&) { reader = std::make_shared<md::quote_reader>(file, file_format); }

  caf::message_handler handlers(context& ctx) { return out.handlers(ctx, *this); }
  void run(context& ctx) { out.run(ctx); }
  void halt(context& ctx) { out.halt(ctx); }

  /// The next row as a quote tick (the files have no sizes and no trades), due at its time gap
  /// from the first row divided by speed.
  std::optional<feed_item> next(const context& ctx) {
    if (limit != 0 && rows >= limit)
      return std::nullopt;
    std::optional<md::quote_row> row;
    try {
      row = reader->next();
    } catch (const md::bad_row_error& ex) {
      throw bad_row{ex.what()};
    }
    if (!row)
      return std::nullopt;
    ++rows;
    if (!first)
      first = row->time;
    std::int64_t due = 0;
    if (speed > 0)
      due = static_cast<std::int64_t>(static_cast<double>((row->time - *first).count()) / speed);
    const tick t{instrument, row->bid, row->ask, {}, {}, {}, {}};
    return feed_item{event::create(event_type::tick, ctx.source(), t, trace_context::new_root(), row->time), due};
  }

  std::filesystem::path file;
  std::string format_name;
  instrument_id instrument;
  double speed;
  bad_row_policy on_bad_row;
  producer out{on_bad_row};
  std::uint64_t limit = 0; // 0: no limit
  md::format file_format{};
  std::shared_ptr<md::quote_reader> reader; // opened at spawn (shared: the SDK copies a T)
  std::uint64_t rows = 0;
  std::optional<timestamp> first;
};

} // namespace

void register_replay(actor_registry& registry) { add_actor<replay>(registry); }

} // namespace libra::actors
