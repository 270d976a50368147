#include "topology.hpp"

#include "core/metrics.hpp"

#include "params_node.hpp"

#include <libra/output_file.hpp>
#include <libra/symbol.hpp>
#include <libra/text.hpp>

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <new>
#include <sstream>
#include <system_error>

namespace libra::core {

namespace {

// Paths are quoted longer than other input: a real path of a few directories still shows whole.
constexpr std::size_t path_limit = 4 * quote_limit;

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
    where.fail(key, fmt::format("plugin '{}' failed to load: {}", printable(path.string(), path_limit),
                                printable(dlerror(), 2 * path_limit)));
  using entry_fn = void (*)(actor_registry&);
  auto* sym = dlsym(handle, "libra_register_actors");
  if (sym == nullptr)
    where.fail(key, fmt::format("plugin '{}' has no libra_register_actors (use LIBRA_PLUGIN)",
                                printable(path.string(), path_limit)));
  const auto before = registry.types().size();
  try {
    reinterpret_cast<entry_fn>(sym)(registry); // NOLINT: dlsym's documented use
  } catch (const std::exception& ex) {
    where.fail(key, fmt::format("plugin '{}' failed to register: {}", printable(path.string(), path_limit),
                                printable(ex.what(), config_error::max_message_bytes)));
  }
  if (registry.types().size() == before)
    where.fail(key, fmt::format("plugin '{}' registered no actor type", printable(path.string(), path_limit)));
}

// -- reading the file ---------------------------------------------------------------------------

std::string describe_errno(int err) { return std::generic_category().message(err); }

class fd_closer {
public:
  explicit fd_closer(int fd) : fd_{fd} {}
  fd_closer(const fd_closer&) = delete;
  fd_closer& operator=(const fd_closer&) = delete;
  ~fd_closer() { ::close(fd_); }

private:
  int fd_;
};

// The file's text. Anything but a regular file of at most max_topology_bytes is refused before
// a byte is parsed: a directory or a device has no topology in it, a FIFO could block forever,
// and yaml-cpp's memory grows ~250-fold with its input.
std::string read_topology(const std::string& fname) {
  auto fail = [&](const std::string& msg) { return config_error(fname, 0, 0, "(file)", msg); };
  auto check_kind_and_size = [&](const struct stat& st) {
    if (!S_ISREG(st.st_mode))
      throw fail(fmt::format("is {}, not a topology file (a regular YAML file)", file_type_name(st.st_mode)));
    if (static_cast<std::uintmax_t>(st.st_size) > max_topology_bytes)
      throw fail(fmt::format("the file has {} bytes; a topology file may have at most {} (1 MiB)", st.st_size,
                             max_topology_bytes));
  };
  struct stat st {};
  if (::stat(fname.c_str(), &st) != 0)
    throw fail(fmt::format("cannot open the topology file: {}", describe_errno(errno)));
  check_kind_and_size(st);
  // O_NONBLOCK: should the path become a FIFO after stat, open and read do not wait for a writer.
  const int fd = ::open(fname.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK); // NOLINT: POSIX vararg
  if (fd < 0)
    throw fail(fmt::format("cannot open the topology file: {}", describe_errno(errno)));
  const fd_closer closer{fd};
  if (::fstat(fd, &st) != 0)
    throw fail(fmt::format("cannot read the topology file: {}", describe_errno(errno)));
  check_kind_and_size(st); // what was opened, not what stat saw
  // Its size as fstat saw it, plus room to notice that it grew since (then it is read on, to
  // one byte past the limit at most).
  std::string text;
  std::size_t got = 0;
  text.resize(static_cast<std::size_t>(st.st_size) + 1);
  for (;;) {
    if (got == text.size()) {
      if (text.size() > max_topology_bytes)
        throw fail(fmt::format("the file has more than {} bytes, the most a topology file may have (1 MiB)",
                               max_topology_bytes));
      text.resize(std::min(text.size() * 2, max_topology_bytes + 1));
    }
    const auto n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      throw fail(fmt::format("cannot read the topology file: {}", describe_errno(errno)));
    if (n == 0)
      break;
    got += static_cast<std::size_t>(n);
  }
  text.resize(got);
  return text;
}

// -- the shape of the YAML, before a tree is built ----------------------------------------------

// A streaming pass over the parser's events (memory: one frame per open list or mapping, with
// the keys of each open mapping). It refuses what yaml-cpp would accept silently: a second
// document (ignored by YAML::Load) and a key that a mapping already has (yaml-cpp keeps both,
// lookups find the first, so the second would be ignored). And, before yaml-cpp builds a tree,
// what would make that tree expensive: more than max_topology_nodes nodes (an alias counts the
// nodes it repeats, so a "billion laughs" of aliases is refused too), nesting deeper than
// max_topology_depth, and an alias inside the node it names (yaml-cpp builds a cycle that any
// walk of the tree would follow forever).
class shape_check final : public YAML::EventHandler {
public:
  explicit shape_check(const std::string& file) : file_{file} {}

  void OnDocumentStart(const YAML::Mark& m) override {
    if (++documents_ > 1)
      throw error(m, "(document)", "a second YAML document ('---'): a topology is one document");
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t a) override { leaf(m, a, place("(null key)")); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t a, const std::string& value) override {
    leaf(m, a, place(value.empty() ? "(empty key)" : printable(value), &value, &m));
  }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t a) override {
    const auto path = place("(alias key)");
    for (const auto& f : frames_)
      if (f.anchor == a)
        throw error(m, path, "an alias inside the node it names (a cycle)");
    count(m, path, a < sizes_.size() ? sizes_[a] : 1);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t a, YAML::EmitterStyle::value) override {
    open(m, a, false);
  }
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t a, YAML::EmitterStyle::value) override {
    open(m, a, true);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapEnd() override { close(); }

private:
  struct frame {
    bool map = false;
    YAML::anchor_t anchor = 0;
    std::size_t nodes_before = 0;                        // nodes_ when it opened: its size when it closes
    std::string path;                                    // key path of this list or mapping
    std::size_t index = 0;                               // list: the next element's index
    bool key_next = true;                                // mapping: the next node is a key
    std::string key;                                     // mapping: the current key, for its value's key path
    std::map<std::string, YAML::Mark, std::less<>> keys; // mapping: scalar keys so far, where
  };

  [[nodiscard]] config_error error(const YAML::Mark& m, const std::string& path, const std::string& msg) const {
    return {file_, m.line + 1, m.column + 1, path.empty() ? "(root)" : path, msg};
  }

  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : fmt::format("{}.{}", path, key);
  }

  // Places the next node in its parent; returns its key path. key: what it is called should it
  // be a key of a mapping; a scalar (text, at m) is checked against the mapping's other keys.
  std::string place(std::string key, const std::string* text = nullptr, const YAML::Mark* m = nullptr) {
    if (frames_.empty())
      return {};
    auto& parent = frames_.back();
    if (!parent.map)
      return fmt::format("{}[{}]", parent.path, parent.index++);
    if (!parent.key_next) {
      parent.key_next = true;
      return join(parent.path, parent.key);
    }
    parent.key_next = false;
    parent.key = std::move(key);
    auto path = join(parent.path, parent.key);
    if (text != nullptr) {
      const auto [first, fresh] = parent.keys.try_emplace(*text, *m);
      if (!fresh)
        throw error(*m, path,
                    fmt::format("duplicate key '{}' (first at line {}, column {})", printable(*text),
                                first->second.line + 1, first->second.column + 1));
    }
    return path;
  }

  void count(const YAML::Mark& m, const std::string& path, std::size_t n) {
    nodes_ += n;
    if (nodes_ > max_topology_nodes)
      throw error(m, path,
                  fmt::format("more than {} YAML nodes (aliases count what they repeat): too big for a topology",
                              max_topology_nodes));
  }

  void remember(YAML::anchor_t a, std::size_t size) {
    if (a == 0)
      return;
    if (a >= sizes_.size())
      sizes_.resize(a + 1, 1);
    sizes_[a] = size;
  }

  void leaf(const YAML::Mark& m, YAML::anchor_t a, const std::string& path) {
    count(m, path, 1);
    remember(a, 1);
  }

  void open(const YAML::Mark& m, YAML::anchor_t a, bool map) {
    auto path = place("(non-scalar key)");
    count(m, path, 1);
    if (frames_.size() >= max_topology_depth)
      throw error(m, path, fmt::format("nested more than {} levels deep", max_topology_depth));
    frame f;
    f.map = map;
    f.anchor = a;
    f.nodes_before = nodes_ - 1;
    f.path = std::move(path);
    frames_.push_back(std::move(f));
  }

  void close() {
    remember(frames_.back().anchor, nodes_ - frames_.back().nodes_before);
    frames_.pop_back();
  }

  const std::string& file_;
  std::vector<frame> frames_;
  std::vector<std::size_t> sizes_; // nodes under each anchor (ids count from 1)
  std::size_t nodes_ = 0;
  std::size_t documents_ = 0;
};

// The topology's one document, parsed after the shape check.
YAML::Node parse_topology(const std::string& text, const std::string& fname) {
  try {
    {
      std::istringstream in{text};
      YAML::Parser parser{in};
      shape_check shape{fname};
      while (parser.HandleNextDocument(shape)) {
      }
    }
    return YAML::Load(text);
  } catch (const YAML::ParserException& ex) {
    throw config_error(fname, ex.mark.line + 1, ex.mark.column + 1, "(syntax)", ex.msg);
  }
}

void report_unread(const params& p) {
  auto unread = p.unread();
  if (!unread.empty())
    throw unread.front();
}

// A reference names another actor of the topology whose type can play the role asked for.
void check_reference(const params& p, const actor_ref& ref, const std::string& from,
                     const std::map<std::string, std::size_t, std::less<>>& names,
                     const std::vector<actor_spec>& actors, const actor_registry& registry) {
  // re-locate the reference: params::fail needs the key relative to its mapping
  const auto rel = ref.key_path.substr(p.key_path().size() + 1);
  auto can_play = [&](const std::string& type) {
    const auto& roles = registry.find(type)->roles;
    return std::find(roles.begin(), roles.end(), ref.role) != roles.end();
  };
  auto who_can = [&] {
    std::vector<std::string> types;
    for (const auto& t : registry.types())
      if (can_play(t))
        types.push_back(t);
    return types.empty() ? std::string{"no registered type can"}
                         : fmt::format("types that can: {}", fmt::join(types, ", "));
  };
  const auto it = names.find(ref.name);
  if (it == names.end())
    p.fail(rel, fmt::format("no actor named '{}' in this topology", printable(ref.name)));
  if (ref.name == from)
    p.fail(rel, fmt::format("'{}' is this actor itself: name another actor that can play the role '{}' ({})",
                            printable(ref.name), ref.role, who_can()));
  const auto& type = actors[it->second].type;
  if (!can_play(type))
    p.fail(rel, fmt::format("'{}' is a {}, which cannot play the role '{}' ({})", printable(ref.name), type, ref.role,
                            who_can()));
}

std::string node_names(const network_spec& net) {
  std::vector<std::string> names;
  for (const auto& n : net.nodes)
    names.push_back(n.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

// `nodes:` (name -> host, port) and `network:` (links, policies, timeouts).
/// `certificate` and `key` of a mapping (a node's, or network.tls): both or neither.
template <class Params, class Path>
void read_certificate_and_key(Params& p, Path& certificate, Path& key, const char* unpaired) {
  if (p.has("certificate"))
    certificate = p.require_path("certificate");
  if (p.has("key"))
    key = p.require_path("key");
  if (certificate.empty() != key.empty())
    p.fail(certificate.empty() ? "key" : "certificate", unpaired);
}

void read_network(const YAML::Node& root, const params& top, const std::string& fname,
                  const std::filesystem::path& base, network_spec& net) {
  const bool has_nodes = top.has("nodes");
  if (!has_nodes) {
    if (top.has("network"))
      top.fail("network", "network: needs a nodes: block (a topology without nodes runs in one process)");
    return;
  }
  const auto nodes = root["nodes"];
  if (!nodes.IsMap() || nodes.size() == 0)
    throw at(nodes, fname, "nodes", "expected a mapping of node names to {host, port}");
  std::map<std::pair<std::string, std::uint16_t>, std::string> endpoints;
  for (const auto& kv : nodes) {
    if (!kv.first.IsScalar())
      throw at(kv.first, fname, "nodes", "a node name is a string");
    const auto name = kv.first.as<std::string>();
    const auto path = "nodes." + printable(name);
    // A node's name is the source of the events its peers publish when they lose it.
    if (name.empty() || name.size() > source_id::max_length || !std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.';
        }))
      throw at(kv.first, fname, path,
               fmt::format("a node name is 1 to {} letters, digits, '_', '-' or '.'", source_id::max_length));
    if (!kv.second.IsMap())
      throw at(kv.second, fname, path, "expected a mapping with host and port");
    auto p = detail::params_access::make(kv.second, fname, path, base);
    node_spec n;
    n.name = name;
    n.host = p.get<std::string>("host", "127.0.0.1");
    if (n.host.empty())
      p.fail("host", "expected a host name or an IP address");
    const auto port = p.require<std::int64_t>("port");
    if (port < 1 || port > 65535)
      p.fail("port", fmt::format("{} is out of range [1, 65535]", port));
    n.port = static_cast<std::uint16_t>(port);
    // A node's own certificate, for nodes that share a file system (one machine, --all-nodes).
    read_certificate_and_key(p, n.certificate, n.key, "a node's certificate and key go together");
    const auto [it, fresh] = endpoints.try_emplace({n.host, n.port}, name);
    if (!fresh)
      p.fail("port", fmt::format("{}:{} is already node '{}'s address: each node needs its own port", n.host, n.port,
                                 it->second));
    report_unread(p);
    net.nodes.push_back(std::move(n));
  }
  auto nw = top.child("network");
  const auto policy = nw.get_choice("on_node_loss", "halt", {"halt", "continue"});
  net.on_node_loss = policy == "halt" ? node_loss_policy::halt : node_loss_policy::cont;
  net.connect_timeout = std::chrono::milliseconds{
    static_cast<std::int64_t>(std::ceil(nw.get_in("connect_timeout_s", 30.0, 0.1, 3600.0) * 1000))};
  net.heartbeat_interval = std::chrono::milliseconds{nw.get_in("heartbeat_interval_ms", std::int64_t{100}, 10, 60'000)};
  net.heartbeat_timeout = std::chrono::milliseconds{nw.get_in("heartbeat_timeout_ms", std::int64_t{500}, 20, 600'000)};
  if (net.heartbeat_timeout < 2 * net.heartbeat_interval)
    nw.fail("heartbeat_timeout_ms",
            fmt::format("must be at least twice heartbeat_interval_ms ({} ms)", net.heartbeat_interval.count()));
  net.window = static_cast<std::uint32_t>(nw.get_in("window", std::int64_t{8}, 1, 1024));
  net.batch_events = static_cast<std::uint32_t>(nw.get_in("batch_events", std::int64_t{256}, 1, 65536));
  net.insecure = nw.get<bool>("insecure", false);
  if (nw.has("tls")) {
    auto t = nw.child("tls");
    tls_spec tls;
    tls.ca = t.require_path("ca");
    read_certificate_and_key(t, tls.certificate, tls.key, "the certificate and the key go together");
    tls.passphrase = t.get<std::string>("passphrase", "");
    report_unread(t);
    // Each side verifies the other's certificate: a node without one could not be verified.
    for (const auto& n : net.nodes)
      if (n.certificate.empty() && tls.certificate.empty())
        t.fail("", fmt::format("node '{}' has no certificate: give network.tls.certificate and key (or "
                               "nodes.{}.certificate and key)",
                               n.name, n.name));
    if (net.insecure)
      nw.fail("insecure", "insecure: true and tls: together; say one of them");
    net.tls = std::move(tls);
  } else {
    for (const auto& n : net.nodes) {
      if (!n.certificate.empty())
        throw at(root["nodes"][n.name]["certificate"], fname, "nodes." + n.name + ".certificate",
                 "a node's certificate needs network.tls (with the CA that signed it)");
      // Plain BASP off loopback: anyone who reaches the port is a peer (and CAF 0.17 believes a
      // header's payload length, up to 4 GiB). Only on purpose.
      if (!n.loopback() && !net.insecure)
        throw at(root["nodes"][n.name]["host"], fname, "nodes." + n.name + ".host",
                 fmt::format("node '{}' listens on '{}', which is not loopback: give network.tls (certificate, key, "
                             "ca) or, on a network you trust, network.insecure: true",
                             n.name, printable(n.host)));
    }
  }
  if (nw.has("links")) {
    const auto links = root["network"]["links"];
    if (!links.IsSequence())
      nw.fail("links", "expected a list of node pairs, e.g. [[md, strat], [strat, risk]]");
    for (std::size_t i = 0; i < links.size(); ++i) {
      const auto& l = links[i];
      const auto where = fmt::format("network.links[{}]", i);
      if (!l.IsSequence() || l.size() != 2 || !l[0].IsScalar() || !l[1].IsScalar())
        throw at(l, fname, where, "expected a pair of node names, e.g. [md, strat]");
      const auto a = l[0].as<std::string>();
      const auto b = l[1].as<std::string>();
      for (const auto& x : {a, b})
        if (net.find(x) == nullptr)
          throw at(l, fname, where, fmt::format("no node named '{}' (nodes: {})", printable(x), node_names(net)));
      if (a == b)
        throw at(l, fname, where, "a link joins two different nodes");
      net.links.emplace_back(a, b);
    }
  }
  report_unread(nw);
}

topology load(const std::filesystem::path& file, actor_registry& registry) {
  const std::string fname = file.string();
  const YAML::Node root = parse_topology(read_topology(fname), fname);
  if (!root.IsMap())
    throw at(root, fname, "(root)", "a topology is a mapping with keys bus, runtime, logging, plugins, actors");
  const auto base = std::filesystem::absolute(file).parent_path();
  topology topo;
  topo.file = file;
  auto top = detail::params_access::make(root, fname, "", base);

  // bus
  {
    auto b = top.child("bus");
    // Capacity is memory: a full bus holds capacity staged events.
    const auto capacity = b.get<std::int64_t>("capacity", 100'000);
    if (capacity < 1 || capacity > max_capacity)
      b.fail("capacity",
             fmt::format("{} is out of range [1, {}] (a staged event takes ~{} bytes: {} of them ~{:.1f} GB)", capacity,
                         max_capacity, staged_event_bytes, max_capacity,
                         static_cast<double>(max_capacity) * staged_event_bytes / 1e9));
    topo.bus.capacity = static_cast<std::size_t>(capacity);
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
    topo.deterministic = r.get("deterministic", false);
    topo.stats_interval = std::chrono::milliseconds{
      static_cast<std::int64_t>(std::ceil(r.get_in("stats_interval_s", 1.0, 0.01, 3600.0) * 1000))};
    topo.duration =
      // Rounded up, as on the command line: any positive duration lasts at least 1 ms (truncated,
      // 0.0001 s would have meant "no duration").
      std::chrono::milliseconds{
        static_cast<std::int64_t>(std::ceil(r.get_in("duration_s", 0.0, 0.0, 30.0 * 86400) * 1000))};
  }
  // logging
  {
    auto l = top.child("logging");
    topo.log_level = l.get_choice("level", "info", {"trace", "debug", "info", "warn", "error", "critical", "off"});
  }
  // journal
  if (top.has("journal")) {
    auto j = top.child("journal");
    journal::journal_config jc;
    jc.dir = j.require_path("dir", false);
    std::error_code ec;
    if (std::filesystem::exists(jc.dir, ec) && !std::filesystem::is_directory(jc.dir, ec))
      j.fail("dir", fmt::format("'{}' exists and is not a directory", printable(jc.dir.string(), path_limit)));
    if (j.has("types")) {
      const auto names = j.require<std::vector<std::string>>("types");
      if (names.empty())
        j.fail("types", "expected at least one event type (leave the key out to journal all)");
      jc.types = 0;
      for (const auto& name : names) {
        event_type t{};
        if (!from_string(name, t))
          j.fail("types",
                 fmt::format("unknown event type '{}' (expected names such as TICK, ORDER_NEW)", printable(name)));
        if ((jc.types & type_bit(t)) != 0)
          j.fail("types", fmt::format("event type '{}' is listed twice", name));
        jc.types |= type_bit(t);
      }
    }
    jc.segment_bytes = static_cast<std::uint64_t>(j.get_in("segment_mb", std::int64_t{256}, 1, 65536)) << 20;
    const auto fsync = j.get_choice("fsync", "none", {"none", "interval", "every_batch"});
    jc.fsync = fsync == "none"       ? journal::fsync_policy::none
               : fsync == "interval" ? journal::fsync_policy::interval
                                     : journal::fsync_policy::every_batch;
    jc.fsync_interval = std::chrono::milliseconds{j.get_in("fsync_interval_ms", std::int64_t{100}, 1, 3'600'000)};
    if (j.has("fsync_interval_ms") && jc.fsync != journal::fsync_policy::interval)
      j.fail("fsync_interval_ms", "only with fsync: interval");
    report_unread(j);
    topo.journal = std::move(jc);
  }
  // metrics
  if (top.has("metrics")) {
    if (top.has("nodes")) // one address for several processes: all but one would find it taken
      top.fail("metrics", "metrics: is for a topology in one process; give each node its own address with "
                          "libra-runtime --node NAME --metrics ADDRESS");
    auto m = top.child("metrics");
    metrics_spec ms;
    try {
      ms.listen = metrics_address(m.get<std::string>("listen", ms.listen));
    } catch (const std::invalid_argument& ex) {
      m.fail("listen", ex.what());
    }
    ms.required = m.get("required", false);
    report_unread(m);
    topo.metrics = ms;
  }
  // plugins
  if (top.has("plugins")) {
    const auto list = root["plugins"];
    if (!list.IsSequence())
      throw at(list, fname, "plugins", "expected a list of shared library paths");
    for (std::size_t i = 0; i < list.size(); ++i) {
      YAML::Node holder;
      holder["path"] = list[i];
      auto item = detail::params_access::make(holder, fname, fmt::format("plugins[{}]", i), base);
      auto path = item.require_path("path");
      load_plugin(path, item, "path", registry);
      topo.plugins.push_back(path);
    }
  }
  // nodes and network (distributed topologies: runtime/src/net/)
  read_network(root, top, fname, base, topo.network);
  // actors
  if (!top.has("actors"))
    top.fail("actors", "missing required key (a list of actors)");
  const auto actors = root["actors"];
  if (!actors.IsSequence() || actors.size() == 0)
    throw at(actors, fname, "actors", "expected a non-empty list of actors");
  if (actors.size() > max_actors)
    throw at(actors, fname, "actors",
             fmt::format("{} actors; a topology may have at most {}", actors.size(), max_actors));
  std::map<std::string, std::size_t, std::less<>> names; // -> index in topo.actors
  std::vector<std::pair<params, std::size_t>> all_params;
  for (std::size_t i = 0; i < actors.size(); ++i) {
    const auto path = fmt::format("actors[{}]", i);
    auto a = detail::params_access::make(actors[i], fname, path, base);
    if (!actors[i].IsMap())
      throw at(actors[i], fname, path, "expected a mapping with name, type and params");
    actor_spec spec;
    spec.name = a.require_name("name", source_id::max_length);
    if (!names.emplace(spec.name, i).second)
      a.fail("name", fmt::format("duplicate actor name '{}'", printable(spec.name)));
    spec.type = a.require<std::string>("type");
    const auto* info = registry.find(spec.type);
    if (info == nullptr)
      a.fail("type", fmt::format("unknown actor type '{}' (known: {})", printable(spec.type),
                                 fmt::join(registry.types(), ", ")));
    spec.producer = info->producer;
    if (a.has("node")) {
      spec.node = a.require<std::string>("node");
      if (topo.network.nodes.empty())
        a.fail("node", "an actor names a node but the topology has no nodes: block");
      if (topo.network.find(spec.node) == nullptr)
        a.fail("node", fmt::format("no node named '{}' (nodes: {})", printable(spec.node), node_names(topo.network)));
    } else if (!topo.network.nodes.empty()) {
      a.fail("node", fmt::format("actor '{}' is on no node: every actor needs node: (one of {})", printable(spec.name),
                                 node_names(topo.network)));
    }
    if (a.get_choice("conflate", "none", {"none", "by_instrument"}) == "by_instrument") {
      if (spec.producer)
        a.fail("conflate", fmt::format("actor '{}' is a producer ({}): conflate: applies to what an actor "
                                       "subscribes to",
                                       printable(spec.name), spec.type));
      spec.conflate = conflation::by_instrument;
    }
    auto p = a.child("params");
    try {
      spec.spawn = info->factory(p);
    } catch (const config_error&) {
      throw;
    } catch (const std::exception& ex) { // an actor's own check that forgot params::fail
      a.fail("params", fmt::format("actor type '{}' refused its params: {}", spec.type,
                                   printable(ex.what(), config_error::max_message_bytes)));
    }
    report_unread(a);
    all_params.emplace_back(p, i);
    topo.actors.push_back(std::move(spec));
  }
  for (const auto& [p, i] : all_params)
    for (const auto& ref : p.actor_refs()) {
      check_reference(p, ref, topo.actors[i].name, names, topo.actors, registry);
      // Actor references are direct CAF messages, which do not cross nodes.
      const auto& other = topo.actors[names.find(ref.name)->second];
      if (other.node != topo.actors[i].node)
        p.fail(
          ref.key_path.substr(p.key_path().size() + 1),
          fmt::format("'{}' runs on node '{}', this actor on node '{}': a referenced actor must be on the same node",
                      printable(ref.name), other.node, topo.actors[i].node));
    }
  for (const auto& a : topo.actors)
    if (!a.node.empty()) {
      topo.network.actor_nodes.emplace(a.name, a.node);
      topo.network.actor_types.emplace(a.name, a.type);
    }
  for (const auto& n : topo.network.nodes)
    if (std::none_of(topo.actors.begin(), topo.actors.end(), [&](const actor_spec& s) { return s.node == n.name; }))
      throw at(root["nodes"][n.name], fname, "nodes." + n.name,
               fmt::format("node '{}' has no actor (put one on it with node: {}, or remove it)", n.name, n.name));
  report_unread(top);
  bool any_producer = false;
  for (const auto& s : topo.actors)
    any_producer = any_producer || s.producer;
  if (!any_producer && topo.duration.count() == 0)
    throw at(actors, fname, "actors",
             "no producer (gateway) actor and no runtime.duration_s: the run would never end on its own");
  return topo;
}

} // namespace

bool node_spec::loopback() const { return host == "localhost" || host == "::1" || host.starts_with("127."); }

const node_spec* network_spec::find(const std::string& name) const {
  for (const auto& n : nodes)
    if (n.name == name)
      return &n;
  return nullptr;
}

std::vector<const node_spec*> network_spec::peers_of(const std::string& name) const {
  std::vector<const node_spec*> out;
  for (const auto& n : nodes) {
    if (n.name == name)
      continue;
    const bool linked = links.empty() || std::any_of(links.begin(), links.end(), [&](const auto& l) {
                          return (l.first == name && l.second == n.name) || (l.second == name && l.first == n.name);
                        });
    if (linked)
      out.push_back(&n);
  }
  return out;
}

topology load_topology(const std::filesystem::path& file, actor_registry& registry) {
  // The boundary: whatever goes wrong is a config_error (exit 2), never an escaping exception.
  const std::string fname = file.string();
  try {
    return load(file, registry);
  } catch (const config_error&) {
    throw;
  } catch (const YAML::Exception& ex) {
    throw config_error(fname, ex.mark.line + 1, ex.mark.column + 1, "(yaml)", ex.msg);
  } catch (const std::bad_alloc&) {
    throw config_error(fname, 0, 0, "(file)", "out of memory while loading the topology");
  } catch (const std::exception& ex) {
    throw config_error(
      fname, 0, 0, "(file)",
      fmt::format("cannot load the topology: {}", printable(ex.what(), config_error::max_message_bytes)));
  } catch (...) {
    throw config_error(fname, 0, 0, "(file)", "cannot load the topology: an unknown exception");
  }
}

} // namespace libra::core
