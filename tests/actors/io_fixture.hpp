// Shared by the I/O actor tests: a temporary directory (support/temp_dir.hpp), params from YAML text, and a harness
// that runs registered actor types on a real actor system and bus, as libra-runtime does, with
// the actor_context callbacks recorded (tests wait on them: no sleeps).
#pragma once

#include "../support/bus_fixture.hpp"
#include "../support/temp_dir.hpp"

#include <builtin.hpp>
#include <libra/actor_registry.hpp>
#include <libra/params.hpp>

#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <unistd.h>

namespace libra::testing {

/// Params of one actor from YAML text, as the loader builds them (relative paths against dir).
inline params make_params(const std::string& yaml, const std::filesystem::path& dir) {
  return params::from_yaml(yaml, (dir / "topology.yaml").string(), "actors[0].params", dir);
}

/// The factory of a registered I/O actor type.
inline const actor_type_info& io_type(const std::string& type) {
  static const actor_registry registry = [] {
    actor_registry r;
    actors::register_io_actors(r);
    return r;
  }();
  const auto* info = registry.find(type);
  REQUIRE(info != nullptr);
  return *info;
}

/// What the factory of an I/O actor type says about these params: the config_error's text, or
/// "no error".
inline std::string factory_error(const std::string& type, const std::string& yaml, const std::filesystem::path& dir) {
  try {
    (void)io_type(type).factory(make_params(yaml, dir));
  } catch (const config_error& e) {
    return e.what();
  }
  return "no error";
}

/// A log sink that keeps the text (owned by the loggers that use it: actors may log until the
/// actor system is gone).
class text_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
  std::string text() {
    std::lock_guard guard{mutex_};
    return out_.str();
  }

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    out_.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  }
  void flush_() override {}

private:
  std::ostringstream out_;
};

/// How an actor ended, as its actor_context callbacks reported it (shared with the callbacks).
struct end_record {
  std::atomic<int> finished_calls{0};
  std::atomic<int> failed_calls{0};
  std::atomic<bool> ended{false};
  std::promise<std::string> end;
};

/// One actor run against a real bus, with finished()/failed() recorded.
class io_harness : public system_fixture {
public:
  explicit io_harness(bus_config cfg = {}) : b{sys, cfg} {}
  io_harness(const io_harness&) = delete;
  io_harness& operator=(const io_harness&) = delete;
  ~io_harness() {
    b.stop();
    for (auto& a : actors_)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }

  /// Subscribes a collector actor to these types.
  std::shared_ptr<collector> collect(std::initializer_list<event_type> types) {
    auto out = std::make_shared<collector>();
    auto a = sys.spawn(collecting_actor, out);
    actors_.push_back(a);
    for (auto t : types)
      b.subscribe(t, a);
    return out;
  }

  /// Validates params with the type's factory and spawns the actor (the bus is not started).
  caf::actor spawn(const std::string& type, const params& p, const std::string& name = "gw.test") {
    auto fn = io_type(type).factory(p);
    REQUIRE(p.unread().empty()); // every key given was read
    actor_context ctx;
    ctx.system = &sys;
    ctx.bus = &b;
    ctx.name = name;
    ctx.source = source_id{name};
    ctx.log = std::make_shared<spdlog::logger>("libra." + name, sink_);
    ctx.log->set_level(spdlog::level::debug);
    ctx.directory = directory_;
    ctx.finished = [rec = record_] {
      ++rec->finished_calls;
      if (!rec->ended.exchange(true))
        rec->end.set_value(std::string{});
    };
    ctx.failed = [rec = record_](const std::string& why) {
      ++rec->failed_calls;
      if (!rec->ended.exchange(true))
        rec->end.set_value("failed: " + why);
    };
    auto a = fn(ctx);
    REQUIRE(a);
    directory_->add(name, a); // as the runtime does: an actor that keeps it must not leak (or hang ~actor_system)
    actors_.push_back(a);
    return a;
  }

  /// Waits for finished() ("") or failed() ("failed: why"); "timeout" when neither came.
  std::string wait_end() {
    if (end_.wait_for(patience) != std::future_status::ready)
      return "timeout";
    return end_.get();
  }

  /// Sends msg to a, then waits until a has handled it and ended (an exit sent after it).
  template <class... Ts>
  void send_then_end(const caf::actor& a, Ts... msg) {
    caf::scoped_actor self{sys};
    self->monitor(a);
    caf::anon_send(a, msg...);
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    REQUIRE(got_down(self));
  }

  [[nodiscard]] int finished_calls() const { return record_->finished_calls.load(); }
  [[nodiscard]] int failed_calls() const { return record_->failed_calls.load(); }
  /// What the actor logged so far.
  [[nodiscard]] std::string log_text() const { return sink_->text(); }

  bus b;

private:
  std::shared_ptr<text_sink> sink_ = std::make_shared<text_sink>();
  std::shared_ptr<end_record> record_ = std::make_shared<end_record>();
  std::shared_ptr<actor_directory> directory_ = std::make_shared<actor_directory>(); // shared, as in the runtime
  std::future<std::string> end_ = record_->end.get_future();
  std::vector<caf::actor> actors_;
};

} // namespace libra::testing
