#include "src/checkpoint.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return hqrn::fuzz::run_on_file(data, size, ".pt", [](const std::string& p) { hqrn::load_checkpoint(p); });
}
