#include <libra/component.hpp>
#include <libra/config_error.hpp>
#include <libra/params.hpp>
#include <libra/text.hpp>

#include "params_node.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <limits>
#include <set>

namespace libra {

config_error::config_error(std::string file, int line, int column, std::string key_path, std::string message)
  : std::runtime_error{fmt::format("{}:{}:{}: {}: {}", printable(file, std::string_view::npos), line, column,
                                   printable(key_path, max_key_path_bytes), printable(message, max_message_bytes))},
    file_{std::move(file)}, line_{line}, column_{column}, key_path_{std::move(key_path)}, message_{std::move(message)} {
}

struct params::impl {
  YAML::Node node;
  std::string file;
  std::string path; // key path of this mapping
  std::filesystem::path base_dir;
  std::set<std::string> read;                  // keys of this mapping read so far
  std::vector<std::shared_ptr<impl>> children; // nested views, for unread()
  std::vector<actor_ref> actor_refs;
};

namespace {

// Paths are quoted longer than other input: a real path of a few directories still shows whole.
constexpr std::size_t path_limit = 4 * quote_limit;

std::string join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string{key} : fmt::format("{}.{}", path, key);
}

// yaml-cpp marks are 0-based; editors and our messages are 1-based. A node with no place in the
// file (an empty document) is reported at its start.
config_error located(const YAML::Node& n, const std::string& file, const std::string& path, const std::string& msg) {
  const auto m = n.Mark();
  if (m.is_null())
    return {file, 1, 1, path, msg};
  return {file, m.line + 1, m.column + 1, path, msg};
}

template <class T>
constexpr std::string_view type_name() {
  if constexpr (std::is_same_v<T, std::string>)
    return "a string";
  else if constexpr (std::is_same_v<T, double>)
    return "a number";
  else if constexpr (std::is_same_v<T, bool>)
    return "true or false";
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return "an integer";
  else if constexpr (std::is_same_v<T, std::uint64_t>)
    return "a non-negative integer";
  else if constexpr (std::is_same_v<T, std::vector<std::string>>)
    return "a list of strings";
  else
    return "a list of numbers";
}

template <class T>
T convert(const YAML::Node& n, const std::string& file, const std::string& path) {
  auto bad = [&] { return located(n, file, path, fmt::format("expected {}", type_name<T>())); };
  if constexpr (std::is_same_v<T, std::vector<std::string>> || std::is_same_v<T, std::vector<double>>) {
    if (!n.IsSequence())
      throw bad();
    T out;
    for (std::size_t i = 0; i < n.size(); ++i)
      out.push_back(convert<typename T::value_type>(n[i], file, fmt::format("{}[{}]", path, i)));
    return out;
  } else {
    if (!n.IsScalar())
      throw bad();
    if constexpr (std::is_same_v<T, std::string>) {
      return n.Scalar();
    } else {
      T v{};
      if (!YAML::convert<T>::decode(n, v))
        throw bad();
      if constexpr (std::is_same_v<T, double>)
        if (!std::isfinite(v))
          throw located(n, file, path, "expected a finite number");
      if constexpr (std::is_same_v<T, std::uint64_t>)
        if (!n.Scalar().empty() && n.Scalar()[0] == '-')
          throw bad();
      return v;
    }
  }
}

} // namespace

params::params(std::shared_ptr<impl> state) noexcept : impl_{std::move(state)} {}

params detail::params_access::make(const YAML::Node& node, std::string file, std::string key_path,
                                   std::filesystem::path base_dir) {
  auto state = std::make_shared<params::impl>();
  state->node = node;
  state->path = std::move(key_path);
  state->file = std::move(file);
  state->base_dir = std::move(base_dir);
  if (node && !node.IsNull() && !node.IsMap())
    throw located(node, state->file, state->path, "expected a mapping of parameters");
  return params{std::move(state)};
}

params params::from_yaml(std::string_view yaml, std::string file, std::string key_path,
                         std::filesystem::path base_dir) {
  YAML::Node node;
  try {
    node = YAML::Load(std::string{yaml});
  } catch (const YAML::Exception& ex) {
    throw config_error{std::move(file), ex.mark.line + 1, ex.mark.column + 1, std::move(key_path), ex.msg};
  }
  return detail::params_access::make(node, std::move(file), std::move(key_path), std::move(base_dir));
}

params::params(const params&) = default;
params& params::operator=(const params&) = default;
params::params(params&&) noexcept = default;
params& params::operator=(params&&) noexcept = default;
params::~params() = default;

bool params::has(std::string_view key) const {
  impl_->read.emplace(key);
  return impl_->node.IsMap() && impl_->node[std::string{key}].IsDefined() && !impl_->node[std::string{key}].IsNull();
}

template <class T>
T params::get(std::string_view key, T fallback) const {
  if (!has(key))
    return fallback;
  return convert<T>(impl_->node[std::string{key}], impl_->file, join(impl_->path, key));
}

template <class T>
T params::require(std::string_view key) const {
  if (!has(key))
    throw located(impl_->node, impl_->file, join(impl_->path, key), "missing required key");
  return convert<T>(impl_->node[std::string{key}], impl_->file, join(impl_->path, key));
}

template std::string params::get(std::string_view, std::string) const;
template double params::get(std::string_view, double) const;
template bool params::get(std::string_view, bool) const;
template std::int64_t params::get(std::string_view, std::int64_t) const;
template std::uint64_t params::get(std::string_view, std::uint64_t) const;
template std::vector<std::string> params::get(std::string_view, std::vector<std::string>) const;
template std::vector<double> params::get(std::string_view, std::vector<double>) const;
template std::string params::require(std::string_view) const;
template double params::require(std::string_view) const;
template bool params::require(std::string_view) const;
template std::int64_t params::require(std::string_view) const;
template std::uint64_t params::require(std::string_view) const;
template std::vector<std::string> params::require(std::string_view) const;
template std::vector<double> params::require(std::string_view) const;

double params::get_in(std::string_view key, double fallback, double lo, double hi) const {
  const auto v = get<double>(key, fallback);
  if (v < lo || v > hi)
    fail(key, fmt::format("{} is out of range [{}, {}]", v, lo, hi));
  return v;
}

std::int64_t params::get_in(std::string_view key, std::int64_t fallback, std::int64_t lo, std::int64_t hi) const {
  const auto v = get<std::int64_t>(key, fallback);
  if (v < lo || v > hi)
    fail(key, fmt::format("{} is out of range [{}, {}]", v, lo, hi));
  return v;
}

std::filesystem::path params::require_path(std::string_view key, bool must_exist) const {
  const auto text = require<std::string>(key);
  if (text.find('\0') != std::string::npos) // the OS would see the path up to it: another file
    fail(key, "a path must not contain a NUL byte");
  std::filesystem::path p{text};
  if (p.is_relative())
    p = impl_->base_dir / p;
  if (must_exist) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(p, ec))
      fail(key, fmt::format("file '{}' does not exist or is not a regular file", printable(p.string(), path_limit)));
    std::ifstream probe{p};
    if (!probe)
      fail(key, fmt::format("file '{}' cannot be read", printable(p.string(), path_limit)));
  }
  return p;
}

std::string params::require_actor(std::string_view key, std::string_view role) const {
  auto name = require<std::string>(key);
  impl_->actor_refs.push_back(actor_ref{name, join(impl_->path, key), std::string{role}});
  return name;
}

std::string params::require_name(std::string_view key, std::size_t max_bytes) const {
  auto name = require<std::string>(key);
  if (!is_valid_utf8(name))
    fail(key, fmt::format("'{}' is not valid UTF-8", printable(name)));
  for (const char c : name)
    if (const auto u = static_cast<unsigned char>(c); u < 0x20 || u == 0x7f)
      fail(key, fmt::format("'{}' contains a control character", printable(name)));
  if (name.empty())
    fail(key, fmt::format("a name has 1 to {} bytes of UTF-8; this one is empty", max_bytes));
  if (name.size() > max_bytes)
    fail(key, fmt::format("'{}' has {} bytes ({} characters); a name has at most {} bytes of UTF-8 (an ASCII "
                          "character takes 1, others 2 to 4)",
                          printable(name), name.size(), utf8_length(name), max_bytes));
  return name;
}

std::string params::get_choice(std::string_view key, std::string fallback,
                               const std::vector<std::string>& allowed) const {
  auto v = get<std::string>(key, std::move(fallback));
  for (const auto& a : allowed)
    if (a == v)
      return v;
  fail(key, fmt::format("'{}' is not one of: {}", printable(v), fmt::join(allowed, ", ")));
}

params params::child(std::string_view key) const {
  impl_->read.emplace(key);
  YAML::Node n = impl_->node.IsMap() ? impl_->node[std::string{key}] : YAML::Node{};
  params c =
    detail::params_access::make(n.IsDefined() ? n : YAML::Node{}, impl_->file, join(impl_->path, key), impl_->base_dir);
  impl_->children.push_back(c.impl_);
  return c;
}

void params::fail(std::string_view key, const std::string& message) const {
  YAML::Node n = impl_->node;
  if (!key.empty() && impl_->node.IsMap() && impl_->node[std::string{key}].IsDefined())
    n = impl_->node[std::string{key}];
  throw located(n, impl_->file, key.empty() ? impl_->path : join(impl_->path, key), message);
}

std::vector<config_error> params::unread() const {
  std::vector<config_error> out;
  std::vector<const impl*> todo{impl_.get()};
  while (!todo.empty()) {
    const auto* m = todo.back();
    todo.pop_back();
    if (m->node.IsMap())
      for (const auto& kv : m->node) {
        // A key that is no name (null, empty, a list or a mapping) is no parameter either; it
        // still gets a key path that says what it is.
        const bool named = kv.first.IsScalar() && !kv.first.Scalar().empty();
        if (named && m->read.count(kv.first.Scalar()) != 0)
          continue;
        const std::string key = named                 ? printable(kv.first.Scalar())
                                : kv.first.IsScalar() ? "(empty key)"
                                : kv.first.IsNull()   ? "(null key)"
                                                      : "(non-scalar key)";
        out.push_back(located(kv.first, m->file, join(m->path, key), "unknown key"));
      }
    for (const auto& c : m->children)
      todo.push_back(c.get());
  }
  return out;
}

std::vector<actor_ref> params::actor_refs() const { return impl_->actor_refs; }

const std::string& params::key_path() const noexcept { return impl_->path; }

const std::string& params::file() const noexcept { return impl_->file; }

// -- registry -----------------------------------------------------------------------------------

void actor_registry::add(std::string type, actor_type_info info) {
  if (!info.factory)
    throw std::invalid_argument(fmt::format("actor type '{}' registered without a factory", type));
  if (!types_.emplace(type, std::move(info)).second)
    throw std::invalid_argument(fmt::format("actor type '{}' is already registered", type));
}

const actor_type_info* actor_registry::find(std::string_view type) const {
  auto it = types_.find(type);
  return it == types_.end() ? nullptr : &it->second;
}

std::vector<std::string> actor_registry::types() const {
  std::vector<std::string> out;
  for (const auto& [name, info] : types_)
    out.push_back(name);
  return out;
}

} // namespace libra
