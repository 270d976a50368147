#include "topology.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <dlfcn.h>

#include <set>

namespace libra::core {

namespace {

config_error at(const YAML::Node& n, const std::string& file, const std::string& path, const std::string& msg) {
  const auto m = n.Mark();
  if (m.is_null()) // an empty document has no place in the file: report its start
    return {file, 1, 1, path, msg};
  return {file, m.line + 1, m.column + 1, path, msg};
}

// Plugins stay loaded for the life of the process: their factories' code lives in them.
void load_plugin(const std::filesystem::path& path, const params& where, std::string_view key,
                 actor_registry& registry) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr)
    where.fail(key, fmt::format("plugin '{}' failed to load: {}", path.string(), dlerror()));
  using entry_fn = void (*)(actor_registry&);
  auto* sym = dlsym(handle, "libra_register_actors");
  if (sym == nullptr)
    where.fail(key, fmt::format("plugin '{}' has no libra_register_actors (use LIBRA_PLUGIN)", path.string()));
  const auto before = registry.types().size();
  try {
    reinterpret_cast<entry_fn>(sym)(registry); // NOLINT: dlsym's documented use
  } catch (const std::exception& ex) {
    where.fail(key, fmt::format("plugin '{}' failed to register: {}", path.string(), ex.what()));
  }
  if (registry.types().size() == before)
    where.fail(key, fmt::format("plugin '{}' registered no actor type", path.string()));
}

void report_unread(const params& p) {
  auto unread = p.unread();
  if (!unread.empty())
    throw unread.front();
}

} // namespace

topology load_topology(const std::filesystem::path& file, actor_registry& registry) {
  const std::string fname = file.string();
  YAML::Node root;
  try {
    root = YAML::LoadFile(fname);
  } catch (const YAML::BadFile&) {
    throw config_error(fname, 0, 0, "(file)", "cannot open the topology file");
  } catch (const YAML::ParserException& ex) {
    throw config_error(fname, ex.mark.line + 1, ex.mark.column + 1, "(syntax)", ex.msg);
  }
  if (!root.IsMap())
    throw at(root, fname, "(root)", "a topology is a mapping with keys bus, runtime, logging, plugins, actors");
  const auto base = std::filesystem::absolute(file).parent_path();
  topology topo;
  topo.file = file;
  params top{root, fname, "", base};

  // bus
  {
    auto b = top.child("bus");
    constexpr std::int64_t big = std::int64_t{1} << 40;
    topo.bus.capacity = static_cast<std::size_t>(b.get_in("capacity", std::int64_t{100'000}, 1, big));
    topo.bus.max_handlers_per_type =
      static_cast<std::size_t>(b.get_in("max_handlers_per_type", std::int64_t{100}, 1, 100'000));
    topo.bus.credit_window =
      static_cast<std::uint32_t>(b.get_in("credit_window", std::int64_t{16}, 1, max_credit_window));
    topo.bus.batch_size = static_cast<std::uint32_t>(b.get_in("batch_size", std::int64_t{8}, 1, max_credit_window));
    if (topo.bus.batch_size > topo.bus.credit_window)
      b.fail("batch_size", fmt::format("must not exceed credit_window ({})", topo.bus.credit_window));
    topo.bus.default_drain_timeout =
      std::chrono::milliseconds{b.get_in("drain_timeout_ms", std::int64_t{5000}, 0, 3'600'000)};
    // The bus's own rules (e.g. a capacity too small for the admission shares), at load time.
    if (auto why = invalid_reason(topo.bus); !why.empty())
      b.fail(b.has("capacity") ? "capacity" : "", why);
  }
  // runtime
  {
    auto r = top.child("runtime");
    topo.workers = static_cast<std::size_t>(r.get_in("workers", std::int64_t{2}, 1, 256));
    topo.idle = r.get_choice("idle", "responsive", {"responsive", "frugal"}) == "frugal" ? idle_policy::frugal
                                                                                         : idle_policy::responsive;
    topo.stats_interval =
      std::chrono::milliseconds{static_cast<std::int64_t>(r.get_in("stats_interval_s", 1.0, 0.01, 3600.0) * 1000)};
    topo.duration =
      std::chrono::milliseconds{static_cast<std::int64_t>(r.get_in("duration_s", 0.0, 0.0, 30.0 * 86400) * 1000)};
  }
  // logging
  {
    auto l = top.child("logging");
    topo.log_level = l.get_choice("level", "info", {"trace", "debug", "info", "warn", "error", "critical", "off"});
  }
  // plugins
  if (top.has("plugins")) {
    const auto list = root["plugins"];
    if (!list.IsSequence())
      throw at(list, fname, "plugins", "expected a list of shared library paths");
    for (std::size_t i = 0; i < list.size(); ++i) {
      YAML::Node holder;
      holder["path"] = list[i];
      params item{holder, fname, fmt::format("plugins[{}]", i), base};
      auto path = item.require_path("path");
      load_plugin(path, item, "path", registry);
      topo.plugins.push_back(path);
    }
  }
  // actors
  if (!top.has("actors"))
    top.fail("actors", "missing required key (a list of actors)");
  const auto actors = root["actors"];
  if (!actors.IsSequence() || actors.size() == 0)
    throw at(actors, fname, "actors", "expected a non-empty list of actors");
  std::set<std::string> names;
  std::vector<std::pair<params, std::size_t>> all_params;
  for (std::size_t i = 0; i < actors.size(); ++i) {
    const auto path = fmt::format("actors[{}]", i);
    params a{actors[i], fname, path, base};
    if (!actors[i].IsMap())
      throw at(actors[i], fname, path, "expected a mapping with name, type and params");
    actor_spec spec;
    spec.name = a.require<std::string>("name");
    if (spec.name.empty() || !source_id::fits(spec.name))
      a.fail("name", fmt::format("name must be 1 to {} characters", source_id::max_length));
    if (!names.insert(spec.name).second)
      a.fail("name", fmt::format("duplicate actor name '{}'", spec.name));
    spec.type = a.require<std::string>("type");
    const auto* info = registry.find(spec.type);
    if (info == nullptr)
      a.fail("type", fmt::format("unknown actor type '{}' (known: {})", spec.type, fmt::join(registry.types(), ", ")));
    spec.producer = info->producer;
    auto p = a.child("params");
    spec.spawn = info->factory(p);
    report_unread(a);
    all_params.emplace_back(p, i);
    topo.actors.push_back(std::move(spec));
  }
  for (const auto& [p, i] : all_params)
    for (const auto& [name, key] : p.actor_refs())
      if (names.count(name) == 0) {
        // re-locate the reference: params::fail needs the key relative to its mapping
        const auto rel = key.substr(p.key_path().size() + 1);
        p.fail(rel, fmt::format("no actor named '{}' in this topology", name));
      }
  report_unread(top);
  bool any_producer = false;
  for (const auto& s : topo.actors)
    any_producer = any_producer || s.producer;
  if (!any_producer && topo.duration.count() == 0)
    throw at(actors, fname, "actors",
             "no producer (gateway) actor and no runtime.duration_s: the run would never end on its own");
  return topo;
}

} // namespace libra::core
