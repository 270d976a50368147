// gateway.journal: replays a journal directory written by `libra-runtime --journal DIR` into a
// topology, so that a recorded session can be re-run as a backtest with other strategy or risk
// parameters. Each record of the chosen types is published again as a new event of this actor
// (its source, a new root trace, as gateway.replay stamps its rows) that keeps the recorded
// payload and event time, so that the strategies see the same market. The records are read
// through the runtime's own segment reader (runtime/src/journal/reader.hpp): one decoder of the
// format, with its torn-tail and corruption checks, instead of a second copy here.
#include "producer.hpp"
#include "register.hpp"

#include "journal/reader.hpp"

#include <libra/text.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace libra::actors {

namespace {

namespace fs = std::filesystem;

// What a backtest needs by default: the market, not the decisions the recorded run took on it
// (the topology's own chain makes those again).
constexpr std::uint32_t market_data_types =
  type_bit(event_type::tick) | type_bit(event_type::bar) | type_bit(event_type::order_book);

constexpr std::uint32_t all_types = [] {
  std::uint32_t m = 0;
  for (auto t : all_event_types)
    m |= type_bit(t);
  return m;
}();

constexpr double max_speed = 1e9; // as gateway.replay's speed

std::string type_names(std::uint32_t mask) {
  std::string out;
  for (auto t : all_event_types)
    if ((mask & type_bit(t)) != 0)
      out += (out.empty() ? "" : ", ") + std::string{to_string(t)};
  return out.empty() ? "none" : out;
}

// `types`: absent (market data), the word `all`, or a list of event type names.
std::uint32_t types_param(const params& p) {
  if (!p.has("types"))
    return market_data_types;
  std::vector<std::string> names;
  try {
    names = p.require<std::vector<std::string>>("types");
  } catch (const config_error&) {
    // Not a list: the only word accepted is `all` (anything else gets the message below).
    std::string word;
    try {
      word = p.require<std::string>("types");
    } catch (const config_error&) {
      p.fail("types", "expected `all` or a list of event type names (e.g. [TICK, BAR])");
    }
    if (word != "all")
      p.fail("types",
             fmt::format("expected `all` or a list of event type names (e.g. [TICK, BAR]), got '{}'", printable(word)));
    return all_types;
  }
  if (names.empty())
    p.fail("types", "expected at least one event type (leave the key out for TICK, BAR, ORDER_BOOK)");
  std::uint32_t mask = 0;
  for (const auto& name : names) {
    event_type t{};
    if (!from_string(name, t))
      p.fail("types", fmt::format("unknown event type '{}' (expected names such as TICK, ORDER_NEW, or `all`)",
                                  printable(name)));
    if ((mask & type_bit(t)) != 0)
      p.fail("types", fmt::format("event type '{}' is listed twice", name));
    mask |= type_bit(t);
  }
  return mask;
}

// `speed`: `max` (0: as fast as the bus takes them), `recorded` (1) or a factor on the recorded
// time gaps. A YAML number reads as its text, so `10` and `0.5` come through here too.
double speed_param(const params& p) {
  const auto text = p.get<std::string>("speed", "max");
  if (text == "max")
    return 0;
  if (text == "recorded")
    return 1;
  double v = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc{} || ptr != end || !std::isfinite(v) || v <= 0 || v > max_speed)
    p.fail("speed", fmt::format("expected `max`, `recorded` or a factor in (0, {:g}] on the recorded pace (e.g. 10), "
                                "got '{}'",
                                max_speed, printable(text)));
  return v;
}

std::vector<instrument_id> instruments_param(const params& p) {
  std::vector<instrument_id> out;
  if (!p.has("instruments"))
    return out;
  const auto names = p.require<std::vector<std::string>>("instruments");
  if (names.empty())
    p.fail("instruments", "expected at least one instrument (leave the key out for all)");
  for (const auto& name : names) {
    if (name.empty() || name.size() > instrument_id::max_length || printable(name) != name)
      p.fail("instruments", fmt::format("'{}' is not an instrument name (1 to {} bytes of UTF-8, no control "
                                        "characters)",
                                        printable(name), instrument_id::max_length));
    out.emplace_back(name);
  }
  return out;
}

// The instrument an event is about; nullopt for payloads without one (system notices) and for
// account-wide risk events (empty instrument).
std::optional<instrument_id> instrument_of(const event& e) {
  return e.visit([](const auto& payload) -> std::optional<instrument_id> {
    if constexpr (requires { payload.instrument; }) {
      if (payload.instrument.view().empty())
        return std::nullopt;
      return payload.instrument;
    } else if constexpr (requires { payload->instrument; }) { // an order book, shared
      if (!payload)
        return std::nullopt;
      return payload->instrument;
    } else {
      return std::nullopt;
    }
  });
}

// The segments of dir, every header checked: what can be known without reading the records is
// refused at load time (exit 2, nothing runs) rather than part-way through the replay. Returns
// the segments and the union of their type masks.
std::vector<fs::path> check_journal(const params& p, const fs::path& dir, std::uint32_t& recorded_types) {
  const auto shown = printable(dir.string(), 256);
  std::error_code ec;
  const auto st = fs::status(dir, ec);
  if (!fs::exists(st))
    p.fail("dir", fmt::format("journal directory '{}' does not exist", shown));
  if (!fs::is_directory(st))
    p.fail("dir", fmt::format("'{}' is not a directory: a journal is the directory that `libra-runtime --journal DIR` "
                              "writes",
                              shown));
  std::vector<fs::path> segments;
  try {
    segments = journal::list_segments(dir);
  } catch (const fs::filesystem_error& ex) {
    p.fail("dir", fmt::format("cannot read the journal '{}': {}", shown, ex.code().message()));
  }
  if (segments.empty())
    p.fail("dir", fmt::format("'{}' holds no journal segment (NNNNNNNN{})", shown, journal_format::segment_extension));
  recorded_types = 0;
  for (const auto& s : segments) {
    journal::segment_reader rd{s};
    if (!rd.opened())
      p.fail("dir", fmt::format("bad journal segment: {}", rd.last_problem().to_string()));
    recorded_types |= rd.header().types;
  }
  return segments;
}

// The walk through the segments; not copyable (a segment is a mapping), held by shared_ptr.
struct journal_cursor {
  std::vector<fs::path> segments;
  std::size_t index = 0;                         // of the segment open in rd
  std::optional<journal::segment_reader> reader; // the segment being read
  journal::record rec;
  std::uint64_t records = 0; // read, of any type
  bool done = false;
};

struct journal_replay {
  static constexpr actor_spec spec{
    .name = "gateway.journal",
    .description = "replays a journal directory (libra-runtime --journal) as new events with the recorded payloads "
                   "and event times",
    .producer = true};

  explicit journal_replay(const params& p)
    : dir{p.require_path("dir", false)}, types{types_param(p)}, speed{speed_param(p)}, instruments{
                                                                                         instruments_param(p)} {
    std::uint32_t recorded = 0;
    segments = check_journal(p, dir, recorded);
    // A journal of other types only would replay nothing: most likely the wrong journal or types.
    if ((recorded & types) == 0)
      p.fail(p.has("types") ? "types" : "dir",
             fmt::format("the journal '{}' records none of {} (it records {})", printable(dir.string(), 256),
                         type_names(types), type_names(recorded)));
  }

  [[nodiscard]] std::vector<subscription> subscriptions() const { return {}; } // publishes only

  // The segments listed at load time, each opened in turn while replaying: a segment that a
  // later run adds to the directory is not replayed, one gone since the check stops the replay.
  void open(const actor_context&) {
    cursor = std::make_shared<journal_cursor>();
    cursor->segments = segments;
  }

  caf::message_handler handlers(context& ctx) { return out.handlers(ctx, *this); }
  void run(context& ctx) { out.run(ctx); }
  void halt(context& ctx) { out.halt(ctx); }

  /// The next record of the chosen types as a new event of this actor, due at its event-time
  /// gap from the first replayed record divided by speed (0 = at once). Throws (the run fails,
  /// exit 1) on a corrupt record or segment, naming the file and offset.
  std::optional<feed_item> next(const context& ctx) {
    auto& c = *cursor;
    while (!c.done) {
      if (!c.reader) {
        if (c.index == c.segments.size()) {
          finish(ctx, "end of journal");
          break;
        }
        c.reader.emplace(c.segments[c.index]);
        if (!c.reader->opened())
          throw std::runtime_error(fmt::format("journal segment {}", c.reader->last_problem().to_string()));
      }
      switch (c.reader->next(c.rec)) {
        case journal::segment_reader::status::record:
          ++c.records;
          if (wanted(c.rec.ev))
            return item(ctx, c.rec.ev);
          break;
        case journal::segment_reader::status::end:
          c.reader.reset();
          ++c.index;
          break;
        case journal::segment_reader::status::torn_tail:
          // A crash cut the last write short: the journal is whole up to it, so is the replay.
          if (c.index + 1 != c.segments.size())
            throw std::runtime_error(
              fmt::format("journal corrupt: {} (not the last segment)", c.reader->last_problem().to_string()));
          ctx.log().warn("journal torn tail (a write cut short by a crash): {}; replay ends at the last whole record",
                         c.reader->last_problem().to_string());
          finish(ctx, "end of journal (torn tail)");
          break;
        case journal::segment_reader::status::corrupt:
          throw std::runtime_error(fmt::format("journal corrupt: {} (after {} whole records)",
                                               c.reader->last_problem().to_string(), c.records));
      }
    }
    return std::nullopt;
  }

  [[nodiscard]] bool wanted(const event& e) const {
    if ((types & type_bit(e.type())) == 0)
      return false;
    if (instruments.empty())
      return true;
    const auto inst = instrument_of(e);
    return inst && std::find(instruments.begin(), instruments.end(), *inst) != instruments.end();
  }

  feed_item item(const context& ctx, const event& recorded) {
    ++replayed;
    if (!first)
      first = recorded.time();
    std::int64_t due = 0;
    if (speed > 0)
      due = static_cast<std::int64_t>(static_cast<double>((recorded.time() - *first).count()) / speed);
    auto ev = recorded.visit([&](const auto& payload) {
      return event::create(recorded.type(), ctx.source(), payload, trace_context::new_root(), recorded.time());
    });
    return feed_item{std::move(ev), due};
  }

  void finish(const context& ctx, std::string_view how) {
    auto& c = *cursor;
    c.done = true;
    c.reader.reset();
    ctx.log().info("{}: {} records read from {} segments of '{}', {} replayed", how, c.records, c.segments.size(),
                   dir.string(), replayed);
  }

  fs::path dir;
  std::uint32_t types;
  double speed; // 0: as fast as possible; else the recorded gaps divided by it
  std::vector<instrument_id> instruments;
  std::vector<fs::path> segments; // listed and header-checked at load time
  producer out;
  std::shared_ptr<journal_cursor> cursor; // made at spawn (shared: the SDK copies a T)
  std::uint64_t replayed = 0;
  std::optional<timestamp> first;
};

} // namespace

void register_journal_replay(actor_registry& registry) { add_actor<journal_replay>(registry); }

} // namespace libra::actors
