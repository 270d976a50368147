// libra-journal: reads the event journal that libra-runtime --journal writes
// (libra/journal_format.hpp): cat, stats, verify, trace.
#include "journal/config.hpp"
#include "journal/reader.hpp"
#include "journal/render.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <vector>

namespace {

using namespace libra;
using journal::record;
using journal::segment_reader;

enum exit_code : int { exit_ok = 0, exit_corrupt = 1, exit_unreadable = 2, exit_usage = 64 };

constexpr const char* exit_codes_help = R"(Exit codes:
  0    done; the journal is intact (a torn tail at the very end, left by a crash, is reported
       on stderr and is not an error: the journal is complete up to it)
  1    corruption: a bad record, a bad segment header, a torn tail before the end, a repeated
       sequence number, a missing segment (each with file:offset); for trace, no such trace
  2    the directory cannot be read or holds no segment
  64   bad command line
Format: runtime/include/libra/journal_format.hpp.)";

void say(const std::string& text) { fmt::print(stderr, "libra-journal: {}\n", text); }

/// Walks every record of a journal in file order. on_record(record, reader) is called for each;
/// problems are reported on stderr. Returns an exit code.
struct walk_options {
  bool skip_corrupt = false;
};

template <class OnRecord>
int walk(const std::filesystem::path& dir, const walk_options& opt, OnRecord&& on_record) {
  std::vector<std::filesystem::path> segments;
  try {
    segments = journal::list_segments(dir);
  } catch (const std::filesystem::filesystem_error& ex) {
    say(fmt::format("error: cannot read the journal '{}': {}", dir.string(), ex.code().message()));
    return exit_unreadable;
  }
  if (segments.empty()) {
    say(fmt::format("error: '{}' holds no journal segment (NNNNNNNN.journal)", dir.string()));
    return exit_unreadable;
  }
  int rc = exit_ok;
  record r;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const bool last = i + 1 == segments.size();
    segment_reader rd{segments[i]};
    if (!rd.opened()) {
      say("error: " + rd.last_problem().to_string());
      rc = exit_corrupt;
      if (!opt.skip_corrupt)
        return rc;
      continue;
    }
    for (bool more = true; more;) {
      switch (rd.next(r)) {
        case segment_reader::status::record:
          on_record(r, rd);
          break;
        case segment_reader::status::end:
          more = false;
          break;
        case segment_reader::status::torn_tail:
          if (last) {
            say(fmt::format("note: {} ({} bytes): a write cut short by a crash; the journal is complete up to it",
                            rd.last_problem().to_string(), rd.size() - rd.valid_end()));
          } else {
            say(fmt::format("error: {} (not the last segment)", rd.last_problem().to_string()));
            rc = exit_corrupt;
            if (!opt.skip_corrupt)
              return rc;
          }
          more = false;
          break;
        case segment_reader::status::corrupt: {
          say("error: " + rd.last_problem().to_string());
          rc = exit_corrupt;
          if (!opt.skip_corrupt)
            return rc;
          std::uint64_t skipped = 0;
          const auto at = rd.last_problem().offset;
          if (rd.skip(skipped))
            say(fmt::format("note: skipped {} bytes from {}:{} to the next valid record", skipped, segments[i].string(),
                            at));
          else
            say(fmt::format("note: no valid record after {}:{}: skipped the rest of the segment ({} bytes)",
                            segments[i].string(), at, skipped));
          break;
        }
      }
    }
  }
  return rc;
}

int cmd_cat(const std::filesystem::path& dir, const std::vector<std::string>& type_names, const std::string& from,
            const std::string& to, const std::string& trace, bool json, bool skip_corrupt) {
  std::uint32_t types = 0;
  for (const auto& n : type_names) {
    event_type t{};
    if (!from_string(n, t)) {
      say(fmt::format("error: --type: unknown event type '{}' (expected names such as TICK, ORDER_FILLED)", n));
      return exit_usage;
    }
    types |= type_bit(t);
  }
  std::optional<timestamp> lo;
  std::optional<timestamp> hi;
  std::optional<trace_id> want;
  if (!from.empty() && !(lo = journal::parse_utc(from))) {
    say(fmt::format("error: --from: '{}' is not a time (ns since the epoch, or 2020-01-01T00:00:00.5Z)", from));
    return exit_usage;
  }
  if (!to.empty() && !(hi = journal::parse_utc(to))) {
    say(fmt::format("error: --to: '{}' is not a time (ns since the epoch, or 2020-01-01T00:00:00.5Z)", to));
    return exit_usage;
  }
  if (!trace.empty() && !(want = journal::parse_trace_id(trace))) {
    say(fmt::format("error: --trace: '{}' is not a trace id (32 hex digits, or a traceparent)", trace));
    return exit_usage;
  }
  std::string line;
  const int rc = walk(dir, {skip_corrupt}, [&](const record& r, const segment_reader&) {
    const auto& e = r.ev;
    if ((types != 0 && (types & type_bit(e.type())) == 0) || (lo && e.time() < *lo) || (hi && e.time() > *hi)
        || (want && e.trace_id() != *want))
      return;
    line = json ? journal::to_json(r) : journal::to_text(r);
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stdout);
  });
  if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
    say("error: writing to stdout failed");
    return exit_corrupt;
  }
  return rc;
}

struct run_info {
  std::uint64_t records = 0;
  std::uint64_t min_seq = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t max_seq = 0;
  std::uint32_t types = 0;
  std::set<std::uint64_t> seqs; // verify only
  std::vector<std::uint32_t> segment_indexes;
  timestamp created{};
  std::string first_file;
};

int cmd_stats(const std::filesystem::path& dir) {
  std::map<std::string, run_info> runs;
  std::vector<std::string> run_order;
  std::array<std::uint64_t, event_type_count> by_type{};
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
  std::uint64_t segments = 0;
  std::optional<timestamp> first;
  std::optional<timestamp> last;
  std::string seen_file;
  const int rc = walk(dir, {true}, [&](const record& r, const segment_reader& rd) {
    if (rd.path().string() != seen_file) {
      seen_file = rd.path().string();
      ++segments;
      bytes += rd.size();
    }
    auto key = rd.header().run.to_hex();
    auto [it, fresh] = runs.try_emplace(key);
    if (fresh) {
      run_order.push_back(key);
      it->second.created = rd.header().created;
    }
    auto& run = it->second;
    ++run.records;
    run.min_seq = std::min(run.min_seq, r.ev.sequence());
    run.max_seq = std::max(run.max_seq, r.ev.sequence());
    ++records;
    ++by_type[static_cast<std::size_t>(r.ev.type())];
    first = first ? std::min(*first, r.ev.time()) : r.ev.time();
    last = last ? std::max(*last, r.ev.time()) : r.ev.time();
  });
  if (rc == exit_unreadable)
    return rc;
  fmt::print("journal   {}\n", dir.string());
  fmt::print("segments  {} with records, {} bytes\n", segments, bytes);
  fmt::print("records   {}\n", records);
  if (first)
    fmt::print("time      {} .. {} (event time)\n", journal::utc_text(*first), journal::utc_text(*last));
  fmt::print("by type  ");
  for (auto t : all_event_types)
    if (const auto n = by_type[static_cast<std::size_t>(t)]; n > 0)
      fmt::print(" {}={}", to_string(t), n);
  fmt::print("\nruns      {}\n", runs.size());
  for (const auto& key : run_order) {
    const auto& run = runs[key];
    fmt::print("run {} created {}: {} records, sequence {} .. {}\n", key, journal::utc_text(run.created), run.records,
               run.min_seq, run.max_seq);
  }
  return rc;
}

int cmd_verify(const std::filesystem::path& dir) {
  std::map<std::string, run_info> runs;
  std::vector<std::string> run_order;
  std::uint64_t records = 0;
  std::uint64_t duplicates = 0;
  std::string seen_file;
  std::uint64_t segments = 0;
  std::uint64_t bytes = 0;
  // Headers of every segment (also those without records) for the segment-index check.
  std::vector<std::filesystem::path> files;
  try {
    files = journal::list_segments(dir);
  } catch (const std::filesystem::filesystem_error&) {
  }
  for (const auto& f : files) {
    segment_reader rd{f};
    if (!rd.opened())
      continue; // walk reports it
    auto key = rd.header().run.to_hex();
    auto [it, fresh] = runs.try_emplace(key);
    if (fresh) {
      run_order.push_back(key);
      it->second.first_file = f.string();
      it->second.types = rd.header().types;
    }
    it->second.segment_indexes.push_back(rd.header().index);
    ++segments;
    bytes += rd.size();
  }
  std::uint64_t out_of_order = 0;
  int rc = walk(dir, {true}, [&](const record& r, const segment_reader& rd) {
    auto& run = runs[rd.header().run.to_hex()];
    ++records;
    ++run.records;
    if (r.ev.sequence() <= run.max_seq)
      ++out_of_order;
    run.max_seq = std::max(run.max_seq, r.ev.sequence());
    if (!run.seqs.insert(r.ev.sequence()).second) {
      ++duplicates;
      say(fmt::format("error: {}:{}: sequence number {} appears twice in run {}", rd.path().string(),
                      rd.record_offset(), r.ev.sequence(), rd.header().run.to_hex()));
    }
  });
  if (rc == exit_unreadable)
    return rc;
  if (duplicates > 0)
    rc = exit_corrupt;
  if (out_of_order > 0)
    say(
      fmt::format("note: {} records follow one with a higher sequence number (not in admission order)", out_of_order));
  for (const auto& key : run_order) {
    auto& run = runs[key];
    auto idx = run.segment_indexes;
    std::sort(idx.begin(), idx.end());
    for (std::size_t i = 0; i < idx.size(); ++i)
      if (idx[i] != i) {
        say(fmt::format("error: run {}: segment {} of the run is missing (first segment: {})", key, i, run.first_file));
        rc = exit_corrupt;
        break;
      }
    // Gaps: numbers the bus admitted that the journal does not have. Expected when the journal
    // takes only some types, or the run was killed (events still in the bus) or dropped some at
    // stop; so a note, not an error.
    std::uint64_t missing = 0;
    std::uint64_t ranges = 0;
    std::string first_gap;
    std::uint64_t prev = 0;
    for (auto s : run.seqs) {
      if (s > prev + 1) {
        missing += s - prev - 1;
        if (ranges++ == 0)
          first_gap = fmt::format("{}..{}", prev + 1, s - 1);
      }
      prev = s;
    }
    if (missing > 0)
      say(fmt::format("note: run {}: {} sequence numbers not in the journal, in {} gaps (first {}){}", key, missing,
                      ranges, first_gap,
                      run.types != journal::all_types ? " (the journal takes only some event types)" : ""));
  }
  if (rc == exit_ok)
    fmt::print("{}: OK ({} segments, {} bytes, {} runs, {} records)\n", dir.string(), segments, bytes, runs.size(),
               records);
  else
    fmt::print("{}: CORRUPT (see the errors above)\n", dir.string());
  return rc;
}

/// Depth of an event in a trading chain when its parent span is not recorded: market data,
/// signal, order, fill, position.
int stage(event_type t) {
  switch (payload_kind_of(t)) {
    case payload_kind::tick:
    case payload_kind::bar:
    case payload_kind::order_book:
    case payload_kind::system:
      return 0;
    case payload_kind::signal:
      return 1;
    case payload_kind::order:
    case payload_kind::risk:
      return 2;
    case payload_kind::fill:
      return 3;
    case payload_kind::position:
      break;
  }
  return 4;
}

int cmd_trace(const std::filesystem::path& dir, const std::string& id_text) {
  const auto want = journal::parse_trace_id(id_text);
  if (!want) {
    say(fmt::format("error: '{}' is not a trace id (32 hex digits, or a traceparent)", id_text));
    return exit_usage;
  }
  std::vector<record> chain;
  const int rc = walk(dir, {true}, [&](const record& r, const segment_reader&) {
    if (r.ev.trace_id() == *want)
      chain.push_back(r);
  });
  if (rc == exit_unreadable)
    return rc;
  if (chain.empty()) {
    say(fmt::format("no event with trace id {} in '{}'", want->to_hex(), dir.string()));
    return exit_corrupt;
  }
  std::stable_sort(chain.begin(), chain.end(),
                   [](const record& a, const record& b) { return a.ev.sequence() < b.ev.sequence(); });
  // Depth: one below the parent span when the record has one in this trace; else the stage.
  std::map<std::uint64_t, int> depth_of;
  fmt::print("trace {}: {} events\n", want->to_hex(), chain.size());
  for (const auto& r : chain) {
    int depth = stage(r.ev.type());
    if (r.parent)
      if (auto it = depth_of.find(r.parent->value); it != depth_of.end())
        depth = it->second + 1;
    depth_of[r.ev.span_id().value] = depth;
    fmt::print("{:{}}{} #{} {} {} span={} {}\n", "", 2 * depth, to_string(r.ev.type()), r.ev.sequence(),
               journal::utc_text(r.ev.time()), r.ev.source().view(), r.ev.span_id().to_hex(),
               journal::payload_text(r.ev));
  }
  return rc;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"libra-journal: reads an event journal written by libra-runtime --journal"};
  app.footer(exit_codes_help);
  app.require_subcommand(1);
  std::string dir;
  std::vector<std::string> types;
  std::string from;
  std::string to;
  std::string trace;
  bool json = false;
  bool skip_corrupt = false;
  std::string trace_arg;

  auto* cat = app.add_subcommand("cat", "print the journal's events, in file order");
  cat->add_option("dir", dir, "journal directory")->required();
  cat->add_option("--type", types, "only events of this type (repeatable): TICK, ORDER_FILLED, ...");
  cat->add_option("--from", from, "only events at or after this event time (ns since the epoch, or ISO 8601 UTC)");
  cat->add_option("--to", to, "only events at or before this event time");
  cat->add_option("--trace", trace, "only events of this trace id (32 hex digits, or a traceparent)");
  cat->add_flag("--json", json, "one JSON object per line (decimals as exact strings)");
  cat->add_flag("--skip-corrupt", skip_corrupt,
                "on a bad record, report it and go on from the next valid one (the exit code is still 1)");
  auto* stats = app.add_subcommand("stats", "segments, runs, records by type, time and sequence ranges");
  stats->add_option("dir", dir, "journal directory")->required();
  auto* verify = app.add_subcommand("verify", "check every checksum, the sequence numbers and the segments");
  verify->add_option("dir", dir, "journal directory")->required();
  auto* tr = app.add_subcommand("trace", "the chain of one trace id: tick -> signal -> order -> fill -> position");
  tr->add_option("dir", dir, "journal directory")->required();
  tr->add_option("id", trace_arg, "trace id (32 hex digits, or a traceparent)")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    (void)app.exit(e);
    return exit_usage;
  }
  if (cat->parsed())
    return cmd_cat(dir, types, from, to, trace, json, skip_corrupt);
  if (stats->parsed())
    return cmd_stats(dir);
  if (verify->parsed())
    return cmd_verify(dir);
  return cmd_trace(dir, trace_arg);
}
