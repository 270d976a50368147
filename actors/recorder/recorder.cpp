// recorder: writes the chosen event types to a JSON-lines file (json_line.hpp), for inspection
// and for tests that compare runs. It runs detached (its own thread): file I/O must not stall a
// scheduler worker. The file is an output_file: a regular file only, locked for the run (a second
// run writing it is refused at spawn), emptied when the run starts, and written with one write(2)
// per delivered batch, so once the bus is idle the file holds every event delivered, and a write
// error (a full disk, at any phase of the run) fails the run.
#include "recorder.hpp"

#include "json_line.hpp"

#include <libra/output_file.hpp>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <optional>
#include <set>

namespace libra::actors {

namespace {

struct recorder_state {
  recorder_state() = default; // user-declared: see CAF 0.17 notes (stateful_actor init)
  recorder_state(const recorder_state&) = delete;
  recorder_state& operator=(const recorder_state&) = delete;
  // CAF destroys the state when the actor ends: the summary goes here (every write went out already).
  ~recorder_state() {
    if (out && log)
      log->info("recorder: {} events written to {}", written, out->path().string());
  }
  std::optional<output_file> out;
  std::shared_ptr<spdlog::logger> log;
  std::uint64_t written = 0;
  bool started = false; // the file was emptied: done when the run starts, not at spawn
  bool write_failed = false;
};

using recorder_actor = caf::stateful_actor<recorder_state>;

void fail(recorder_actor* self, const actor_context& ctx, const std::string& what) {
  auto& st = self->state;
  st.write_failed = true; // reported once; the run fails (a recorder that loses events fails)
  const auto why = fmt::format("writing '{}' failed after {} events: {}", st.out->path().string(), st.written, what);
  ctx.log->error("recorder: {}", why);
  if (ctx.failed)
    ctx.failed(why);
}

// Empties the file once, at run_atom or the first batch, whichever comes first (delivery may
// overtake run_atom): a run refused before it starts leaves the previous file as it was.
bool start(recorder_actor* self, const actor_context& ctx) {
  auto& st = self->state;
  if (!st.started && !st.write_failed) {
    st.started = true;
    if (!st.out->truncate())
      fail(self, ctx, st.out->error());
  }
  return !st.write_failed;
}

caf::behavior recorder(recorder_actor* self, actor_context ctx, std::shared_ptr<output_file> out) {
  auto& st = self->state;
  st.out.emplace(std::move(*out));
  st.log = ctx.log;
  return {
    [self, ctx](delivery& batch) {
      auto& s = self->state;
      const bool ok = start(self, ctx);
      std::string lines;
      std::uint64_t n = 0;
      batch.consume([&](const event& e) {
        if (!ok)
          return;
        lines += to_json_line(e);
        lines += '\n';
        ++n;
      });
      if (n == 0)
        return;
      if (s.out->write(lines))
        s.written += n;
      else
        fail(self, ctx, s.out->error());
    },
    [self, ctx](run_atom) { (void)start(self, ctx); },
    [](halt_atom) {},
  };
}

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

} // namespace

actor_type_info recorder_type() {
  return {[](const params& p) -> spawn_fn {
            const auto path = p.require_path("file", false);
            refuse_special_file(p, path);
            const auto types = types_param(p);
            return [=](const actor_context& ctx) {
              std::error_code ec; // a missing directory is created; when that fails, opening says why
              if (path.has_parent_path())
                std::filesystem::create_directories(path.parent_path(), ec);
              // Opened and locked here, before anything runs: a file in use is refused up front.
              auto out = std::make_shared<output_file>(output_file::open(path));
              // The directory holds every actor's handle: an actor keeping it would keep itself
              // alive (and a detached one blocks the actor system's shutdown).
              auto own = ctx;
              own.directory.reset();
              auto self = ctx.system->spawn<caf::detached>(recorder, std::move(own), std::move(out));
              // Subscribed before spawn_fn returns, so before run_atom: no event is missed.
              for (auto t : types)
                ctx.bus->subscribe(t, self);
              return self;
            };
          },
          "writes chosen event types to a JSON-lines file (one event per line)", false};
}

} // namespace libra::actors
