// The checkpoint loader on arbitrary bytes: safetensors parsing, the metadata
// and configuration checks and the copy into a network. It may refuse a file
// (CheckpointError), never crash, hang or read out of bounds; old-format files
// are refused before LibTorch's archive reader sees them.
#include "src/checkpoint.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return hqrn::fuzz::run_on_file(data, size, ".safetensors", [](const std::string& p) { hqrn::load_checkpoint(p); });
}
