#include "src/data/state_csv.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return hqrn::fuzz::run_on_file(data, size, ".csv", [](const std::string& p) {
    hqrn::data::load_state_csv(p);
    hqrn::data::StateCheck project;
    project.project = true;
    hqrn::data::load_state_csv(p, project);
  });
}
