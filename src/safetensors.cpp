#include "src/safetensors.h"

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join (fmt 11 moved it here)
#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>

namespace hqrn::safetensors {

namespace {

using nlohmann::json;

constexpr const char* kMetadataKey = "__metadata__";
constexpr int kMaxRank = 64;
// Top object (0) > tensor entry (1) > shape or offsets array (2) > numbers (3).
constexpr int kMaxDepth = 3;

[[noreturn]] void fail(const std::string& source, const std::string& problem) {
  throw FormatError(fmt::format("{}: {}", source, problem));
}

uint64_t read_le64(const std::string& bytes) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  return value;
}

// Parses the header, refusing nesting deeper than the format needs (before
// it is built) and duplicate keys in any object (which JSON parsers resolve
// silently, each its own way).
json parse_header(const std::string& text, const std::string& source) {
  std::vector<std::set<std::string>> keys;
  const json::parser_callback_t check = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > kMaxDepth) fail(source, fmt::format("safetensors header nests deeper than {} levels", kMaxDepth));
    if (event == json::parse_event_t::object_start) keys.emplace_back();
    if (event == json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
    if (event == json::parse_event_t::key && !keys.empty() && !keys.back().insert(parsed.get<std::string>()).second) {
      fail(source, fmt::format("safetensors header has the key '{}' twice", parsed.get<std::string>()));
    }
    return true;
  };
  try {
    return json::parse(text, check);
  } catch (const json::exception& e) {
    fail(source, fmt::format("safetensors header is not valid UTF-8 JSON ({})", e.what()));
  }
}

uint64_t unsigned_field(const json& value, const std::string& source, const std::string& what) {
  if (!value.is_number_unsigned()) fail(source, fmt::format("{} must be a non-negative integer, got {}", what, value.dump()));
  return value.get<uint64_t>();
}

TensorInfo read_entry(const std::string& name, const json& entry, uint64_t data_size, const std::string& source) {
  const auto where = fmt::format("tensor '{}'", name);
  if (!entry.is_object()) fail(source, fmt::format("{}: entry must be an object", where));
  for (const auto& [key, value] : entry.items()) {
    if (key != "dtype" && key != "shape" && key != "data_offsets") {
      fail(source, fmt::format("{}: unknown field '{}'", where, key));
    }
  }
  for (const char* key : {"dtype", "shape", "data_offsets"}) {
    if (!entry.contains(key)) fail(source, fmt::format("{}: no '{}'", where, key));
  }
  TensorInfo t;
  t.name = name;
  if (!entry["dtype"].is_string()) fail(source, fmt::format("{}: dtype must be a string", where));
  t.dtype = entry["dtype"].get<std::string>();
  const int64_t item = dtype_size(t.dtype);
  if (item == 0) fail(source, fmt::format("{}: unknown dtype '{}'", where, t.dtype));

  const auto& shape = entry["shape"];
  if (!shape.is_array()) fail(source, fmt::format("{}: shape must be a list", where));
  if (shape.size() > kMaxRank) fail(source, fmt::format("{}: {} dimensions (at most {})", where, shape.size(), kMaxRank));
  // The byte size must fit the data section, so every partial product is
  // bounded by it; a zero dimension still has its others checked.
  uint64_t bytes = static_cast<uint64_t>(item);
  bool empty = false;
  for (const auto& dim : shape) {
    const auto d = unsigned_field(dim, source, where + ": a shape dimension");
    if (d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) || (d != 0 && d > data_size)) {
      fail(source, fmt::format("{}: dimension {} is larger than the file's data", where, d));
    }
    t.shape.push_back(static_cast<int64_t>(d));
    if (d == 0) {
      empty = true;
    } else if (!empty && bytes > data_size / d) {
      fail(source, fmt::format("{}: shape {} needs more bytes than the file's data ({})", where, shape.dump(),
                               data_size));
    } else if (!empty) {
      bytes *= d;
    }
  }
  if (empty) bytes = 0;

  const auto& offsets = entry["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2) fail(source, fmt::format("{}: data_offsets must be [begin, end]", where));
  t.begin = unsigned_field(offsets[0], source, where + ": data_offsets begin");
  t.end = unsigned_field(offsets[1], source, where + ": data_offsets end");
  if (t.begin > t.end || t.end > data_size) {
    fail(source, fmt::format("{}: data_offsets [{}, {}] outside the data section of {} bytes", where, t.begin, t.end,
                             data_size));
  }
  if (t.end - t.begin != bytes) {
    fail(source, fmt::format("{}: data_offsets span {} bytes but {} [{}] needs {}", where, t.end - t.begin, t.dtype,
                             fmt::join(t.shape, ", "), bytes));
  }
  return t;
}

}  // namespace

int64_t dtype_size(std::string_view dtype) {
  static const std::map<std::string_view, int64_t> sizes = {
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4}, {"I16", 2},
      {"I8", 1},  {"U64", 8}, {"U32", 4}, {"U16", 2}, {"U8", 1},   {"BOOL", 1}};
  const auto found = sizes.find(dtype);
  return found == sizes.end() ? 0 : found->second;
}

const TensorInfo& File::tensor(const std::string& name) const {
  for (const auto& t : tensors) {
    if (t.name == name) return t;
  }
  fail(source, fmt::format("no tensor '{}'", name));
}

File parse(const std::string& bytes, const std::string& source) {
  if (bytes.size() < 8) fail(source, fmt::format("not a safetensors file ({} bytes, shorter than its header length)", bytes.size()));
  const uint64_t header_size = read_le64(bytes);
  if (header_size > kMaxHeaderBytes) {
    fail(source, fmt::format("safetensors header length {} is over the limit of {} bytes", header_size, kMaxHeaderBytes));
  }
  if (header_size > bytes.size() - 8) {
    fail(source, fmt::format("truncated: header length {} but only {} bytes follow", header_size, bytes.size() - 8));
  }
  const std::string header_text = bytes.substr(8, header_size);
  if (header_text.empty() || header_text.front() != '{') fail(source, "safetensors header does not start with '{'");
  const json header = parse_header(header_text, source);
  if (!header.is_object()) fail(source, "safetensors header must be a JSON object");

  File file;
  file.source = source;
  file.data = bytes.substr(8 + header_size);
  for (const auto& [name, entry] : header.items()) {
    if (name == kMetadataKey) {
      if (!entry.is_object()) fail(source, "__metadata__ must be an object of strings");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) fail(source, fmt::format("__metadata__ '{}' must be a string", key));
        file.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    if (name.empty()) fail(source, "a tensor has an empty name");
    file.tensors.push_back(read_entry(name, entry, file.data.size(), source));
  }
  // The tensors must tile the data section: sorted by offset, each starts
  // where the previous ended, and the last ends at the file's end.
  std::stable_sort(file.tensors.begin(), file.tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t at = 0;
  for (const auto& t : file.tensors) {
    if (t.begin != at) {
      fail(source, t.begin < at ? fmt::format("tensor '{}' overlaps the previous tensor (starts at {}, before {})",
                                              t.name, t.begin, at)
                                : fmt::format("gap in the data before tensor '{}' (bytes {} to {} belong to none)",
                                              t.name, at, t.begin));
    }
    at = t.end;
  }
  if (at != file.data.size()) {
    fail(source, fmt::format("{} bytes after the last tensor belong to none", file.data.size() - at));
  }
  return file;
}

File read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, fmt::format("cannot open ({})", std::strerror(errno)));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail(path, "cannot read");
  return parse(bytes, path);
}

std::string serialize(const std::map<std::string, std::string>& metadata, const std::vector<TensorBytes>& tensors) {
  json header = json::object();
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  uint64_t at = 0;
  std::string data;
  for (const auto& t : tensors) {
    int64_t expected = dtype_size(t.dtype);
    if (expected == 0) throw std::invalid_argument(fmt::format("safetensors: unknown dtype '{}'", t.dtype));
    for (const auto d : t.shape) expected *= d;
    if (t.name.empty() || t.name == kMetadataKey || header.contains(t.name)) {
      throw std::invalid_argument(fmt::format("safetensors: tensor name '{}' is empty, reserved or repeated", t.name));
    }
    if (static_cast<int64_t>(t.bytes.size()) != expected) {
      throw std::invalid_argument(fmt::format("safetensors: tensor '{}' has {} bytes, its shape needs {}", t.name,
                                              t.bytes.size(), expected));
    }
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {at, at + t.bytes.size()}}};
    at += t.bytes.size();
    data += t.bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((text.size() >> (8 * i)) & 0xff));
  return out + text + data;
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed (OpenSSL)");
  }
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

}  // namespace hqrn::safetensors
