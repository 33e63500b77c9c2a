// The safetensors file format, read strictly: an 8-byte little-endian
// header length N, N bytes of UTF-8 JSON mapping tensor names to
// {dtype, shape, data_offsets} (plus an optional "__metadata__" object of
// strings), then the tensors' raw little-endian bytes. Files come from
// anyone, so the reader checks everything before any byte is interpreted:
// the header's length and nesting, JSON and UTF-8, unique names, known dtypes,
// non-negative shapes whose byte size cannot overflow, and offsets that tile
// the data section exactly (contiguous, non-overlapping, no trailing bytes).
// No LibTorch here: the tensors stay bytes until a caller copies them.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace hqrn::safetensors {

// Every violation, as one message "SOURCE: problem". An std::invalid_argument,
// so the CLI reports it as bad input (exit code 2).
class FormatError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Headers larger than this are refused before they are read (ours are a few KiB).
constexpr uint64_t kMaxHeaderBytes = uint64_t{16} << 20;

// Bytes per element of a safetensors dtype name ("F64", "F32", "I64", ...);
// 0 for a name the format does not define.
int64_t dtype_size(std::string_view dtype);

struct TensorInfo {
  std::string name;
  std::string dtype;           // a name dtype_size knows
  std::vector<int64_t> shape;  // every dimension >= 0
  uint64_t begin = 0, end = 0; // byte range in the data section
};

struct File {
  std::map<std::string, std::string> metadata;
  std::vector<TensorInfo> tensors;  // in data order
  std::string data;                 // the data section

  // The tensor called `name`; FormatError naming `source` when absent.
  const TensorInfo& tensor(const std::string& name) const;
  std::string_view bytes(const TensorInfo& t) const { return std::string_view(data).substr(t.begin, t.end - t.begin); }
  std::string source;  // the file name, for messages
};

// Parses a whole file's bytes; FormatError("SOURCE: problem") on any violation.
File parse(const std::string& bytes, const std::string& source);
File read_file(const std::string& path);

struct TensorBytes {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  std::string bytes;  // little-endian, row-major, exactly shape's product * dtype_size
};

// A file that parse() and Python's safetensors both read: the header padded
// with spaces so that the data starts 8-byte aligned, tensors in the order given.
std::string serialize(const std::map<std::string, std::string>& metadata, const std::vector<TensorBytes>& tensors);

// Lower-case hex SHA-256 of bytes (the checkpoints' data_sha256).
std::string sha256_hex(std::string_view bytes);

}  // namespace hqrn::safetensors
