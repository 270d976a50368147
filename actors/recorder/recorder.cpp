// recorder: writes the chosen event types to a JSON-lines file (libra::event_json, the form libra-journal cat --json
// writes too), for inspection and for tests that compare runs. It runs detached (its own thread): file I/O must not
// stall a scheduler worker. The file is an output_file: a regular file only, locked for the run (a second run writing
// it is refused at spawn), emptied when the run starts, and written with one write(2) per delivered batch, so once the
// bus is idle the file holds every event delivered, and a write error (a full disk, at any phase of the run) fails the
// run.
#include "recorder.hpp"

#include <libra/actor.hpp>
#include <libra/json.hpp>
#include <libra/output_file.hpp>

#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <set>

namespace libra::actors {

namespace {

std::vector<event_type> types_param(const params& p) {
  if (!p.has("types"))
    return {all_event_types.begin(), all_event_types.end()};
  const auto names = p.require<std::vector<std::string>>("types");
  if (names.empty())
    p.fail("types", "expected at least one event type (leave the key out to record all)");
  std::vector<event_type> types;
  std::set<event_type> seen;
  for (const auto& name : names) {
    event_type t{};
    if (!from_string(name, t))
      p.fail("types", fmt::format("unknown event type '{}' (expected names such as TICK, ORDER_NEW)", name));
    if (!seen.insert(t).second)
      p.fail("types", fmt::format("event type '{}' is listed twice", name));
    types.push_back(t);
  }
  return types;
}

// A FIFO or a device would block the run (and its shutdown): refused at load time, by --check
// too (output_file refuses it again at spawn, should it appear in between).
void refuse_special_file(const params& p, const std::filesystem::path& path) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (std::filesystem::exists(st) && !std::filesystem::is_regular_file(st))
    p.fail("file", fmt::format("'{}' is not a regular file (a FIFO, device or directory): the recorder writes regular "
                               "files only",
                               path.string()));
}

struct recorder {
  static constexpr actor_spec spec{.name = "recorder",
                                   .description = "writes chosen event types to a JSON-lines file (one event per line)",
                                   .detached = true}; // file I/O must not stall a scheduler worker

  explicit recorder(const params& p) : path{p.require_path("file", false)} {
    refuse_special_file(p, path);
    types = types_param(p);
  }

  [[nodiscard]] std::vector<subscription> subscriptions() const {
    std::vector<subscription> subs;
    for (auto t : types)
      subs.push_back({t});
    return subs;
  }

  // Opened and locked at spawn, before anything runs: a file in use is refused up front.
  void open(const actor_context&) {
    std::error_code ec; // a missing directory is created; when that fails, opening says why
    if (path.has_parent_path())
      std::filesystem::create_directories(path.parent_path(), ec);
    out = std::make_shared<output_file>(output_file::open(path));
  }

  // Whole batches: one write(2) per delivery.
  caf::message_handler handlers(context& ctx) {
    return {[this, &ctx](delivery& batch) {
      const bool ok = start(ctx);
      std::string lines;
      std::uint64_t n = 0;
      batch.consume([&](const event& e) {
        if (!ok)
          return;
        append_event_json(lines, e);
        lines += '\n';
        ++n;
      });
      if (n == 0)
        return;
      if (out->write(lines))
        written += n;
      else
        fail(ctx, out->error());
    }};
  }

  void run(context& ctx) { (void)start(ctx); }

  // Empties the file once, at run_atom or the first batch, whichever comes first (delivery may
  // overtake run_atom): a run refused before it starts leaves the previous file as it was.
  bool start(context& ctx) {
    if (!started && !write_failed) {
      started = true;
      if (!out->truncate())
        fail(ctx, out->error());
    }
    return !write_failed;
  }

  void fail(context& ctx, const std::string& what) {
    write_failed = true; // reported once; the run fails (a recorder that loses events fails)
    const auto why = fmt::format("writing '{}' failed after {} events: {}", out->path().string(), written, what);
    ctx.log().error("recorder: {}", why);
    ctx.failed(why);
  }

  // Every write went out already: the summary.
  void on_exit(context& ctx) const {
    if (out)
      ctx.log().info("recorder: {} events written to {}", written, out->path().string());
  }

  std::filesystem::path path;
  std::vector<event_type> types;
  std::shared_ptr<output_file> out; // shared: T is copied into the actor
  std::uint64_t written = 0;
  bool started = false; // the file was emptied: done when the run starts, not at spawn
  bool write_failed = false;
};

} // namespace

void register_recorder_actors(actor_registry& registry) { add_actor<recorder>(registry); }

} // namespace libra::actors
