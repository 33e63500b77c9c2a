// Data layer: CSV formats and their errors, the digits split, and the
// two-qubit entanglement generator checked against independent computations.
#include <gtest/gtest.h>

#include "src/experiments/experiment.h"
#include <torch/torch.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>

#include "src/data/csv.h"
#include "src/data/digits.h"
#include "src/data/entanglement.h"
#include "src/data/state_csv.h"

namespace hqrn::data {
namespace {

namespace fs = std::filesystem;
using c10::complex;

// A fresh directory per test, removed afterwards.
class DataFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "hqrn_data_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) const {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  fs::path dir_;
};

// Runs load and expects a std::runtime_error whose message contains every part.
template <typename Load>
void expect_error(Load load, std::initializer_list<std::string> parts) {
  try {
    load();
    ADD_FAILURE() << "no error; expected one containing '" << *parts.begin() << "'";
  } catch (const std::runtime_error& error) {
    const std::string message = error.what();
    for (const std::string& part : parts) EXPECT_NE(message.find(part), std::string::npos) << message;
  }
}

const std::string kDigitsPath = hqrn::default_digits_path();

// ---------------------------------------------------------------- classical

TEST(Digits, LoadsAllImagesAndLabels) {
  const Dataset digits = load_classical_csv(kDigitsPath);
  ASSERT_EQ(digits.features.sizes(), (std::vector<int64_t>{1797, 64}));
  ASSERT_EQ(digits.labels.sizes(), (std::vector<int64_t>{1797}));
  EXPECT_EQ(digits.features.scalar_type(), torch::kFloat64);
  EXPECT_EQ(digits.labels.scalar_type(), torch::kInt64);
  EXPECT_EQ(digits.features.min().item<double>(), 0.0);
  EXPECT_EQ(digits.features.max().item<double>(), 16.0);
  EXPECT_TRUE(torch::equal(std::get<0>(torch::_unique(digits.labels)), torch::arange(10, torch::kInt64)));
  // First row of the file: 0,0,5,13,9,1,... label 0.
  EXPECT_EQ(digits.features[0][2].item<double>(), 5.0);
  EXPECT_EQ(digits.features[0][3].item<double>(), 13.0);
  EXPECT_EQ(digits.labels[0].item<int64_t>(), 0);
}

TEST(Digits, DocumentedSplitSizes) {
  const Split split = split_dataset(load_classical_csv(kDigitsPath), kDigitsTestFraction, kDigitsSplitSeed);
  EXPECT_EQ(split.train.features.size(0), 1348);
  EXPECT_EQ(split.test.features.size(0), 449);
  EXPECT_EQ(split.test.labels.size(0), 449);
}

// Rows numbered by their only feature, so a split shows which rows went where.
Dataset numbered_rows(int64_t n) {
  return {torch::arange(n, torch::kFloat64).unsqueeze(1), torch::zeros({n}, torch::kInt64)};
}

std::vector<int64_t> row_numbers(const Dataset& part) {
  const torch::Tensor rows = part.features.squeeze(1).to(torch::kInt64).contiguous();
  return {rows.data_ptr<int64_t>(), rows.data_ptr<int64_t>() + rows.numel()};
}

TEST(Split, DeterministicDisjointAndCovering) {
  const Dataset rows = numbered_rows(1797);
  const Split first = split_dataset(rows, 0.25, 0);
  const Split again = split_dataset(rows, 0.25, 0);
  EXPECT_TRUE(torch::equal(first.train.features, again.train.features));
  EXPECT_TRUE(torch::equal(first.test.features, again.test.features));

  const std::vector<int64_t> train = row_numbers(first.train);
  const std::vector<int64_t> test = row_numbers(first.test);
  EXPECT_TRUE(std::is_sorted(train.begin(), train.end()));
  EXPECT_TRUE(std::is_sorted(test.begin(), test.end()));
  std::set<int64_t> all(train.begin(), train.end());
  all.insert(test.begin(), test.end());
  EXPECT_EQ(all.size(), train.size() + test.size());  // disjoint
  EXPECT_EQ(all.size(), 1797u);                         // covering
  EXPECT_EQ(*all.rbegin(), 1796);

  // The documented split (data/README.md) starts with these test rows.
  EXPECT_EQ(std::vector<int64_t>(test.begin(), test.begin() + 5), (std::vector<int64_t>{0, 6, 20, 22, 34}));

  EXPECT_FALSE(torch::equal(split_dataset(rows, 0.25, 1).test.features, first.test.features));
  EXPECT_EQ(split_dataset(rows, 0.0, 0).test.features.size(0), 0);
  EXPECT_EQ(split_dataset(rows, 1.0, 0).train.features.size(0), 0);
  EXPECT_THROW(split_dataset(rows, 1.5, 0), std::invalid_argument);
}

TEST_F(DataFiles, PlainAndGzipLoadAlike) {
  const std::string text = "1,2.5,3\n4,-5e-1,0\r\n\n 7 , +8 , 2.0 \n";
  const std::string plain = write("a.csv", text);
  const std::string gzip = (dir_ / "a.csv.gz").string();
  write_file_atomically(gzip, text);
  const Dataset a = load_classical_csv(plain);
  const Dataset b = load_classical_csv(gzip);
  const torch::Tensor expected = torch::tensor({1.0, 2.5, 4.0, -0.5, 7.0, 8.0}, torch::kFloat64).reshape({3, 2});
  EXPECT_TRUE(torch::equal(a.features, expected));
  EXPECT_TRUE(torch::equal(a.labels, torch::tensor({3, 0, 2}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(a.features, b.features));
  EXPECT_TRUE(torch::equal(a.labels, b.labels));
}

TEST_F(DataFiles, MalformedClassicalCsvNamesFileAndLine) {
  const auto error_for = [&](const std::string& name, const std::string& text,
                             std::initializer_list<std::string> parts) {
    const std::string path = write(name, text);
    SCOPED_TRACE(name);
    expect_error([&] { load_classical_csv(path); }, parts);
  };
  const std::string dir = dir_.string() + "/";
  expect_error([&] { load_classical_csv(dir + "missing.csv"); }, {dir + "missing.csv: cannot open"});
  error_for("empty.csv", "", {dir + "empty.csv: empty file"});
  error_for("blank.csv", "\n  \n", {dir + "blank.csv: empty file"});
  error_for("ragged.csv", "1,2,0\n3,4,1\n5,1\n", {dir + "ragged.csv:3:", "2 fields", "line 1 has 3"});
  error_for("word.csv", "1,2,0\n1,x2,1\n", {dir + "word.csv:2:", "field 2 ('x2') is not a number"});
  error_for("trailing.csv", "1,2,0\n1,2,1,\n", {dir + "trailing.csv:2:", "field 4 is empty"});
  error_for("nan.csv", "1,nan,0\n", {dir + "nan.csv:1:", "not finite"});
  error_for("inf.csv", "1,2,0\n\n-inf,2,0\n", {dir + "inf.csv:3:", "not finite"});
  error_for("fraction.csv", "1,2,0\n1,2,1.5\n", {dir + "fraction.csv:2:", "label 1.5", "not an integer"});
  error_for("negative.csv", "1,2,-1\n", {dir + "negative.csv:1:", "negative"});
  error_for("label_only.csv", "1\n2\n", {dir + "label_only.csv:1:", "at least one feature"});

  const std::string truncated = (dir_ / "truncated.csv.gz").string();
  write_file_atomically(truncated, std::string(5000, '1') + ",0\n");
  fs::resize_file(truncated, fs::file_size(truncated) / 2);
  expect_error([&] { load_classical_csv(truncated); }, {truncated + ": cannot read (unexpected end of file)"});
  expect_error([&] { load_classical_csv(dir_.string()); }, {dir_.string() + ": cannot read (Is a directory)"});
}

// ---------------------------------------------------------------- state CSV

// A state-CSV row: label, then Re, Im of each entry (row-major).
std::string csv_row(const std::string& label, const std::vector<complex<double>>& entries) {
  std::string row = label;
  for (const complex<double>& z : entries) row += "," + fmt::format("{:.17g},{:.17g}", z.real(), z.imag());
  return row + "\n";
}

// The diagonal state diag(p) as a state-CSV row.
std::string diagonal_row(const std::string& label, const std::vector<double>& p) {
  const size_t d = p.size();
  std::vector<complex<double>> entries(d * d);
  for (size_t i = 0; i < d; ++i) entries[i * d + i] = p[i];
  return csv_row(label, entries);
}

// [[0.3, 0.1 + 0.2i], [0.1 - 0.2i, 0.7]]: 0.1 needs all 17 digits to come back exactly.
const std::vector<complex<double>> kQubitState = {{0.3, 0}, {0.1, 0.2}, {0.1, -0.2}, {0.7, 0}};

torch::Tensor qubit_matrix(const std::vector<complex<double>>& entries) {
  return torch::tensor(torch::ArrayRef<complex<double>>(entries), torch::kComplexDouble).reshape({2, 2});
}

TEST_F(DataFiles, StateCsvRoundTripIsExact) {
  StateDataset original = generate_states(Family::random, 20, 7);
  original.states[3] *= 1.0 + 1e-15;  // awkward last bits, still valid
  for (const std::string name : {"states.csv", "states.csv.gz"}) {
    const std::string path = (dir_ / name).string();
    save_state_csv(path, original);
    const StateDataset loaded = load_state_csv(path);
    EXPECT_TRUE(torch::equal(torch::view_as_real(loaded.states), torch::view_as_real(original.states))) << name;
    EXPECT_TRUE(torch::equal(loaded.labels, original.labels)) << name;
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 2);  // no temporaries left

  const StateDataset qubit = load_state_csv(write("qubit.csv", csv_row("1", kQubitState)));
  ASSERT_EQ(qubit.states.sizes(), (std::vector<int64_t>{1, 2, 2}));
  EXPECT_EQ(qubit.states[0][0][1].item<complex<double>>(), complex<double>(0.1, 0.2));
  const std::string copy = (dir_ / "copy.csv").string();
  save_state_csv(copy, qubit);
  EXPECT_TRUE(torch::equal(torch::view_as_real(load_state_csv(copy).states), torch::view_as_real(qubit.states)));
}

TEST_F(DataFiles, MalformedStateCsvNamesFileAndLine) {
  const std::string dir = dir_.string() + "/";
  expect_error([&] { load_state_csv(write("short.csv", "0,1,0,0,0,0,0,0,0,0\n")); },
               {dir + "short.csv:1:", "10 fields", "power of two"});
  expect_error([&] { load_state_csv(write("qutrit.csv", diagonal_row("0", {0.5, 0.25, 0.25}))); },
               {dir + "qutrit.csv:1:", "19 fields", "power of two"});
  const std::string mixed_d =
      write("mixed_d.csv", csv_row("1", kQubitState) + diagonal_row("0", {0.25, 0.25, 0.25, 0.25}));
  expect_error([&] { load_state_csv(mixed_d); }, {mixed_d + ":2:", "33 fields", "line 1 has 9"});
  const std::string label = write("label.csv", csv_row("1", kQubitState) + csv_row("0.5", kQubitState));
  expect_error([&] { load_state_csv(label); }, {label + ":2:", "label 0.5", "not an integer"});
  const std::string nan = write("nan.csv", "1,0.5,0,0,nan,0,0,0.5,0\n");
  expect_error([&] { load_state_csv(nan); }, {nan + ":1:", "not finite"});
}

TEST_F(DataFiles, InvalidStatesAreRejectedOrProjected) {
  const std::string valid = csv_row("0", kQubitState);
  struct Case {
    std::string name;
    std::vector<complex<double>> entries;
    std::string problem;
  };
  const std::vector<Case> cases = {
      {"non_hermitian.csv", {{0.3, 0}, {0.1, 0.2}, {0.1, 0.2}, {0.7, 0}}, "not Hermitian"},
      {"imaginary_diagonal.csv", {{0.3, 0.1}, {0, 0}, {0, 0}, {0.7, -0.1}}, "not Hermitian"},
      {"trace.csv", {{0.3, 0}, {0, 0}, {0, 0}, {0.8, 0}}, "trace 1.1+0i differs from 1 by 0.1"},
      {"negative.csv", {{1.2, 0}, {0, 0}, {0, 0}, {-0.2, 0}}, "eigenvalue -0.2"},
      {"negative_offdiagonal.csv", {{0.5, 0}, {0.6, 0}, {0.6, 0}, {0.5, 0}}, "eigenvalue -0.1"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string path = write(c.name, valid + csv_row("1", c.entries));
    expect_error([&] { load_state_csv(path); }, {path + ":2:", c.problem});

    const StateDataset projected = load_state_csv(path, {1e-8, /*project=*/true});
    EXPECT_TRUE(torch::equal(torch::view_as_real(projected.states[0]),
                             torch::view_as_real(load_state_csv(write("valid.csv", valid)).states[0])));
    const torch::Tensor repaired = projected.states[1];
    EXPECT_EQ(density_matrix_problem(repaired, 1e-12), "");
    EXPECT_TRUE(torch::allclose(repaired, project_to_density_matrix(qubit_matrix(c.entries))));
  }
  // The negative-eigenvalue case clips -0.2 to 0 and renormalises: |0><0|.
  const torch::Tensor clipped = load_state_csv((dir_ / "negative.csv").string(), {1e-8, true}).states[1];
  EXPECT_TRUE(torch::allclose(clipped, qubit_matrix({1, 0, 0, 0})));

  // The tolerance is absolute: a 1e-10 trace error passes the default, not 1e-12.
  const std::string nearly = write("nearly.csv", diagonal_row("0", {0.5, 0.5 + 1e-10}));
  EXPECT_NO_THROW(load_state_csv(nearly));
  expect_error([&] { load_state_csv(nearly, {1e-12, false}); }, {nearly + ":1:", "trace"});

  const std::string hopeless = write("hopeless.csv", diagonal_row("0", {-0.5, -0.5}));
  expect_error([&] { load_state_csv(hopeless, {1e-8, true}); }, {hopeless + ":1:", "no eigenvalue"});
}

// ---------------------------------------------------------------- entanglement

// Partial transpose on B written out index by index (independent of
// partial_transpose_b): pt[2a + b, 2a' + b'] = rho[2a + b', 2a' + b].
torch::Tensor independent_partial_transpose(const torch::Tensor& rho) {
  torch::Tensor pt = torch::empty({4, 4}, torch::kComplexDouble);
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b)
      for (int a2 = 0; a2 < 2; ++a2)
        for (int b2 = 0; b2 < 2; ++b2) pt[2 * a + b][2 * a2 + b2] = rho[2 * a + b2][2 * a2 + b];
  return pt;
}

bool independently_entangled(const torch::Tensor& rho) {
  return torch::linalg_eigvalsh(independent_partial_transpose(rho)).min().item<double>() < kPptThreshold;
}

// Reduced states by explicit sums: rho_A[a, a'] = sum_b rho[2a + b, 2a' + b].
std::pair<torch::Tensor, torch::Tensor> independent_reduced_states(const torch::Tensor& rho) {
  torch::Tensor a = torch::zeros({2, 2}, torch::kComplexDouble);
  torch::Tensor b = torch::zeros({2, 2}, torch::kComplexDouble);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      for (int k = 0; k < 2; ++k) {
        a[i][j] += rho[2 * i + k][2 * j + k];
        b[i][j] += rho[2 * k + i][2 * k + j];
      }
  return {a, b};
}

constexpr int64_t kStates = 200;

TEST(Entanglement, StatesAreValidAndLabelsMatchPpt) {
  for (Family family : {Family::random, Family::adversarial_dephased, Family::adversarial_marginal}) {
    SCOPED_TRACE(family_name(family));
    const StateDataset data = generate_states(family, kStates, 11);
    ASSERT_EQ(data.states.sizes(), (std::vector<int64_t>{kStates, 4, 4}));
    ASSERT_EQ(data.states.scalar_type(), torch::kComplexDouble);
    ASSERT_EQ(data.labels.sizes(), (std::vector<int64_t>{kStates}));
    EXPECT_EQ(data.labels.sum().item<int64_t>(), kStates / 2);  // balanced
    for (int64_t i = 0; i < kStates; ++i) {
      const torch::Tensor rho = data.states[i];
      ASSERT_EQ(density_matrix_problem(rho, 1e-12), "") << "state " << i;
      ASSERT_EQ(data.labels[i].item<int64_t>(), independently_entangled(rho) ? 1 : 0) << "state " << i;
      ASSERT_EQ(is_entangled_ppt(rho), independently_entangled(rho)) << "state " << i;
    }
  }
}

TEST(Entanglement, RandomFamilyIsShuffledAndUsesEveryRank) {
  const StateDataset data = generate_states(Family::random, kStates, 3);
  EXPECT_FALSE(torch::equal(data.labels.narrow(0, 0, kStates / 2), torch::ones({kStates / 2}, torch::kInt64)));

  std::mt19937_64 rng(5);
  std::set<int64_t> ranks;
  for (int i = 0; i < 100; ++i) {
    const torch::Tensor eigenvalues = torch::linalg_eigvalsh(random_mixed_state(rng));
    ranks.insert((eigenvalues > 1e-10).sum().item<int64_t>());
  }
  EXPECT_EQ(ranks, (std::set<int64_t>{1, 2, 3, 4}));
}

TEST(Entanglement, DephasedTwinsKeepTheDiagonalAndAreSeparable) {
  const StateDataset data = generate_states(Family::adversarial_dephased, kStates, 12);
  for (int64_t i = 0; i < kStates; i += 2) {
    const torch::Tensor rho = data.states[i];
    const torch::Tensor twin = data.states[i + 1];
    ASSERT_EQ(data.labels[i].item<int64_t>(), 1);
    ASSERT_EQ(data.labels[i + 1].item<int64_t>(), 0);
    ASSERT_TRUE(independently_entangled(rho));
    ASSERT_FALSE(independently_entangled(twin));
    ASSERT_TRUE(torch::equal(torch::view_as_real(twin.diagonal()), torch::view_as_real(rho.diagonal())));
    ASSERT_TRUE(torch::equal(twin, torch::diag(twin.diagonal())));  // no coherences
  }
}

TEST(Entanglement, MarginalTwinsKeepTheReducedStatesAndAreSeparable) {
  const StateDataset data = generate_states(Family::adversarial_marginal, kStates, 13);
  for (int64_t i = 0; i < kStates; i += 2) {
    const torch::Tensor rho = data.states[i];
    const torch::Tensor twin = data.states[i + 1];
    ASSERT_EQ(data.labels[i].item<int64_t>(), 1);
    ASSERT_EQ(data.labels[i + 1].item<int64_t>(), 0);
    ASSERT_TRUE(independently_entangled(rho));
    ASSERT_FALSE(independently_entangled(twin));
    const auto [rho_a, rho_b] = independent_reduced_states(rho);
    const auto [twin_a, twin_b] = independent_reduced_states(twin);
    ASSERT_TRUE(torch::allclose(twin_a, rho_a, 0, 1e-14));
    ASSERT_TRUE(torch::allclose(twin_b, rho_b, 0, 1e-14));
    ASSERT_TRUE(torch::allclose(reduced_state_a(rho), rho_a, 0, 1e-14));
    ASSERT_TRUE(torch::allclose(reduced_state_b(rho), rho_b, 0, 1e-14));
    ASSERT_TRUE(torch::allclose(twin, torch::kron(rho_a, rho_b), 0, 1e-14));
  }
}

TEST(Entanglement, BatchedHelpersMatchSingleStates) {
  const torch::Tensor states = generate_states(Family::random, 6, 4).states;
  const torch::Tensor pt = partial_transpose_b(states);
  const torch::Tensor twins = marginal_twin(states);
  for (int64_t i = 0; i < 6; ++i) {
    EXPECT_TRUE(torch::equal(pt[i], independent_partial_transpose(states[i])));
    EXPECT_TRUE(torch::equal(twins[i], marginal_twin(states[i])));
    EXPECT_TRUE(torch::equal(dephased_twin(states)[i], dephased_twin(states[i])));
  }
}

TEST(Entanglement, SameSeedSameStates) {
  for (Family family : {Family::random, Family::adversarial_dephased, Family::adversarial_marginal}) {
    const StateDataset a = generate_states(family, 40, 99);
    const StateDataset b = generate_states(family, 40, 99);
    const StateDataset c = generate_states(family, 40, 100);
    EXPECT_TRUE(torch::equal(torch::view_as_real(a.states), torch::view_as_real(b.states)));
    EXPECT_TRUE(torch::equal(a.labels, b.labels));
    EXPECT_FALSE(torch::equal(torch::view_as_real(a.states), torch::view_as_real(c.states)));
  }
}

TEST(Entanglement, ArgumentErrors) {
  EXPECT_EQ(parse_family("random"), Family::random);
  EXPECT_EQ(parse_family("adversarial-dephased"), Family::adversarial_dephased);
  EXPECT_EQ(parse_family("adversarial-marginal"), Family::adversarial_marginal);
  EXPECT_THROW(parse_family("adversarial_dephased"), std::invalid_argument);
  EXPECT_THROW(generate_states(Family::random, 0, 0), std::invalid_argument);
  EXPECT_THROW(generate_states(Family::random, 7, 0), std::invalid_argument);
  EXPECT_THROW(generate_states(Family::random, -2, 0), std::invalid_argument);
  EXPECT_THROW(partial_transpose_b(torch::eye(8, torch::kComplexDouble)), std::invalid_argument);
}

// ---------------------------------------------------------------- Pauli features

int64_t pauli_index(const std::string& name) {
  for (int64_t i = 0; i < 15; ++i) {
    if (pauli_feature_name(i) == name) return i;
  }
  throw std::out_of_range(name);
}

// |psi><psi| for a two-qubit state vector.
torch::Tensor pure_state(std::vector<complex<double>> amplitudes) {
  const torch::Tensor psi = torch::tensor(torch::ArrayRef<complex<double>>(amplitudes), torch::kComplexDouble);
  return torch::outer(psi, psi.conj());
}

void expect_pauli_features(const torch::Tensor& rho, const std::map<std::string, double>& nonzero) {
  const torch::Tensor features = pauli_expectations(rho.unsqueeze(0));
  ASSERT_EQ(features.sizes(), (std::vector<int64_t>{1, 15}));
  ASSERT_EQ(features.scalar_type(), torch::kFloat64);
  for (int64_t i = 0; i < 15; ++i) {
    const auto it = nonzero.find(pauli_feature_name(i));
    EXPECT_NEAR(features[0][i].item<double>(), it == nonzero.end() ? 0.0 : it->second, 1e-14) << pauli_feature_name(i);
  }
}

TEST(Pauli, BellAndProductStates) {
  std::set<std::string> names;
  for (int64_t i = 0; i < 15; ++i) names.insert(pauli_feature_name(i));
  EXPECT_EQ(names.size(), 15u);
  EXPECT_EQ(names.count("II"), 0u);
  EXPECT_EQ(pauli_index("IX"), 0);
  EXPECT_EQ(pauli_index("ZZ"), 14);

  const double r = 1 / std::sqrt(2.0);
  expect_pauli_features(pure_state({r, 0, 0, r}), {{"XX", 1}, {"YY", -1}, {"ZZ", 1}});  // |Phi+>
  // |1>_A (x) |+>_B: A is the most significant qubit.
  expect_pauli_features(pure_state({0, 0, r, r}), {{"ZI", -1}, {"IX", 1}, {"ZX", -1}});
  // Y on B: |0>_A (x) |+i>_B.
  expect_pauli_features(pure_state({r, complex<double>(0, r), 0, 0}), {{"ZI", 1}, {"IY", 1}, {"ZY", 1}});
}

}  // namespace
}  // namespace hqrn::data
