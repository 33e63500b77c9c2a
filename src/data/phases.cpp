#include "src/data/phases.h"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>
#include <torch/torch.h>

namespace hqrn::data {
namespace {

ClusterIsing at_point(int spins, double h1, double h2) { return ClusterIsing{spins, 1.0, h1, h2}; }

bool is_critical(double h1, double J) { return std::abs(h1 - J) <= kCriticalTolerance * J; }

void check_count(int64_t value, int64_t minimum, const char* what) {
  if (value < minimum) throw std::invalid_argument(fmt::format("phases data: {} must be >= {}, got {}", what, minimum, value));
}

PhaseSample measured(const ClusterIsing& model, GroundState ground) {
  PhaseSample s;
  s.model = model;
  s.ground = std::move(ground);
  s.string_order = string_order(model.spins, s.ground.amplitudes);
  s.antiferromagnetic_order = antiferromagnetic_order(model.spins, s.ground.amplitudes);
  return s;
}

// The ground state at (J = 1, h1 = 1/g) from the one at (1, g): the entangler
// C maps H(1, g) to H(g, 1) = g H(1, 1/g), so C psi is that ground state, with
// energy, gap and residual divided by g. Its Z-basis probabilities are psi's
// squared amplitudes to the bit.
GroundState dual_twin(int spins, const GroundState& ground, double g) {
  GroundState twin;
  twin.amplitudes = apply_cluster_entangler(spins, ground.amplitudes);
  fix_global_sign(twin.amplitudes);
  twin.energy = ground.energy / g;
  twin.gap = ground.gap / g;
  twin.residual = ground.residual / g;
  return twin;
}

}  // namespace

PhaseSet parse_phase_set(const std::string& name) {
  if (name == "line") return PhaseSet::line;
  if (name == "plane") return PhaseSet::plane;
  if (name == "twins") return PhaseSet::twins;
  throw std::invalid_argument(fmt::format("unknown phases set '{}' (expected line, plane or twins)", name));
}

std::string phase_set_name(PhaseSet set) {
  switch (set) {
    case PhaseSet::line: return "line";
    case PhaseSet::plane: return "plane";
    case PhaseSet::twins: return "twins";
  }
  return "?";
}

int64_t exact_line_label(const ClusterIsing& model) {
  model.validate();
  if (model.h2 != 0.0) {
    throw std::invalid_argument(fmt::format("exact phase label: only on the line h2 = 0 (h2 = {})", model.h2));
  }
  if (!(model.J > 0.0) || model.h1 < 0.0) {
    throw std::invalid_argument(
        fmt::format("exact phase label: stated for J > 0 and h1 >= 0 (J = {}, h1 = {})", model.J, model.h1));
  }
  if (is_critical(model.h1, model.J)) {
    throw std::invalid_argument(fmt::format("exact phase label: h1 = J = {} is the critical point, neither phase", model.J));
  }
  return model.h1 < model.J ? 1 : 0;
}

double critical_string_order(int spins, const GroundStateOptions& options) {
  return string_order(spins, ground_state(at_point(spins, 1.0, 0.0), options).amplitudes);
}

std::vector<ClusterIsing> phase_points(const PhaseRequest& r) {
  ClusterIsing{r.spins, 1.0, 0.0, 0.0}.validate();
  std::vector<ClusterIsing> points;
  switch (r.set) {
    case PhaseSet::line:
      check_count(r.points, 2, "line points");
      for (int64_t k = 0; k < r.points; ++k) {
        const double h1 = kPlaneH1Max * static_cast<double>(k) / static_cast<double>(r.points - 1);
        if (!is_critical(h1, 1.0)) points.push_back(at_point(r.spins, h1, 0.0));
      }
      break;
    case PhaseSet::plane: {
      check_count(r.points, 2, "plane h1 points");
      const int64_t h2_points = r.h2_points == 0 ? 2 * r.points - 1 : r.h2_points;
      check_count(h2_points, 2, "plane h2 points");
      // h2 row by row, from -1.6 up; written symmetrically so that the middle row is exactly h2 = 0.
      for (int64_t j = 0; j < h2_points; ++j) {
        const double h2 = kPlaneH2Max * static_cast<double>(2 * j - (h2_points - 1)) / static_cast<double>(h2_points - 1);
        for (int64_t k = 0; k < r.points; ++k) {
          points.push_back(at_point(r.spins, kPlaneH1Max * static_cast<double>(k) / static_cast<double>(r.points - 1), h2));
        }
      }
      break;
    }
    case PhaseSet::twins:
      check_count(r.points, 1, "twin pairs");
      for (int64_t k = 0; k < r.points; ++k) {
        points.push_back(at_point(r.spins, kTwinMinG + (1.0 - kTwinMinG) * static_cast<double>(k) / static_cast<double>(r.points), 0.0));
      }
      break;
  }
  return points;
}

PhaseDataset generate_phase_dataset(const PhaseRequest& r) {
  PhaseDataset d;
  d.spins = r.spins;
  d.set = r.set;
  const auto points = phase_points(r);
  d.critical_string_order = critical_string_order(r.spins, r.ground);
  for (const auto& model : points) {
    GroundState ground;
    try {
      ground = ground_state(model, r.ground);
    } catch (const DegenerateGroundState&) {
      if (r.set != PhaseSet::plane || !r.skip_degenerate) throw;
      d.skipped.push_back(model);
      continue;
    }
    if (r.set == PhaseSet::twins) {
      const double g = model.h1;
      GroundState twin = dual_twin(r.spins, ground, g);
      d.samples.push_back(measured(model, std::move(ground)));
      d.samples.back().label = exact_line_label(model);
      const ClusterIsing dual = at_point(r.spins, 1.0 / g, 0.0);
      d.samples.push_back(measured(dual, std::move(twin)));
      d.samples.back().label = exact_line_label(dual);
      continue;
    }
    d.samples.push_back(measured(model, std::move(ground)));
    auto& s = d.samples.back();
    s.label = r.set == PhaseSet::line ? exact_line_label(model)
                                      : reference_label(s.string_order, d.critical_string_order);
  }
  if (d.samples.empty()) throw std::invalid_argument("phases data: every point was degenerate; nothing to write");
  return d;
}

StateVectorDataset to_state_vectors(const PhaseDataset& d) {
  const auto n = static_cast<int64_t>(d.samples.size());
  const int64_t dimension = int64_t{1} << d.spins;
  StateVectorDataset out;
  auto real = torch::empty({n, 1, dimension}, torch::kFloat64);
  out.labels = torch::empty({n}, torch::kInt64);
  out.parameter_names = {"J", "h1", "h2", "energy", "gap", "string_order", "antiferromagnetic_order"};
  out.parameters = torch::empty({n, static_cast<int64_t>(out.parameter_names.size())}, torch::kFloat64);
  auto labels = out.labels.accessor<int64_t, 1>();
  auto parameters = out.parameters.accessor<double, 2>();
  for (int64_t i = 0; i < n; ++i) {
    const auto& s = d.samples[static_cast<size_t>(i)];
    std::copy(s.ground.amplitudes.data(), s.ground.amplitudes.data() + dimension, real[i][0].data_ptr<double>());
    labels[i] = s.label;
    const double row[] = {s.model.J, s.model.h1, s.model.h2, s.ground.energy, s.ground.gap, s.string_order,
                          s.antiferromagnetic_order};
    for (int64_t c = 0; c < parameters.size(1); ++c) parameters[i][c] = row[c];
  }
  out.amplitudes = torch::complex(real, torch::zeros_like(real));
  out.extra_metadata = {{"model", "cluster-ising-ring"},
                        {"set", phase_set_name(d.set)},
                        {"string_order_critical", fmt::format("{:.17g}", d.critical_string_order)}};
  return out;
}

}  // namespace hqrn::data
