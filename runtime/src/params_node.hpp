// The topology loader builds params from the YAML nodes it has already checked, keeping their
// marks for file:line:column errors. Private: the public params header does not expose yaml-cpp.
#pragma once

#include <libra/export.hpp>
#include <libra/params.hpp>

#include <yaml-cpp/node/node.h>

#include <filesystem>
#include <string>

namespace libra::detail {

struct LIBRA_API params_access {
  /// A view of node (a mapping or null), located in file under key_path.
  static params make(const YAML::Node& node, std::string file, std::string key_path, std::filesystem::path base_dir);
};

} // namespace libra::detail
