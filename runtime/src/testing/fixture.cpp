// libra::testing::fixture: a bus and actors on CAF's test coordinator (libra/testing.hpp).
#include <libra/testing.hpp>

#include <libra/system_config.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>
#include <fmt/format.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>

#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <utility>

namespace libra::testing {

namespace {

/// Keeps what a logger wrote.
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

std::shared_ptr<spdlog::logger> capture(const std::string& name, std::shared_ptr<text_sink> sink) {
  auto log = std::make_shared<spdlog::logger>(name, std::move(sink));
  log->set_level(spdlog::level::debug);
  return log;
}

/// Records every event delivered to it: the bus's (subscribed to all types) and direct ones.
caf::behavior recording_actor(caf::event_based_actor* /*self*/, std::shared_ptr<std::vector<event>> out) {
  return {
    on_events([out](const event& e) { out->push_back(e); }),
    [out](const event& e) { out->push_back(e); },
  };
}

caf::actor_system_config& testing_config(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  cfg.set("scheduler.max-throughput", static_cast<std::int64_t>(default_max_throughput));
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  return cfg;
}

/// What one added actor has: its logger's sink and how it ended (shared with its callbacks).
struct actor_record {
  caf::actor handle;
  bool stub = false;
  std::shared_ptr<text_sink> sink = std::make_shared<text_sink>();
  std::shared_ptr<std::vector<event>> received = std::make_shared<std::vector<event>>(); // stubs
  std::shared_ptr<std::size_t> finished = std::make_shared<std::size_t>(0);
  std::shared_ptr<std::vector<std::string>> failures = std::make_shared<std::vector<std::string>>();
  std::shared_ptr<actor_report> report = std::make_shared<actor_report>();
};

} // namespace

params yaml_params(std::string_view yaml, const std::filesystem::path& base_dir) {
  const auto file = base_dir.empty() ? std::filesystem::path{"test.yaml"} : base_dir / "test.yaml";
  return params::from_yaml(yaml, file.string(), "actors[0].params",
                           base_dir.empty() ? std::filesystem::path{"."} : base_dir);
}

struct fixture::impl {
  explicit impl(bus_config cfg)
    : sys{testing_config(sys_cfg)}, sched{dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())} {
    if (!cfg.logger)
      cfg.logger = capture("libra." + cfg.name, bus_sink);
    b.emplace(sys, std::move(cfg));
    // The recorder of everything published: subscribed first, so it sees every event.
    recorder = sys.spawn(recording_actor, all);
    for (std::size_t t = 0; t < event_type_count; ++t)
      b->subscribe(static_cast<event_type>(t), recorder);
    sched.run();
  }

  actor_record& find(std::string_view name) {
    auto it = actors.find(std::string{name});
    if (it == actors.end())
      throw std::out_of_range(fmt::format("libra::testing::fixture: no actor named '{}'", name));
    return it->second;
  }

  actor_record& insert(const std::string& name) {
    if (actors.count(name) != 0)
      throw std::invalid_argument(fmt::format("libra::testing::fixture: an actor named '{}' exists already", name));
    return actors[name];
  }

  caf::actor_system_config sys_cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  std::shared_ptr<text_sink> bus_sink = std::make_shared<text_sink>();
  std::optional<libra::bus> b;
  std::shared_ptr<std::vector<event>> all = std::make_shared<std::vector<event>>();
  caf::actor recorder;
  std::shared_ptr<actor_directory> directory = std::make_shared<actor_directory>();
  std::map<std::string, actor_record, std::less<>> actors;
  std::vector<std::string> order; // of the non-stub actors, for run_atom
  bool stopped = false;
};

fixture::fixture(bus_config cfg) : impl_{std::make_unique<impl>(std::move(cfg))} {}

fixture::~fixture() {
  try {
    stop();
  } catch (...) { // a destructor must not throw; stop() only throws on a broken invariant
  }
}

caf::actor fixture::add(const actor_registry& registry, std::string_view type, std::string name,
                        std::string_view yaml) {
  return add(registry, type, std::move(name), yaml_params(yaml));
}

caf::actor fixture::add(const actor_registry& registry, std::string_view type, std::string name, const params& p) {
  const auto* info = registry.find(type);
  if (info == nullptr)
    throw std::invalid_argument(fmt::format("libra::testing::fixture: no actor type '{}' in the registry", type));
  return add(*info, std::move(name), p);
}

caf::actor fixture::add(const actor_type_info& type, std::string name, const params& p) {
  auto spawn = type.factory(p);
  // As the loader: a key the factory did not read is an unknown key (a typo), an error.
  if (auto unread = p.unread(); !unread.empty())
    throw unread.front();
  auto& rec = impl_->insert(name);
  actor_context ctx;
  ctx.system = &impl_->sys;
  ctx.bus = &*impl_->b;
  ctx.name = name;
  ctx.source = source_id{name};
  ctx.log = capture("libra." + name, rec.sink);
  ctx.directory = impl_->directory;
  ctx.finished = [n = rec.finished] { ++*n; };
  ctx.failed = [f = rec.failures](const std::string& why) { f->push_back(why); };
  ctx.report = rec.report;
  try {
    rec.handle = spawn(ctx);
  } catch (...) {
    impl_->actors.erase(name);
    throw;
  }
  impl_->directory->add(name, rec.handle);
  impl_->order.push_back(name);
  // Only the new actor runs: its initialization (it is subscribed already).
  if (impl_->sched.prioritize(rec.handle))
    impl_->sched.run_once();
  return rec.handle;
}

caf::actor fixture::add_stub(std::string name) {
  auto& rec = impl_->insert(name);
  rec.stub = true;
  rec.handle = impl_->sys.spawn(recording_actor, rec.received);
  impl_->directory->add(name, rec.handle);
  if (impl_->sched.prioritize(rec.handle))
    impl_->sched.run_once();
  return rec.handle;
}

caf::actor fixture::actor(std::string_view name) const { return impl_->find(name).handle; }

void fixture::start() {
  if (impl_->b->is_running() || impl_->stopped)
    throw std::runtime_error("libra::testing::fixture::start: the bus runs already or was stopped");
  // libra-runtime starts the bus, then sends run_atom to each actor, and the two race; here each
  // actor takes its run_atom (queued first) before the broker hands it any event.
  for (const auto& name : impl_->order)
    caf::anon_send(impl_->find(name).handle, run_atom::value);
  (void)impl_->b->start();
  impl_->sched.run();
}

void fixture::publish(event e) {
  const auto type = e.type();
  if (auto r = impl_->b->publish(std::move(e)); !r)
    throw std::runtime_error(fmt::format("libra::testing::fixture::publish: the bus refused a {} event ({})",
                                         to_string(type), to_string(r.status())));
}

void fixture::send(std::string_view name, event e) { caf::anon_send(impl_->find(name).handle, std::move(e)); }

void fixture::halt(std::string_view name) { caf::anon_send(impl_->find(name).handle, halt_atom::value); }

std::size_t fixture::run_until_idle() { return impl_->sched.run(); }

std::size_t fixture::advance_time(caf::timespan d) {
  auto n = impl_->sched.run();
  impl_->sched.advance_time(d);
  return n + impl_->sched.run();
}

void fixture::stop() {
  if (impl_->stopped)
    return;
  impl_->stopped = true;
  impl_->sched.run();
  impl_->b->stop(); // drains: on the test coordinator the bus runs the jobs itself while it waits
  for (auto& [name, rec] : impl_->actors)
    caf::anon_send_exit(rec.handle, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(impl_->recorder, caf::exit_reason::user_shutdown);
  impl_->directory->clear();
  impl_->sched.run();
}

const std::vector<event>& fixture::published() const { return *impl_->all; }

std::vector<event> fixture::published(event_type type) const { return published({type}); }

std::vector<event> fixture::published(std::initializer_list<event_type> types) const {
  std::vector<event> out;
  for (const auto& e : *impl_->all)
    for (auto t : types)
      if (e.type() == t) {
        out.push_back(e);
        break;
      }
  return out;
}

const std::vector<event>& fixture::sent_to(std::string_view name) const {
  auto& rec = impl_->find(name);
  if (!rec.stub)
    throw std::invalid_argument(fmt::format("libra::testing::fixture::sent_to: '{}' is not a stub", name));
  return *rec.received;
}

std::string fixture::log(std::string_view name) const { return impl_->find(name).sink->text(); }

std::string fixture::bus_log() const { return impl_->bus_sink->text(); }

std::size_t fixture::finished(std::string_view name) const { return *impl_->find(name).finished; }

const std::vector<std::string>& fixture::failures(std::string_view name) const { return *impl_->find(name).failures; }

const actor_report& fixture::report(std::string_view name) const { return *impl_->find(name).report; }

libra::bus& fixture::bus() { return *impl_->b; }

caf::actor_system& fixture::system() { return impl_->sys; }

} // namespace libra::testing
