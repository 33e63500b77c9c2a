// The strict safetensors reader on arbitrary bytes: it may refuse them
// (FormatError), never crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string>

#include "src/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto file = hqrn::safetensors::parse(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
    for (const auto& t : file.tensors) {
      volatile size_t n = file.bytes(t).size();  // every range is in bounds
      (void)n;
    }
  } catch (const hqrn::safetensors::FormatError&) {
  }
  return 0;
}
