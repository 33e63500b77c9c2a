// The previous checkpoint format (a LibTorch archive in a checksummed
// envelope). Unsafe on files from others: read only when a user asks for a
// conversion (`hqrn convert-checkpoint`).
#pragma once

#include <string>

#include "src/checkpoint.h"

namespace hqrn {

// Whether a file's first bytes are the old format's envelope.
bool is_legacy_checkpoint(const std::string& bytes);

LoadedCheckpoint load_legacy_checkpoint(const std::string& path);

// Reads an old-format file and writes it as a checkpoint at `out` (with its
// training progress; the old optimizer state does not travel), in a child
// process: LibTorch's archive reader can crash on a crafted file, which then
// ends in a std::runtime_error naming the file and the signal, never a crash
// of the caller. Returns the kind of network converted.
ModelKind convert_legacy_checkpoint(const std::string& from, const std::string& out);

// The old format's envelope around an archive's bytes, and a whole old-format
// file (both for tests of the refusal and the conversion).
std::string legacy_envelope(const std::string& payload);
void save_legacy_checkpoint(const ResidualNetworkImpl& model, const std::string& path);

}  // namespace hqrn
