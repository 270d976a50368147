// params: one actor's parameters from the topology, with typed access that reports errors at
// their file:line:column. Every key an actor's factory did not read is reported as unknown by
// the loader, so a typo never passes silently. Read during loading only (single thread).
#pragma once

#include <libra/export.hpp>

#include <libra/config_error.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace libra {
namespace detail {
struct params_access; // the topology loader's way in (runtime/src/params_node.hpp)
} // namespace detail

/// A reference from one actor's params to another actor (params::require_actor).
struct actor_ref {
  std::string name;     ///< the actor named
  std::string key_path; ///< where, e.g. "actors[1].params.execution"
  std::string role;     ///< what the named actor must be able to do (actor_type_info::roles)
};

/// Typed view of a YAML mapping. Supported T for get/require: std::string, double, bool,
/// std::int64_t, std::uint64_t, std::vector<std::string>, std::vector<double>.
class LIBRA_API params {
public:
  /// Parameters written as YAML text (a mapping, or nothing), read as if found in file under
  /// key_path, relative paths resolved against base_dir: how a test or an embedding application
  /// gives an actor its params. Throws config_error (at the text's line and column) on malformed
  /// YAML or anything but a mapping.
  [[nodiscard]] static params from_yaml(std::string_view yaml, std::string file = "<params>",
                                        std::string key_path = "params", std::filesystem::path base_dir = ".");
  params(const params&);
  params& operator=(const params&);
  params(params&&) noexcept;
  params& operator=(params&&) noexcept;
  ~params();

  /// The value, or fallback when the key is absent. Throws config_error when it has the wrong type.
  template <class T>
  [[nodiscard]] T get(std::string_view key, T fallback) const;
  /// The value; throws config_error when absent or of the wrong type.
  template <class T>
  [[nodiscard]] T require(std::string_view key) const;
  /// A number in [lo, hi]; throws config_error outside.
  [[nodiscard]] double get_in(std::string_view key, double fallback, double lo, double hi) const;
  [[nodiscard]] std::int64_t get_in(std::string_view key, std::int64_t fallback, std::int64_t lo,
                                    std::int64_t hi) const;
  /// A path, relative paths resolved against the topology file's directory; with must_exist,
  /// a missing or unreadable file is a config_error.
  [[nodiscard]] std::filesystem::path require_path(std::string_view key, bool must_exist = true) const;
  /// The name of another actor of the topology whose type can play role (lists it in its
  /// actor_type_info::roles), e.g. require_actor("execution", "execution"). The loader checks,
  /// once all actors are known, that it exists, is not this actor, and can play the role.
  [[nodiscard]] std::string require_actor(std::string_view key, std::string_view role) const;
  /// A name (an actor's, an instrument's): 1 to max_bytes bytes of well-formed UTF-8 without
  /// control characters (names go into logs and the recorder's JSON). The limit is in bytes, as
  /// the inline storage (symbol.hpp): an ASCII character takes 1, others 2 to 4.
  [[nodiscard]] std::string require_name(std::string_view key, std::size_t max_bytes) const;
  /// One of the allowed words.
  [[nodiscard]] std::string get_choice(std::string_view key, std::string fallback,
                                       const std::vector<std::string>& allowed) const;

  [[nodiscard]] bool has(std::string_view key) const;
  /// A nested mapping (empty when absent).
  [[nodiscard]] params child(std::string_view key) const;
  /// Throws config_error located at key (or at this mapping when key is empty or absent).
  [[noreturn]] void fail(std::string_view key, const std::string& message) const;

  /// Keys present but never read (by get/require/has/child), with their locations: the loader
  /// reports them as unknown keys.
  [[nodiscard]] std::vector<config_error> unread() const;
  /// The references made through require_actor, in order.
  [[nodiscard]] std::vector<actor_ref> actor_refs() const;
  [[nodiscard]] const std::string& key_path() const noexcept;
  [[nodiscard]] const std::string& file() const noexcept;

private:
  struct impl;
  friend struct detail::params_access;
  explicit params(std::shared_ptr<impl> state) noexcept;
  std::shared_ptr<impl> impl_; // shared by copies: reads through any copy count
};

} // namespace libra
