// config/default.yaml staged in a test directory, for the journal's process tests.
#pragma once

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

namespace libra::testing {

/// config/default.yaml staged in dir as default.yaml: absolute data path, the recorder writing
/// dir/events.jsonl (two tests running at once must not share its locked output file), and
/// `extra` appended (e.g. a runtime key). Returns the file's path.
inline std::string default_topology(const std::filesystem::path& dir, const std::string& name = "default.yaml") {
  std::ifstream in{std::filesystem::path{LIBRA_SOURCE_DIR} / "config/default.yaml"};
  std::stringstream ss;
  ss << in.rdbuf();
  auto text = std::regex_replace(ss.str(), std::regex{"\\.\\./data/"}, std::string{LIBRA_SOURCE_DIR} + "/data/");
  text = std::regex_replace(text, std::regex{"\\.\\./build/[a-z-]+\\.jsonl"}, (dir / "events.jsonl").string());
  const auto file = dir / name;
  std::ofstream{file} << text;
  return file.string();
}

} // namespace libra::testing
