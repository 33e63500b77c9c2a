// A noise model: single-qubit channels that act on every qubit after the
// rotation of every residual step (before the target is measured), and a
// readout assignment error on the bits read by the head. Part of a network's
// configuration (models/config.h), so it is saved with checkpoints and
// exports. The channels as tensors are in models/noise.h.
#pragma once

#include <string>
#include <vector>

namespace hqrn {

enum class ChannelKind { depolarizing, amplitude_damping, phase_damping, bit_flip };
std::string to_string(ChannelKind kind);
// Raises InvalidInput listing the known names.
ChannelKind parse_channel_kind(const std::string& name);

struct NoiseChannel {
  ChannelKind kind = ChannelKind::depolarizing;
  double strength = 0;  // p for depolarizing and bit_flip, gamma for the dampings; in [0, 1]
  bool operator==(const NoiseChannel& other) const { return kind == other.kind && strength == other.strength; }
};

struct NoiseModel {
  std::vector<NoiseChannel> channels;  // in the order they act, each on every qubit
  double readout = 0;                  // probability that a readout bit is flipped, in [0, 1]

  bool is_noiseless() const { return channels.empty() && readout == 0; }
  // Raises InvalidInput naming the channel and its range.
  void validate() const;

  // "depolarizing=0.01,readout=0.02" (the CLI form); "none" or "" is no noise.
  // Unknown names, malformed or out-of-range values raise InvalidInput.
  static NoiseModel parse(const std::string& text);
  // The CLI form, "none" when noiseless; parse(to_string()) == *this.
  std::string to_string() const;

  bool operator==(const NoiseModel& other) const {
    return channels == other.channels && readout == other.readout;
  }
  bool operator!=(const NoiseModel& other) const { return !(*this == other); }
};

}  // namespace hqrn
