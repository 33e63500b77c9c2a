// Whole-string number parses, shared by the network configuration, the
// noise model's text form and the OpenQASM reader: "3x", "", " 3" and
// out-of-range numbers give no value, so every caller can name the problem.
#pragma once

#include <cctype>
#include <cstdint>
#include <optional>
#include <string>

namespace hqrn {

namespace detail {
template <typename Number, typename Parse>
std::optional<Number> parse_whole(const std::string& text, const Parse& parse) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text.front()))) return std::nullopt;
  size_t used = 0;
  Number value{};
  try {
    value = parse(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (used != text.size()) return std::nullopt;
  return value;
}
}  // namespace detail

inline std::optional<double> parse_double(const std::string& text) {
  return detail::parse_whole<double>(text, [](const std::string& s, size_t* used) { return std::stod(s, used); });
}

inline std::optional<int64_t> parse_int64(const std::string& text) {
  return detail::parse_whole<int64_t>(text, [](const std::string& s, size_t* used) { return std::stoll(s, used); });
}

}  // namespace hqrn
