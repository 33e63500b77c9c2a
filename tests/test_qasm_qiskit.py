"""OpenQASM 3 interop: exported HQRN programs run by Qiskit and Aer.

`hqrn export-qasm` writes one OpenQASM 3 program per branch. This test parses
each with Qiskit's OpenQASM 3 importer (qiskit.qasm3.loads, which uses the
qiskit-qasm3-import package), runs it on Aer's density-matrix simulator with
its mid-circuit measurements, starting from each input state of a state CSV,
and requires the readout distributions to equal `hqrn eval --readout`'s (both
executions) to 1e-9 for every branch, sample and outcome. The networks have
ancillas, several blocks, several branches and random weights (V, a
included, so the rz/crz phases matter).

Usage: /usr/bin/python3 test_qasm_qiskit.py PATH_TO_HQRN VENV_DIR

Qiskit is not a Debian package: the test makes a virtual environment in
VENV_DIR (python3 -m venv; Debian's python3-venv) and installs the pinned
wheels below from PyPI. A finished environment is marked and reused; one
without the mark (a run interrupted while installing, other pins) is made
again. When PyPI cannot be reached the test fails and says so. The checks
then run in the environment's interpreter (this file again, with --in-venv),
which needs neither torch nor the HQRN Python package.

The last line is 'N passed, N failed'; exits non-zero on failure.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

import python_test_support as support

# Every package the environment holds, pinned: the three named in the issue
# and what they pulled in on Python 3.11 x86_64 (all wheels).
PINS = [
    "qiskit==2.6.2",
    "qiskit-aer==0.18.2",
    "qiskit-qasm3-import==0.6.0",
    "openqasm3==1.0.1",
    "antlr4-python3-runtime==4.13.2",
    "numpy==2.4.6",
    "scipy==1.17.1",
    "rustworkx==0.18.1",
    "stevedore==5.10.0",
    "dill==0.4.1",
    "psutil==7.2.2",
    "python-dateutil==4.0.0",
    "typing-extensions==4.16.0",
    "tzdata==2026.6",
]
TOLERANCE = 1e-9


def fail(message):
    support.fail("test_qasm_qiskit", message)


# ----------------------------------------------------------------------------
# Outside the environment: make it (or reuse it), then run this file in it.


def ensure_venv(venv):
    return support.ensure_venv(venv, PINS, ("qiskit", "qiskit_aer", "qiskit_qasm3_import", "qiskit.qasm3"),
                               "test_qasm_qiskit", pip_options=("--only-binary=:all:",))


# ----------------------------------------------------------------------------
# Inside the environment: the checks.

HQRN = None
WORK = None


def run_hqrn(args):
    proc = subprocess.run([HQRN, "--threads", "1"] + [str(a) for a in args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=300)
    if proc.returncode != 0:
        raise AssertionError("command: {}\nexit status {}\nstdout:\n{}\nstderr:\n{}".format(
            " ".join(proc.args), proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:]))
    return proc


def load_states(path):
    """States [N, d, d] complex128 from a state CSV (label, Re rho00, Im rho00, Re rho01, ...)."""
    import numpy as np
    rows = [[float(v) for v in line.split(",")] for line in open(path).read().splitlines() if line.strip()]
    values = np.array(rows)[:, 1:]
    d = int(round((values.shape[1] // 2) ** 0.5))
    return (values[:, 0::2] + 1j * values[:, 1::2]).reshape(-1, d, d)


def load_readout(path):
    """Readout distributions [N, K, 2^r] from `hqrn eval --readout` (sample, branch, p0, p1, ...)."""
    import numpy as np
    lines = open(path).read().splitlines()
    header = lines[0].split(",")
    assert header[:2] == ["sample", "branch"], header
    table = np.array([[float(v) for v in line.split(",")] for line in lines[1:] if line.strip()])
    samples, branches = int(table[:, 0].max()) + 1, int(table[:, 1].max()) + 1
    out = np.full((samples, branches, len(header) - 2), np.nan)
    for row in table:
        out[int(row[0]), int(row[1])] = row[2:]
    return out


def to_qiskit_order(rho, n):
    """HQRN orders basis indices with qubit 0 the most significant bit, Qiskit with qubit 0 the least."""
    reverse = list(range(n - 1, -1, -1))
    return rho.reshape([2] * (2 * n)).transpose(reverse + [n + k for k in reverse]).reshape(2 ** n, 2 ** n)


class AerProgram:
    """One exported branch program, parsed by Qiskit and run on AerSimulator(method="density_matrix").

    Aer samples a mid-circuit measurement: each shot draws an outcome with the
    Born probability and continues from the projected, renormalised state
    (H; measure; H gives |+> or |-> per shot, never the mixture). The
    readout distribution of a program whose outcomes are never used is the
    average over outcomes, sum_m p_m rho_m, and a finite number of shots only
    estimates it. The exact average is taken here instead: the program is cut
    after each of its measure statements and Aer runs the pieces in order,
    each from the averaged state of the one before (set_density_matrix). For
    each piece it saves the state before the measurement, the measured
    qubit's Born probabilities p_m, and, per outcome, the state after its own
    measurement (save_density_matrix(conditional=True), keyed by the
    classical bit). The next piece starts from sum_m p_m rho_m. Every
    conditional state Aer returns is required to be P_m sigma P_m / p_m of
    the saved sigma (1e-12): that is the projective measurement the average
    is over. An outcome no shot drew (p_m below about 1e-2 at 256 shots)
    enters as that same P_m sigma P_m. The last piece saves the Z
    probabilities of the readout register (the last r qubits, the first of
    them the most significant bit, as `hqrn eval --readout` writes them).

    `sampled` runs the whole program unchanged in one go with shots, the way
    a device would, to see that the recorded readout bits follow the exact
    distribution.
    """

    SHOTS_PER_PIECE = 256

    def __init__(self, text, readout_qubits, simulator):
        from qiskit import qasm3, transpile
        self.circuit = qasm3.loads(text)
        self.n = self.circuit.num_qubits
        self.r = readout_qubits
        self.simulator = simulator
        self.pieces = []  # (gates transpiled for Aer, measured qubit index or None, the measure instruction)
        gates = self.circuit.copy_empty_like()
        for instruction in self.circuit.data:
            if instruction.operation.name == "measure":
                qubit = self.circuit.find_bit(instruction.qubits[0]).index
                self.pieces.append((self.compile(gates), qubit, instruction))
                gates = self.circuit.copy_empty_like()
            else:
                gates.append(instruction)
        self.pieces.append((self.compile(gates), None, None))
        self.measurements = sum(1 for p in self.pieces if p[1] is not None)
        # Aer has no cry or crz: the standard decomposition into cx, ry and rz, nothing optimised away.
        self.whole = transpile(self.circuit, simulator, optimization_level=0)
        self.unobserved = 0
        self.checked = 0

    def compile(self, circuit):
        from qiskit import transpile
        return transpile(circuit, self.simulator, optimization_level=0)

    def readout_qubits(self):
        # save_probabilities puts qubits[0] in the least significant bit.
        return list(range(self.n - 1, self.n - 1 - self.r, -1))

    def exact(self, rhos, seed=0):
        """Readout distributions [N, 2^r] from full-register states [N, d, d] in Qiskit's order."""
        import numpy as np
        from qiskit.quantum_info import DensityMatrix
        states = [np.asarray(rho) for rho in rhos]
        d = 2 ** self.n
        index = np.arange(d)
        for step, (gates, qubit, measure) in enumerate(self.pieces):
            circuits = []
            for rho in states:
                qc = self.circuit.copy_empty_like()
                qc.set_density_matrix(DensityMatrix(rho))
                qc.compose(gates, inplace=True)
                if qubit is None:
                    qc.save_probabilities(self.readout_qubits(), label="readout")
                else:
                    qc.save_density_matrix(label="before")
                    qc.save_probabilities([qubit], label="born")
                    qc.append(measure)
                    qc.save_density_matrix(label="after", conditional=True)
                circuits.append(qc)
            result = self.simulator.run(circuits, shots=self.SHOTS_PER_PIECE if qubit is not None else 1,
                                        seed_simulator=seed + step).result()
            if qubit is None:
                return np.array([np.asarray(result.data(i)["readout"]) for i in range(len(circuits))])
            bit = (index >> qubit) & 1
            new_states = []
            for i in range(len(circuits)):
                data = result.data(i)
                sigma = np.asarray(data["before"])
                born = np.asarray(data["born"])
                after = {(int(key, 16) >> self.circuit.find_bit(measure.clbits[0]).index) & 1: np.asarray(value)
                         for key, value in data["after"].items()}
                averaged = np.zeros((d, d), dtype=complex)
                for m in (0, 1):
                    keep = bit == m
                    projected = sigma * np.outer(keep, keep)  # P_m sigma P_m
                    if m in after:
                        assert born[m] > 0, (m, born)
                        err = np.abs(after[m] - projected / born[m]).max()
                        assert err < 1e-12, "Aer's state after outcome {} is not the projection ({})".format(m, err)
                        assert abs(born[m] - np.trace(projected).real) < 1e-12, (born, np.trace(projected))
                        averaged += born[m] * after[m]
                        self.checked += 1
                    else:
                        self.unobserved += 1
                        averaged += projected
                new_states.append(averaged)
            states = new_states
        raise AssertionError("unreachable")

    def sampled(self, rhos, shots, seed=0):
        """Readout frequencies [N, 2^r] from the whole program run with shots: the readout bits c[n-r..n-1]."""
        import numpy as np
        from qiskit.quantum_info import DensityMatrix
        circuits = []
        for rho in rhos:
            qc = self.whole.copy_empty_like()
            qc.set_density_matrix(DensityMatrix(np.asarray(rho)))
            qc.compose(self.whole, inplace=True)
            circuits.append(qc)
        result = self.simulator.run(circuits, shots=shots, seed_simulator=seed).result()
        out = np.zeros((len(circuits), 2 ** self.r))
        for i in range(len(circuits)):
            for key, count in result.get_counts(i).items():
                bits = key.replace(" ", "")[::-1]  # bits[k] = c[k]
                o = int(bits[self.n - self.r:], 2)  # c[n-r] the most significant bit
                out[i, o] += count / shots
        return out


# (name, train flags): ancillas, several blocks and branches, random weights.
NETWORKS = [
    ("anc1_blocks2_branches3", ["--data-qubits", "2", "--ancillas", "1", "--blocks", "2", "--branches", "3",
                                "--readout", "linear", "--readout-qubits", "2", "--init-std", "1.0", "--seed", "3"]),
    ("anc2_blocks3_branches2", ["--data-qubits", "2", "--ancillas", "2", "--blocks", "3", "--branches", "2",
                                "--readout", "linear", "--readout-qubits", "3", "--init-std", "1.0", "--seed", "4"]),
]


class QiskitInteropTest(unittest.TestCase):
    report = []

    @classmethod
    def setUpClass(cls):
        cls.train_csv = os.path.join(WORK, "train.csv")
        cls.eval_csv = os.path.join(WORK, "eval.csv")
        parts = []
        for family, n, seed in (("random", 4, 11), ("adversarial-dephased", 2, 12), ("adversarial-marginal", 2, 13)):
            part = os.path.join(WORK, "eval_{}.csv".format(family))
            run_hqrn(["gen-states", "--family", family, "--n", n, "--seed", seed, "--out", part])
            parts.append(open(part).read())
        with open(cls.eval_csv, "w") as f:
            f.write("".join(parts))
        run_hqrn(["gen-states", "--family", "random", "--n", "32", "--seed", "10", "--out", cls.train_csv])

    def test_versions_are_the_pinned_ones(self):
        from importlib.metadata import version
        for pin in PINS:
            name, wanted = pin.split("==")
            self.assertEqual(version(name), wanted, pin)

    def check_network(self, name, flags):
        import numpy as np
        from qiskit_aer import AerSimulator
        ckpt = os.path.join(WORK, name + ".ckpt")
        run_hqrn(["train", "--task", "entanglement", "--model", "hqrn", "--data", self.train_csv, "--epochs", "1",
                        "--quiet", "--out", ckpt] + flags)
        prefix = os.path.join(WORK, name)
        run_hqrn(["export-qasm", "--model", ckpt, "--out", prefix])
        with open(prefix + "_classical.json") as f:
            config = json.load(f)["config"]
        self.assertEqual(config["noise"], {"channels": [], "readout": 0.0})
        n = config["data_qubits"] + config["ancillas"]
        r = config["readout_qubits"]
        expected = {}
        for execution in ("aware", "dense"):
            out = os.path.join(WORK, "{}_readout_{}.csv".format(name, execution))
            run_hqrn(["--exec", execution, "eval", "--model", ckpt, "--data", self.eval_csv, "--readout", out])
            expected[execution] = load_readout(out)
        samples, branches, outcomes = expected["aware"].shape
        self.assertEqual((branches, outcomes), (config["branches"], 2 ** r))

        # Inputs: each data state with the ancillas in |0>, over all n qubits.
        data = load_states(self.eval_csv)
        self.assertEqual(data.shape[0], samples)
        ancillas = np.zeros((2 ** config["ancillas"],) * 2)
        ancillas[0, 0] = 1
        inputs = [to_qiskit_order(np.kron(rho, ancillas), n) for rho in data]

        simulator = AerSimulator(method="density_matrix", max_parallel_threads=1)
        worst = {"aware": 0.0, "dense": 0.0}
        worst_sampled = 0.0
        checked = unobserved = 0
        for k in range(branches):
            with open("{}_branch{}.qasm".format(prefix, k)) as f:
                program = AerProgram(f.read(), r, simulator)
            self.assertEqual(program.n, n)
            self.assertEqual(program.measurements, config["blocks"] * n)  # every qubit measured in every block
            aer = program.exact(inputs, seed=100 * k)
            checked, unobserved = checked + program.checked, unobserved + program.unobserved
            np.testing.assert_allclose(aer.sum(1), 1.0, rtol=0, atol=1e-12)
            for execution, e in expected.items():
                diff = np.abs(aer - e[:, k, :])
                worst[execution] = max(worst[execution], float(diff.max()))
                self.assertLessEqual(diff.max(), TOLERANCE, "{} branch {}: Aer and hqrn eval ({}) differ by {:.3g} "
                                     "(sample, outcome {})\nAer:\n{}\nhqrn:\n{}".format(
                                         name, k, execution, diff.max(),
                                         np.unravel_index(diff.argmax(), diff.shape), aer, e[:, k, :]))
            # The program as a device runs it: one pass, outcomes sampled, readout bits counted.
            shots = 1000
            freq = program.sampled(inputs, shots, seed=7 + k)
            bound = 5 * np.sqrt(aer * (1 - aer) / shots) + 5.0 / shots
            worst_sampled = max(worst_sampled, float((np.abs(freq - aer) / bound).max()))
            self.assertTrue((np.abs(freq - aer) <= bound).all(),
                            "{} branch {}: sampled readout bits far from the exact distribution\n{}\n{}".format(
                                name, k, freq, aer))
        line = ("{}: {} qubits, {} branches, {} samples; max |Aer - hqrn eval| = {:.3g} (aware), {:.3g} (dense); "
                "sampled run within {:.2f} of its 5-sigma bound; {} conditional states checked, {} unobserved "
                "outcomes").format(name, n, branches, samples, worst["aware"], worst["dense"], worst_sampled,
                                   checked, unobserved)
        print("\n    " + line)
        self.report.append(line)

    def test_networks(self):
        for name, flags in NETWORKS:
            with self.subTest(network=name):
                self.check_network(name, flags)


def in_venv_main(hqrn):
    global HQRN, WORK
    HQRN = hqrn
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="hqrn_qasm_qiskit_") as tmp:
        WORK = tmp
        return support.run_suite((QiskitInteropTest,), start)

def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--in-venv":
        return in_venv_main(sys.argv[2])
    if len(sys.argv) != 3:
        print("usage: test_qasm_qiskit.py PATH_TO_HQRN VENV_DIR", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    hqrn = os.path.abspath(sys.argv[1])
    if not os.access(hqrn, os.X_OK):
        fail("not an executable: " + hqrn)
    python = ensure_venv(os.path.abspath(sys.argv[2]))
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(python, [python, os.path.abspath(__file__), "--in-venv", hqrn])


if __name__ == "__main__":
    sys.exit(main())
