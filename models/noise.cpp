#include "models/noise.h"

#include <fmt/format.h>

#include <cmath>

#include "models/errors.h"
#include "models/parse_number.h"

namespace hqrn {

namespace {

constexpr ChannelKind kChannelKinds[] = {ChannelKind::depolarizing, ChannelKind::amplitude_damping,
                                         ChannelKind::phase_damping, ChannelKind::bit_flip};

// The range check shared by the channels and the readout error.
void require_probability(double value, const std::string& what) {
  require(std::isfinite(value) && value >= 0 && value <= 1, "noise: ", what, " = ", fmt::format("{}", value),
          " is outside its range [0, 1]");
}

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t") - begin + 1);
}

double parse_strength(const std::string& text, const std::string& name) {
  const auto value = parse_double(text);
  require(value.has_value(), "noise: ", name, " = '", text, "' is not a number");
  return *value;
}

torch::Tensor matrices(std::initializer_list<double> re, std::initializer_list<double> im, int64_t m) {
  return torch::complex(torch::tensor(std::vector<double>(re), torch::kFloat64),
                        torch::tensor(std::vector<double>(im), torch::kFloat64))
      .reshape({m, 2, 2});
}

}  // namespace

std::string to_string(ChannelKind kind) {
  switch (kind) {
    case ChannelKind::depolarizing: return "depolarizing";
    case ChannelKind::amplitude_damping: return "amplitude_damping";
    case ChannelKind::phase_damping: return "phase_damping";
    case ChannelKind::bit_flip: return "bit_flip";
  }
  return "?";
}

ChannelKind parse_channel_kind(const std::string& name) {
  for (const auto kind : kChannelKinds) {
    if (name == to_string(kind)) return kind;
  }
  throw InvalidInput("noise: unknown channel '" + name +
                     "' (expected depolarizing, amplitude_damping, phase_damping, bit_flip or readout)");
}

void NoiseModel::validate() const {
  for (const auto& c : channels) require_probability(c.strength, hqrn::to_string(c.kind));
  require_probability(readout, "readout");
}

NoiseModel NoiseModel::parse(const std::string& text) {
  NoiseModel noise;
  const auto whole = trim(text);
  if (whole.empty() || whole == "none") return noise;
  bool readout_seen = false;
  size_t start = 0;
  while (start <= whole.size()) {
    const auto comma = whole.find(',', start);
    const auto item = trim(whole.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    start = comma == std::string::npos ? whole.size() + 1 : comma + 1;
    const auto eq = item.find('=');
    require(!item.empty() && eq != std::string::npos, "noise: '", item,
            "' is not name=value (for example depolarizing=0.01,readout=0.02)");
    const auto name = trim(item.substr(0, eq));
    const double value = parse_strength(trim(item.substr(eq + 1)), name);
    if (name == "readout") {
      require(!readout_seen, "noise: readout is given twice");
      readout_seen = true;
      noise.readout = value;
    } else {
      noise.channels.push_back({parse_channel_kind(name), value});
    }
  }
  noise.validate();
  return noise;
}

std::string NoiseModel::to_string() const {
  std::string out;
  for (const auto& c : channels) out += fmt::format("{}{}={}", out.empty() ? "" : ",", hqrn::to_string(c.kind), c.strength);
  if (readout != 0) out += fmt::format("{}readout={}", out.empty() ? "" : ",", readout);
  return out.empty() ? "none" : out;
}

torch::Tensor kraus_operators(const NoiseChannel& channel, torch::ScalarType complex_dtype) {
  require_probability(channel.strength, to_string(channel.kind));
  const double p = channel.strength;
  torch::Tensor k;
  switch (channel.kind) {
    case ChannelKind::depolarizing: {
      const double s = std::sqrt(1 - p), t = std::sqrt(p / 3);
      // sqrt(1-p) I, sqrt(p/3) X, sqrt(p/3) Y, sqrt(p/3) Z
      k = matrices({s, 0, 0, s, 0, t, t, 0, 0, 0, 0, 0, t, 0, 0, -t}, {0, 0, 0, 0, 0, 0, 0, 0, 0, -t, t, 0, 0, 0, 0, 0},
                   4);
      break;
    }
    case ChannelKind::amplitude_damping:
      k = matrices({1, 0, 0, std::sqrt(1 - p), 0, std::sqrt(p), 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0}, 2);
      break;
    case ChannelKind::phase_damping:
      k = matrices({1, 0, 0, std::sqrt(1 - p), 0, 0, 0, std::sqrt(p)}, {0, 0, 0, 0, 0, 0, 0, 0}, 2);
      break;
    case ChannelKind::bit_flip: {
      const double s = std::sqrt(1 - p), t = std::sqrt(p);
      k = matrices({s, 0, 0, s, 0, t, t, 0}, {0, 0, 0, 0, 0, 0, 0, 0}, 2);
      break;
    }
  }
  return k.to(complex_dtype);
}

torch::Tensor step_kraus(const NoiseModel& noise, torch::ScalarType complex_dtype) {
  torch::Tensor combined;
  for (const auto& channel : noise.channels) {
    const auto k = kraus_operators(channel, torch::kComplexDouble);
    // Acting after `combined`: K_new = K_i K_old_j for every pair (i, j).
    combined = combined.defined() ? torch::matmul(k.unsqueeze(1), combined.unsqueeze(0)).reshape({-1, 2, 2}) : k;
  }
  return combined.defined() ? combined.to(complex_dtype) : combined;
}

torch::Tensor apply_readout_error(const torch::Tensor& distributions, double r_flip) {
  require_probability(r_flip, "readout");
  require(distributions.dim() >= 1, "apply_readout_error: expected distributions [..., 2^r]");
  const int64_t outcomes = distributions.size(-1);
  int64_t bits = 0;
  while ((int64_t{1} << bits) < outcomes) ++bits;
  require((int64_t{1} << bits) == outcomes, "apply_readout_error: ", outcomes, " outcomes is not a power of two");
  if (r_flip == 0) return distributions;
  auto p = distributions;
  const auto lead = distributions.sizes().slice(0, distributions.dim() - 1).vec();
  for (int64_t k = 0; k < bits; ++k) {
    // Bit k is the middle axis of [..., 2^k, 2, 2^(r-k-1)] (bit 0 the most significant).
    auto shape = lead;
    shape.insert(shape.end(), {int64_t{1} << k, 2, int64_t{1} << (bits - k - 1)});
    const auto view = p.reshape(shape);
    p = ((1 - r_flip) * view + r_flip * view.flip({-2})).reshape(distributions.sizes());
  }
  return p;
}

torch::Tensor sample_shots(const torch::Tensor& distributions, int64_t shots, torch::Generator& generator) {
  require(shots >= 1, "shots must be >= 1, got ", shots);
  require(distributions.dim() >= 1 && distributions.size(-1) >= 1 && !distributions.is_complex(),
          "sample_shots: expected real distributions [..., K]");
  torch::NoGradGuard no_grad;
  const auto p = distributions.detach().to(torch::kFloat64).reshape({-1, distributions.size(-1)}).clamp_min(0);
  auto remaining = torch::full({p.size(0)}, static_cast<double>(shots), p.options());
  auto mass_left = torch::ones({p.size(0)}, p.options());
  std::vector<torch::Tensor> counts;
  for (int64_t k = 0; k + 1 < p.size(1); ++k) {
    const auto pk = p.select(1, k);
    // Outcome k among the shots not yet assigned, with its share of the mass left.
    const auto share = torch::where(mass_left > 0, pk / mass_left, torch::zeros_like(pk)).clamp(0, 1);
    const auto c = at::binomial(remaining, share, generator);
    counts.push_back(c);
    remaining = remaining - c;
    mass_left = mass_left - pk;
  }
  counts.push_back(remaining);
  return (torch::stack(counts, 1) / static_cast<double>(shots))
      .reshape(distributions.sizes())
      .to(distributions.scalar_type());
}

}  // namespace hqrn
