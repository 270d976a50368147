// recorder: writes the chosen event types to a JSON-lines file (json_line.hpp), for inspection
// and for tests that compare runs. It runs detached (its own thread): file I/O must not stall a
// scheduler worker. The file is flushed after each delivered batch and when the actor ends, so
// once the bus is idle the file holds every event delivered.
#include "recorder.hpp"

#include "json_line.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

namespace libra::actors {

namespace {

struct recorder_state {
  recorder_state() = default; // user-declared: see CAF 0.17 notes (stateful_actor init)
  recorder_state(const recorder_state&) = delete;
  recorder_state& operator=(const recorder_state&) = delete;
  // CAF destroys the state when the actor ends: the last flush and the summary go here.
  ~recorder_state() {
    if (!out)
      return;
    out->flush();
    if (log)
      log->info("recorder: {} events written to {}", written, path);
  }
  std::shared_ptr<std::ofstream> out;
  std::shared_ptr<spdlog::logger> log;
  std::string path;
  std::uint64_t written = 0;
  bool write_failed = false;
};

using recorder_actor = caf::stateful_actor<recorder_state>;

void check_stream(recorder_actor* self, const actor_context& ctx) {
  auto& st = self->state;
  if (st.write_failed || *st.out)
    return;
  st.write_failed = true; // reported once; the run stops (a recorder that loses events fails)
  const auto why = fmt::format("writing '{}' failed after {} events", st.path, st.written);
  ctx.log->error("recorder: {}", why);
  if (ctx.failed)
    ctx.failed(why);
}

caf::behavior recorder(recorder_actor* self, actor_context ctx, std::shared_ptr<std::ofstream> out, std::string path) {
  auto& st = self->state;
  st.out = std::move(out);
  st.log = ctx.log;
  st.path = std::move(path);
  return {
    [self, ctx](delivery& batch) {
      auto& s = self->state;
      std::string line;
      batch.consume([&](const event& e) {
        if (s.write_failed)
          return;
        line = to_json_line(e);
        line += '\n';
        s.out->write(line.data(), static_cast<std::streamsize>(line.size()));
        ++s.written;
      });
      s.out->flush();
      check_stream(self, ctx);
    },
    [](run_atom) {},
    [self, ctx](halt_atom) {
      self->state.out->flush();
      check_stream(self, ctx);
    },
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

} // namespace

actor_type_info recorder_type() {
  return {[](const params& p) -> spawn_fn {
            const auto path = p.require_path("file", false);
            const auto types = types_param(p);
            return [=](const actor_context& ctx) {
              std::error_code ec; // a missing directory is created; when that fails, opening says why
              if (path.has_parent_path())
                std::filesystem::create_directories(path.parent_path(), ec);
              auto out = std::make_shared<std::ofstream>(path, std::ios::out | std::ios::trunc | std::ios::binary);
              if (!*out)
                throw std::runtime_error(fmt::format("cannot write '{}': {}", path.string(), std::strerror(errno)));
              // The directory holds every actor's handle: an actor keeping it would keep itself
              // alive (and a detached one blocks the actor system's shutdown).
              auto own = ctx;
              own.directory.reset();
              auto self = ctx.system->spawn<caf::detached>(recorder, std::move(own), std::move(out), path.string());
              // Subscribed before spawn_fn returns, so before run_atom: no event is missed.
              for (auto t : types)
                ctx.bus->subscribe(t, self);
              return self;
            };
          },
          "writes chosen event types to a JSON-lines file (one event per line)", false};
}

} // namespace libra::actors
