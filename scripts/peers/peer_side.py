"""The peers' side of the peer benchmark: PennyLane default.mixed, Qiskit Aer
and QuTiP run each exported program on the inputs hqrn_side.py wrote, are
checked against HQRN's readout distributions and gradients, and are timed
when they agree.

    /usr/bin/python3 peer_side.py --venv build/peer-venv --work DIR/work --qubits 2 4 6 --batches 1 64 --threads 2

Started with Debian's Python it makes (or reuses) the virtual environment with
the pinned wheels below and runs itself again in it (--in-venv); the peers
need neither torch nor the HQRN package. Writes DIR/work/peer-records.json.

With --pure (run-peer-benchmarks.sh --pure) the peers are state-vector
simulators with mid-circuit measurement (PURE_PEERS: PennyLane default.qubit
and lightning.qubit, each with its deferred and its tree-traversal
measurements, and Qiskit Aer's statevector method with the outcomes averaged
exactly), run on the pure inputs hqrn_side.py --pure wrote, forward only,
each case in its own process (cases.py) with --time-limit seconds and
--memory-limit-gib; writes DIR/work/pure-peer-records.json.
"""

import argparse
import json
import os
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests"))

import cases  # noqa: E402
import python_test_support as support  # noqa: E402
import test_qasm_qiskit  # noqa: E402  (its pins, and AerProgram: the exact Aer run of these programs)
import timing  # noqa: E402
from program import Program  # noqa: E402

# Qiskit's pins are the interop test's; PennyLane, QuTiP and what they pulled in
# on Python 3.11 x86_64 (all wheels) are added.
PINS = test_qasm_qiskit.PINS + [
    "pennylane==0.45.1",
    "pennylane-lightning==0.45.0",
    "autograd==1.8.0",
    "autoray==0.8.4",
    "appdirs==1.4.4",
    "cachetools==8.0.2",
    "diastatic-malt==2.15.3",
    "gast==0.7.0",
    "networkx==3.6.1",
    "packaging==26.4",
    "requests==2.34.2",
    "charset-normalizer==3.5.3",
    "idna==3.20",
    "urllib3==2.8.0",
    "certifi==2026.10.19.post1",
    "termcolor==3.3.0",
    "tomlkit==0.15.3",
    "scipy-openblas32==0.3.34.481.3",
    "qutip==5.3.1",
]
VERSIONS_REPORTED = ("pennylane", "qiskit", "qiskit-aer", "qutip", "numpy", "scipy")
TOLERANCE = 1e-8
warnings.filterwarnings("ignore", message="matplotlib not found")  # QuTiP's: no plots are made
# A configuration whose check is predicted to take longer than this is not run:
# a dense density matrix on n + 2 qubits has 16 times the entries of one on n.
TIME_LIMIT_SECONDS = 120.0
GROWTH_PER_TWO_QUBITS = 16


def progress(message):
    print("peers: " + message, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------
# The peers. Each is made for one program and has forward(states) -> readout
# distributions [B, 4] and, where it can differentiate, gradient(states) ->
# {weight name: d loss / d (angle of the weight's first gate)}. States are the
# full register's density matrices [B, 2^n, 2^n], HQRN's qubit order.


class PennyLane:
    """default.mixed, backprop through its autograd interface. A measurement
    whose outcome is never used is full dephasing: PhaseDamping(1), whose Kraus
    operators are |0><0| and |1><1|. No batched density-matrix input
    (QubitDensityMatrix with a leading batch dimension fails), so one circuit per
    input; parameter broadcasting batches gate angles, not states."""

    name = "PennyLane default.mixed"
    differentiates = True

    def __init__(self, program, loss_weights, readout_qubits, threads):
        import pennylane as qml
        from pennylane import numpy as pnp
        self.pnp = pnp
        n = program.qubits
        names = program.weight_names()
        self.names = names
        self.angles = [program.weights[name] for name in names]
        self.loss_weights = pnp.array(loss_weights, requires_grad=False)
        position = {name: k for k, name in enumerate(names)}
        gate_of = {"ry": qml.RY, "rz": qml.RZ, "cry": qml.CRY, "crz": qml.CRZ}
        readout = list(range(n - readout_qubits, n))

        @qml.qnode(qml.device("default.mixed", wires=n), diff_method="backprop", interface="autograd")
        def circuit(angles, rho):
            qml.QubitDensityMatrix(rho, wires=range(n))
            for gate in program.gates:
                if isinstance(gate, tuple):
                    qml.PhaseDamping(1.0, wires=gate[1])
                else:
                    wires = gate.target if gate.control is None else [gate.control, gate.target]
                    gate_of[gate.kind](gate.sign * angles[position[gate.weight]], wires=wires)
            return qml.probs(wires=readout)

        self.circuit = circuit

    def forward(self, states):
        import numpy as np
        angles = self.pnp.array(self.angles, requires_grad=False)
        return np.array([self.circuit(angles, rho) for rho in states])

    def gradient(self, states):
        import pennylane as qml

        def loss(angles):
            return sum(self.pnp.dot(self.loss_weights, self.circuit(angles, rho)) for rho in states)

        grad = qml.grad(loss)(self.pnp.array(self.angles, requires_grad=True))
        return dict(zip(self.names, map(float, grad)))


class Aer:
    """AerSimulator(method="density_matrix") on the program parsed by
    qiskit.qasm3, run exactly as tests/test_qasm_qiskit.py does (cut after each
    measure, average the outcomes with their Born weights). All B inputs go to
    Aer in one run() per piece; its threads are split over them
    (max_parallel_experiments) and within one (max_parallel_threads), with
    shot branching at the measurements and one shot per piece. No
    gradients: Aer does not differentiate, and Qiskit's gradient classes work
    on expectation values of circuits without mid-circuit measurement."""

    name = "Qiskit Aer density_matrix"
    differentiates = False

    class OneShotProgram(test_qasm_qiskit.AerProgram):
        # The average is exact for any number of shots per piece (an outcome no
        # shot drew enters as P_m sigma P_m); the interop test draws 256 to check
        # Aer's conditional states, the benchmark one, Aer's cheapest exact run.
        SHOTS_PER_PIECE = 1

    def __init__(self, program_text, readout_qubits, threads):
        from qiskit_aer import AerSimulator
        # shot_branching_enable: Aer branches the state at a measurement instead
        # of rerunning shots (its documented option for mid-circuit measurement);
        # max_parallel_experiments=0: up to max_parallel_threads inputs at once.
        simulator = AerSimulator(method="density_matrix", max_parallel_threads=threads,
                                 max_parallel_experiments=0, shot_branching_enable=True)
        self.program = self.OneShotProgram(program_text, readout_qubits, simulator)

    def forward(self, states):
        n = self.program.n
        return self.program.exact([test_qasm_qiskit.to_qiskit_order(rho, n) for rho in states])


class QuTiP:
    """QuTiP 5: each gate as a full-register operator (sparse CSR, built once),
    rho -> U rho U^dagger on a dense rho; a measurement is sum_m P_m rho P_m;
    the readout is ptrace onto the last qubits. No batching over states in
    QuTiP's core (one Qobj per input) and no gradients (QuTiP's automatic
    differentiation needs the separate qutip-jax backend and JAX)."""

    name = "QuTiP"
    differentiates = False

    def __init__(self, program, readout_qubits, threads):
        import numpy as np
        import qutip
        n = program.qubits
        self.n, self.readout = n, list(range(n - readout_qubits, n))
        identity = qutip.qeye(2)
        projectors = [qutip.basis(2, 0).proj(), qutip.basis(2, 1).proj()]

        def rotation(kind, angle):
            c, s = np.cos(angle / 2), np.sin(angle / 2)
            if kind.endswith("ry"):
                return qutip.Qobj([[c, -s], [s, c]])
            return qutip.Qobj([[np.exp(-0.5j * angle), 0], [0, np.exp(0.5j * angle)]])

        def on(factors):
            return qutip.tensor([factors.get(q, identity) for q in range(n)])

        self.steps = []  # ("unitary", U, U^dagger) or ("measure", [P_0, P_1])
        for gate in program.gates:
            if isinstance(gate, tuple):
                self.steps.append(("measure", [on({gate[1]: p}) for p in projectors]))
                continue
            r = rotation(gate.kind, gate.angle)
            if gate.control is None:
                u = on({gate.target: r})
            else:
                u = on({gate.control: projectors[0]}) + on({gate.control: projectors[1], gate.target: r})
            self.steps.append(("unitary", u, u.dag()))

    def forward(self, states):
        import numpy as np
        import qutip
        dims = [[2] * self.n, [2] * self.n]
        out = []
        for matrix in states:
            rho = qutip.Qobj(matrix, dims=dims)
            for step in self.steps:
                if step[0] == "unitary":
                    rho = step[1] @ rho @ step[2]
                else:
                    rho = sum(p @ rho @ p for p in step[1])
            out.append(rho.ptrace(self.readout).diag().real)
        return np.array(out)


# ----------------------------------------------------------------------------


def full_register(inputs, n):
    """rho (x) |0...0><0...0| on the ancillas: the network's starting state."""
    import numpy as np
    ancillas = np.zeros((2 ** (n - 2),) * 2)
    ancillas[0, 0] = 1.0
    return np.array([np.kron(rho, ancillas) for rho in inputs])


def weight_gradient(peer_gradient, program, reference):
    """The peer's gradient with respect to each first-gate angle, as one with respect to HQRN's weight."""
    out = {}
    for name, g in peer_gradient.items():
        weight = reference["weights"][name]
        sign = 1.0 if weight == 0.0 else program.weights[name] / weight
        assert abs(abs(sign) - 1.0) < 1e-12, (name, program.weights[name], weight)
        out[name] = sign * g
    return out


def measure(peer, n, batch, what, run, compare, slow):
    """One record: the check (first call), then the timing if the check passes."""
    record = {"peer": peer.name, "n": n, "batch": batch, "what": what, "seconds": None,
              "max_abs_difference": None}
    key = (peer.name, batch, what)
    if key in slow:
        record["note"] = "not run: {} s at n = {} predicts over {:.0f} s".format(
            "{:.3g}".format(slow[key][1]), slow[key][0], TIME_LIMIT_SECONDS)
        return record
    result, check_seconds = timing.timed(run)
    record["max_abs_difference"] = difference = compare(result)
    if difference > TOLERANCE:
        record["note"] = "disagrees with HQRN beyond {:g}: not timed".format(TOLERANCE)
    else:
        record["seconds"] = timing.median_seconds(run, check_seconds)
    if check_seconds * GROWTH_PER_TWO_QUBITS > TIME_LIMIT_SECONDS:
        slow[key] = (n, check_seconds)
    progress("{} n={} B={} {}: {} (max |diff| {:.2g})".format(
        peer.name, n, batch, what, "{:.3g} s".format(record["seconds"]) if record["seconds"] else record.get("note"),
        difference))
    return record


def in_venv_main(args):
    import numpy as np
    from importlib.metadata import version
    records = []
    slow = {}
    skipped = {"TorchQuantum": ("not installed: torchquantum 0.1.8 (the newest on PyPI) requires qiskit<1.0, "
                                "tensorflow, pyscf, torchvision, dill==0.3.4 and torch from PyPI (several GB "
                                "with its CUDA wheels), and simulates state vectors: no density-matrix input, "
                                "no mid-circuit measurement")}
    for n in args.qubits:
        path = os.path.join(args.work, "n{}_branch0.qasm".format(n))
        with open(path) as f:
            text = f.read()
        program = Program(text)
        assert program.qubits == n, (path, program.qubits)
        for batch in args.batches:
            stem = os.path.join(args.work, "n{}_B{}".format(n, batch))
            states = full_register(np.load(stem + "_inputs.npy"), n)
            expected = np.load(stem + "_readout.npy")
            with open(stem + "_gradient.json") as f:
                reference = json.load(f)
            r = reference["readout_qubits"]
            peers = [PennyLane(program, reference["loss_weights"], r, args.threads), Aer(text, r, args.threads),
                     QuTiP(program, r, args.threads)]
            for peer in peers:
                records.append(measure(peer, n, batch, "forward", lambda: peer.forward(states),
                                       lambda p: float(np.abs(p - expected).max()), slow))
                if peer.differentiates:
                    records.append(measure(
                        peer, n, batch, "gradient", lambda: peer.gradient(states),
                        lambda g: max(abs(v - reference["gradient"][k])
                                      for k, v in weight_gradient(g, program, reference).items()), slow))
    meta = {"versions": {name: version(name) for name in VERSIONS_REPORTED}, "pins": PINS,
            "tolerance": TOLERANCE, "time_limit_seconds": TIME_LIMIT_SECONDS, "skipped_peers": skipped,
            "peer_settings": {cls.name: " ".join(cls.__doc__.split()) for cls in (PennyLane, Aer, QuTiP)}}
    with open(os.path.join(args.work, "peer-records.json"), "w") as f:
        json.dump({"meta": meta, "records": records}, f, indent=1)


# ----------------------------------------------------------------------------
# --pure: state-vector peers on pure inputs. Each has forward(states) -> readout
# distributions [B, 2^r] from states [B, 2^n] (HQRN's qubit order: qubit 0 the
# most significant bit; the readout is the last r qubits, the first of them the
# most significant bit of the outcome).


class PennyLaneVectors:
    """PennyLane's state-vector devices with qml.measure (outcome unused) after
    each target's gates and qml.probs of the readout wires, analytic
    (shots=None), StatePrep of the batch of inputs (parameter broadcasting).
    mcm_method "deferred" (PennyLane's default without shots) replaces each
    measurement by a CNOT onto a fresh wire: n measurements on n qubits
    simulate 2n wires, 4^n amplitudes. "tree-traversal" (the device's own
    method, mcm_method="device") follows the 2^k branches of the outcomes
    depth first on n wires and sums them with their Born weights."""

    def __init__(self, program, readout_qubits, device, mcm_method):
        import pennylane as qml
        n = program.qubits
        self.n = n
        gate_of = {"ry": qml.RY, "rz": qml.RZ, "cry": qml.CRY, "crz": qml.CRZ}
        readout = list(range(n - readout_qubits, n))
        measurements = sum(1 for g in program.gates if isinstance(g, tuple))
        wires = n + measurements if mcm_method == "deferred" else n

        @qml.qnode(qml.device(device, wires=wires), mcm_method=mcm_method)
        def circuit(states):
            qml.StatePrep(states, wires=range(n))
            for gate in program.gates:
                if isinstance(gate, tuple):
                    qml.measure(gate[1])
                else:
                    gate_of[gate.kind](gate.angle, wires=gate.target if gate.control is None
                                       else [gate.control, gate.target])
            return qml.probs(wires=readout)

        self.circuit = circuit

    def forward(self, states):
        import numpy as np
        return np.asarray(self.circuit(states)).reshape(len(states), -1)


class AerStatevector:
    """AerSimulator(method="statevector") on the program parsed by qiskit.qasm3,
    the outcomes of its mid-circuit measurements averaged exactly: Aer samples
    a measurement (one outcome per shot), so the program is cut after each
    measure and every branch of outcomes is followed. Each piece runs on every
    current branch (set_statevector) and saves the state before the
    measurement, the measured qubit's Born probabilities p_m and the state
    after Aer's own measurement (save_statevector(conditional=True), one shot);
    the branch splits into its two outcomes with weights w p_m, the drawn one
    Aer's state (required to equal P_m psi / sqrt(p_m) to 1e-12), the other
    P_m psi / sqrt(p_m) of the saved state. After the last piece the readout
    probabilities of the branches (save_probabilities) are summed with their
    weights. k measurements make 2^k branches of 2^n amplitudes: the cost of a
    density matrix. All inputs' branches of one piece go to Aer in run()s of
    up to CHUNK circuits, max_parallel_experiments=0 and max_parallel_threads
    the thread count."""

    CHUNK = 1024

    def __init__(self, program_text, readout_qubits, threads):
        from qiskit import qasm3, transpile
        from qiskit_aer import AerSimulator
        self.simulator = AerSimulator(method="statevector", max_parallel_threads=threads,
                                      max_parallel_experiments=0)
        self.circuit = qasm3.loads(program_text)
        self.n = self.circuit.num_qubits
        # save_probabilities puts qubits[0] in the least significant bit.
        self.readout = list(range(self.n - 1, self.n - 1 - readout_qubits, -1))
        self.pieces = []  # (gates transpiled for Aer, measured qubit or None, the measure instruction)
        gates = self.circuit.copy_empty_like()
        for instruction in self.circuit.data:
            if instruction.operation.name == "measure":
                qubit = self.circuit.find_bit(instruction.qubits[0]).index
                self.pieces.append((transpile(gates, self.simulator, optimization_level=0), qubit, instruction))
                gates = self.circuit.copy_empty_like()
            else:
                gates.append(instruction)
        self.pieces.append((transpile(gates, self.simulator, optimization_level=0), None, None))

    def forward(self, states):
        import numpy as np
        from qiskit.quantum_info import Statevector
        n = self.n
        reverse = list(range(n - 1, -1, -1))  # HQRN's qubit 0 is the most significant bit, Qiskit's the least
        branches = [(i, 1.0, psi.reshape([2] * n).transpose(reverse).reshape(-1)) for i, psi in enumerate(states)]
        index = np.arange(2 ** n)
        out = np.zeros((len(states), 2 ** len(self.readout)))
        for step, (gates, qubit, measure) in enumerate(self.pieces):
            clbit = None if measure is None else self.circuit.find_bit(measure.clbits[0]).index
            bit = None if qubit is None else (index >> qubit) & 1
            following = []
            for start in range(0, len(branches), self.CHUNK):
                chunk = branches[start:start + self.CHUNK]
                circuits = []
                for _, _, psi in chunk:
                    qc = self.circuit.copy_empty_like()
                    qc.set_statevector(Statevector(psi))
                    qc.compose(gates, inplace=True)
                    if qubit is None:
                        qc.save_probabilities(self.readout, label="readout")
                    else:
                        qc.save_statevector(label="before")
                        qc.save_probabilities([qubit], label="born")
                        qc.append(measure)
                        qc.save_statevector(label="after", conditional=True)
                    circuits.append(qc)
                result = self.simulator.run(circuits, shots=1, seed_simulator=step).result()
                for k, (i, weight, _) in enumerate(chunk):
                    data = result.data(k)
                    if qubit is None:
                        out[i] += weight * np.asarray(data["readout"])
                        continue
                    before, born = np.asarray(data["before"]), np.asarray(data["born"])
                    after = {(int(key, 16) >> clbit) & 1: np.asarray(value) for key, value in data["after"].items()}
                    for m in (0, 1):
                        if born[m] == 0.0:
                            continue
                        projected = np.where(bit == m, before, 0.0) / np.sqrt(born[m])
                        if m in after:
                            err = np.abs(after[m] - projected).max()
                            assert err < 1e-12, "Aer's state after outcome {} is not the projection ({})".format(m, err)
                            projected = after[m]
                        following.append((i, weight * born[m], projected))
                del result, circuits
            branches = following
        return out


# key -> (name, maker(program, text, readout qubits, threads)); the order they run in.
PURE_PEERS = {
    "pl-default-deferred": ("PennyLane default.qubit, deferred",
                            lambda p, t, r, threads: PennyLaneVectors(p, r, "default.qubit", "deferred")),
    "pl-default-tree": ("PennyLane default.qubit, tree-traversal",
                        lambda p, t, r, threads: PennyLaneVectors(p, r, "default.qubit", "tree-traversal")),
    "pl-lightning-deferred": ("PennyLane lightning.qubit, deferred",
                              lambda p, t, r, threads: PennyLaneVectors(p, r, "lightning.qubit", "deferred")),
    "pl-lightning-tree": ("PennyLane lightning.qubit, tree-traversal",
                          lambda p, t, r, threads: PennyLaneVectors(p, r, "lightning.qubit", "tree-traversal")),
    "aer-statevector": ("Qiskit Aer statevector, outcomes averaged exactly",
                        lambda p, t, r, threads: AerStatevector(t, r, threads)),
}
PURE_GROWTH = 16  # 4^n: 2n wires (deferred), or 2^n branches of 2^n amplitudes
PURE_VERSIONS_REPORTED = ("pennylane", "pennylane-lightning", "qiskit", "qiskit-aer", "numpy", "scipy")


def pure_stem(work, n, batch):
    return os.path.join(work, "pure_n{}_B{}".format(n, batch))


def pure_case_main(args):
    """The child: one (peer, n, batch), forward only (cases.serve)."""
    import numpy as np
    stem = pure_stem(args.work, args.n, args.batch)

    def setup():
        with open(os.path.join(args.work, "pure_n{}_branch0.qasm".format(args.n))) as f:
            text = f.read()
        program = Program(text)
        assert program.qubits == args.n, (program.qubits, args.n)
        with open(os.path.join(args.work, "pure-hqrn.json")) as f:
            readout_qubits = json.load(f)["readout_qubits"]
        peer = PURE_PEERS[args.peer][1](program, text, readout_qubits, args.threads)
        return peer, np.load(stem + "_inputs.npy")

    def forward(state):
        peer, states = state
        return peer.forward(states)

    cases.serve(setup, forward, lambda p: np.save("{}_{}.npy".format(stem, args.peer), p))


def pure_main(args):
    import numpy as np
    from importlib.metadata import version
    stops = cases.Stops(args.time_limit, args.memory_limit_gib * 2 ** 30, PURE_GROWTH)
    records = []
    for n in args.qubits:
        for batch in args.batches:
            stem = pure_stem(args.work, n, batch)
            reference = stem + "_readout.npy"
            expected = np.load(reference) if os.path.exists(reference) else None
            for key, (name, _) in PURE_PEERS.items():
                record = {"system": name, "n": n, "batch": batch, "max_abs_difference": None}
                why = stops.reason_to_skip(name, n, batch)
                if why:
                    stops.skipped(name, n, batch)
                    records.append(dict(record, status="skipped", note=why))
                    progress("{} n={} B={}: {}".format(name, n, batch, why))
                    continue
                result = cases.run([sys.executable, os.path.abspath(__file__), "--in-venv", "--case", "--peer", key,
                                    "--work", args.work, "--n", str(n), "--batch", str(batch),
                                    "--threads", str(args.threads)], args.time_limit, args.memory_limit_gib * 2 ** 30)
                stops.done(name, n, batch, result)
                record.update(result)
                if result["check_seconds"] is not None and expected is not None:
                    p = np.load("{}_{}.npy".format(stem, key))
                    record["max_abs_difference"] = difference = float(np.abs(p - expected).max())
                    if difference > TOLERANCE:
                        record["note"] = "disagrees with HQRN beyond {:g}".format(TOLERANCE)
                records.append(record)
                progress("{} n={} B={}: {}".format(name, n, batch, cases.describe(record)))
    meta = {"versions": {name: version(name) for name in PURE_VERSIONS_REPORTED}, "pins": PINS,
            "tolerance": TOLERANCE, "time_limit_seconds": args.time_limit,
            "memory_limit_gib": args.memory_limit_gib, "growth_per_two_qubits": PURE_GROWTH,
            "skip_factor": cases.Stops.SKIP_FACTOR,
            "peer_settings": {name: " ".join(cls.__doc__.split())
                              for name, cls in (("PennyLane", PennyLaneVectors), ("Qiskit Aer", AerStatevector))}}
    with open(os.path.join(args.work, "pure-peer-records.json"), "w") as f:
        json.dump({"meta": meta, "records": records}, f, indent=1)


# ----------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--in-venv", action="store_true")
    parser.add_argument("--venv")
    parser.add_argument("--work", required=True)
    parser.add_argument("--qubits", type=int, nargs="+")
    parser.add_argument("--batches", type=int, nargs="+")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pure", action="store_true")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--memory-limit-gib", type=float, default=8.0)
    parser.add_argument("--case", action="store_true")  # --pure's child: one case
    parser.add_argument("--peer", choices=list(PURE_PEERS))
    parser.add_argument("--n", type=int)
    parser.add_argument("--batch", type=int)
    args = parser.parse_args()
    if args.in_venv and args.case:
        return pure_case_main(args)
    if not (args.qubits and args.batches):
        parser.error("--qubits and --batches are required")
    if args.in_venv:
        return pure_main(args) if args.pure else in_venv_main(args)
    python = support.ensure_venv(os.path.abspath(args.venv), PINS, ("pennylane", "qiskit_aer", "qiskit.qasm3",
                                                                     "qutip"), "run-peer-benchmarks",
                                 pip_options=("--only-binary=:all:",))
    sys.stdout.flush()
    os.execv(python, [python, os.path.abspath(__file__), "--in-venv"] + sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
