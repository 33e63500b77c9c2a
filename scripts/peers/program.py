"""An exported HQRN branch program (`hqrn export-qasm`) as a list of gates (standard library only).

The peers without an OpenQASM 3 importer (PennyLane, QuTiP) build their
circuits from this list. Only what the exporter writes is accepted: ry, rz,
cry, crz with a literal angle and `c[k] = measure q[k];`; anything else is an
error rather than silently skipped.

The rotation angles are the network's weights with a sign: per target j the
program has rz(-+a_j), crz(-+V_ji), ry(b_j), cry(W_ji), rz(+-a_j), crz(+-V_ji).
Each gate is tied to its weight by name (a[j], V[j,i], b[j], W[j,i]) so that a
peer differentiates with respect to the weights, as HQRN does: the weight's
value is its first gate's angle, and `sign` relates every later gate to it.
"""

import re

GATE = re.compile(r"^(ry|rz|cry|crz)\(([-+0-9.eE]+)\) q\[(\d+)\](?:, q\[(\d+)\])?;$")
MEASURE = re.compile(r"^c\[(\d+)\] = measure q\[(\d+)\];$")
QUBITS = re.compile(r"^qubit\[(\d+)\] q;$")
HEADER = ("OPENQASM 3.0;", 'include "stdgates.inc";')
WEIGHT_OF = {"ry": "b", "rz": "a", "cry": "W", "crz": "V"}


class Gate:
    def __init__(self, kind, target, control=None, angle=0.0):
        self.kind, self.target, self.control, self.angle = kind, target, control, angle
        self.weight = None  # name of the weight the angle is, e.g. "W[2,0]"
        self.sign = 1.0  # angle = sign * value of the weight's first gate


class Program:
    def __init__(self, text):
        self.qubits = None
        self.gates = []  # Gate, or ("measure", qubit)
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("//") or line in HEADER or line.startswith("bit["):
                continue
            if QUBITS.match(line):
                self.qubits = int(QUBITS.match(line).group(1))
            elif GATE.match(line):
                kind, angle, first, second = GATE.match(line).groups()
                if kind.startswith("c"):
                    self.gates.append(Gate(kind, int(second), int(first), float(angle)))
                else:
                    self.gates.append(Gate(kind, int(first), None, float(angle)))
            elif MEASURE.match(line):
                self.gates.append(("measure", int(MEASURE.match(line).group(2))))
            else:
                raise ValueError("not a line the HQRN exporter writes: " + line)
        self.weights = {}  # weight name -> value (its first gate's angle), in program order
        for gate in self.rotations():
            if gate.control is None:
                gate.weight = "{}[{}]".format(WEIGHT_OF[gate.kind], gate.target)
            else:
                gate.weight = "{}[{},{}]".format(WEIGHT_OF[gate.kind], gate.target, gate.control)
            first = self.weights.setdefault(gate.weight, gate.angle)
            if first != 0.0:
                gate.sign = gate.angle / first
            if abs(abs(gate.sign) - 1.0) > 1e-12:
                raise ValueError("{}: angle {} is not +-{}".format(gate.weight, gate.angle, first))

    def rotations(self):
        return [g for g in self.gates if isinstance(g, Gate)]

    def weight_names(self):
        return list(self.weights)
