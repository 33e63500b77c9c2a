"""The two executions of the hqrn tool must behave the same.

`--exec aware` (coherence-aware, the default) and `--exec dense` (full
density matrices) are two ways to compute one thing. This test runs every
command on small digits and state inputs under each execution, in separate
folders, and compares: exit codes, error messages, printed lines (paths
normalised), and outputs (histories, evaluations, predictions, checkpoints
through their predictions) to 1e-12; exported programs and generated states
byte for byte. It also checks the refusal of quantum-only fine-tuning on
classical inputs (issue: it used to fail under aware with LibTorch's internal
autograd message and train under dense).

Usage: /usr/bin/python3 test_cli_exec_parity.py PATH_TO_HQRN
Standard library and NumPy only. Last line: 'N passed, N failed'.
"""

import csv
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

import numpy as np

HQRN = None
WORK = None
SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXECUTIONS = ("aware", "dense")
# Decimal numbers in a program's text (angles, and the register sizes, which are compared too).
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
TOLERANCE = 1e-12

# (name, arguments). {D}: small digits CSV, {S}/{T}: train/test state CSVs,
# shared by both runs; every other relative path lands in the run's folder.
# Scenarios run in order, so later ones may use earlier outputs.
SCENARIOS = [
    ("classical digits", ["train", "--task", "digits", "--data", "{D}", "--model", "classical", "--epochs", "1",
                          "--seed", "1", "--quiet", "--out", "c.pt"]),
    ("translate", ["translate", "--from", "c.pt", "--out", "q.pt"]),
    ("hqrn digits from --init", ["train", "--task", "digits", "--data", "{D}", "--model", "hqrn", "--init", "q.pt",
                                 "--epochs", "1", "--quiet", "--out", "ft_all.pt"]),
    ("freeze on digits", ["train", "--task", "digits", "--data", "{D}", "--model", "hqrn", "--init", "q.pt",
                          "--freeze-classical", "--epochs", "1", "--quiet", "--out", "ft.pt"]),
    ("freeze in classical mode", ["train", "--task", "entanglement", "--data", "{S}", "--model", "hqrn",
                                  "--mode", "classical", "--freeze-classical", "--epochs", "1", "--quiet",
                                  "--out", "fc.pt"]),
    ("hqrn digits", ["train", "--task", "digits", "--data", "{D}", "--model", "hqrn", "--blocks", "1",
                     "--epochs", "1", "--seed", "2", "--quiet", "--out", "h.pt"]),
    ("eval digits quantum", ["eval", "--model", "h.pt", "--data", "{D}", "--mode", "quantum",
                             "--json", "h_q.json", "--predictions", "h_q.csv"]),
    ("eval digits classical", ["eval", "--model", "h.pt", "--data", "{D}", "--mode", "classical",
                               "--json", "h_c.json", "--predictions", "h_c.csv"]),
    ("hqrn states", ["train", "--task", "entanglement", "--data", "{S}", "--test-data", "{T}", "--model", "hqrn",
                     "--branches", "2", "--hidden", "8", "--epochs", "1", "--seed", "3", "--quiet",
                     "--out", "e.pt"]),
    ("freeze on states", ["train", "--task", "entanglement", "--data", "{S}", "--model", "hqrn", "--init", "e.pt",
                          "--freeze-classical", "--epochs", "1", "--quiet", "--out", "ef.pt"]),
    ("classical states", ["train", "--task", "entanglement", "--data", "{S}", "--model", "classical",
                          "--branches", "2", "--hidden", "8", "--epochs", "1", "--quiet", "--out", "ec.pt"]),
    ("translate states", ["translate", "--from", "ec.pt", "--out", "eq.pt"]),
    ("freeze translated on states", ["train", "--task", "entanglement", "--data", "{S}", "--model", "hqrn",
                                     "--init", "eq.pt", "--freeze-classical", "--epochs", "1", "--quiet",
                                     "--out", "eqf.pt"]),
    ("eval states quantum", ["eval", "--model", "ef.pt", "--data", "{T}", "--json", "e_q.json",
                             "--predictions", "e_q.csv", "--readout", "e_q_readout.csv"]),
    ("eval states classical", ["eval", "--model", "eqf.pt", "--data", "{T}", "--mode", "classical",
                               "--json", "e_c.json", "--predictions", "e_c.csv"]),
    ("export-qasm", ["export-qasm", "--model", "ef.pt", "--out", "prog"]),
    ("gen-states", ["gen-states", "--family", "adversarial-dephased", "--n", "20", "--seed", "3",
                    "--out", "g.csv"]),
    ("eval wrong data kind", ["eval", "--model", "h.pt", "--data", "{T}", "--json", "bad.json"]),
    ("eval states on digits", ["eval", "--model", "e.pt", "--data", "{D}"]),
    ("eval missing file", ["eval", "--model", "missing.pt", "--data", "{T}"]),
    ("train missing data", ["train", "--task", "entanglement", "--data", "missing.csv", "--model", "hqrn",
                            "--epochs", "1", "--out", "m.pt"]),
    ("classical checkpoint in quantum mode", ["eval", "--model", "c.pt", "--data", "{D}", "--mode", "quantum"]),
]


def folder(execution):
    return os.path.join(WORK, execution)


def run_in(execution, args, where=None):
    """hqrn --threads 1 ARGS --exec EXECUTION (the global option after the command) in the run's folder."""
    shared = {"{D}": os.path.join(WORK, "digits.csv"), "{S}": os.path.join(WORK, "train.csv"),
              "{T}": os.path.join(WORK, "test.csv")}
    argv = [HQRN, "--threads", "1"] + [shared.get(a, a) for a in args] + ["--exec", execution]
    return subprocess.run(argv, cwd=where or folder(execution), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=600)


def normalise(text, execution):
    """Removes what legitimately differs between runs: folders, timings and durations."""
    text = text.replace(folder(execution), "<run>").replace(WORK, "<work>")
    text = re.sub(r"\d+(\.\d+)? ?s\b", "<time>", text)
    text = re.sub(r"\d+m\d+s", "<time>", text)
    return text


def read_json(path):
    with open(path) as f:
        return json.load(f)


def read_numeric_csv(path, skip_columns=()):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    keep = [i for i, name in enumerate(header) if name not in skip_columns]
    values = np.array([[float(r[i]) if r[i] != "" else np.nan for i in keep] for r in body], dtype=float)
    return [header[i] for i in keep], values


class ExecutionParity(unittest.TestCase):
    results = {}

    @classmethod
    def setUpClass(cls):
        with gzip.open(os.path.join(SOURCE_DIR, "data", "digits.csv.gz"), "rt") as f:
            lines = [line for line in f if line.strip()][:160]
        with open(os.path.join(WORK, "digits.csv"), "w") as f:
            f.writelines(lines)
        for name, n, seed in (("train.csv", 120, 11), ("test.csv", 60, 12)):
            proc = subprocess.run([HQRN, "--threads", "1", "gen-states", "--family", "random", "--n", str(n),
                                   "--seed", str(seed), "--out", os.path.join(WORK, name)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
            assert proc.returncode == 0, proc.stderr
        for execution in EXECUTIONS:
            os.makedirs(folder(execution))
            cls.results[execution] = [run_in(execution, args) for _, args in SCENARIOS]

    def pairs(self):
        for k, (name, _) in enumerate(SCENARIOS):
            yield name, self.results["aware"][k], self.results["dense"][k]

    def test_same_exit_codes_and_messages(self):
        for name, aware, dense in self.pairs():
            with self.subTest(scenario=name):
                self.assertEqual(aware.returncode, dense.returncode,
                                 "{}: aware stderr:\n{}\ndense stderr:\n{}".format(name, aware.stderr, dense.stderr))
                self.assertEqual(normalise(aware.stderr, "aware"), normalise(dense.stderr, "dense"))
                self.assertEqual(normalise(aware.stdout, "aware"), normalise(dense.stdout, "dense"))

    def test_bad_input_fails_cleanly(self):
        expected_failures = {"freeze on digits", "freeze in classical mode", "eval wrong data kind",
                             "eval states on digits", "eval missing file", "train missing data",
                             "classical checkpoint in quantum mode"}
        for name, aware, dense in self.pairs():
            with self.subTest(scenario=name):
                for proc in (aware, dense):
                    if name in expected_failures:
                        self.assertEqual(proc.returncode, 2, proc.stderr)
                        self.assertTrue(proc.stderr.startswith("error: "), proc.stderr)
                        self.assertNotIn("does not require grad", proc.stderr)
                    else:
                        self.assertEqual(proc.returncode, 0, "{}:\n{}".format(name, proc.stderr))

    def test_quantum_only_fine_tuning_on_classical_inputs_is_refused_with_the_reason(self):
        k = [name for name, _ in SCENARIOS].index("freeze on digits")
        for execution in EXECUTIONS:
            stderr = self.results[execution][k].stderr
            for part in ("--freeze-classical", "quantum", "diagonal", "exactness theorem", "V, a"):
                self.assertIn(part, stderr)
            self.assertFalse(os.path.exists(os.path.join(folder(execution), "ft.pt")))

    def test_outputs_agree(self):
        histories = ["c.pt", "ft_all.pt", "h.pt", "e.pt", "ef.pt", "ec.pt", "eqf.pt"]
        for ckpt in histories:
            with self.subTest(history=ckpt):
                a_header, a = read_numeric_csv(os.path.join(folder("aware"), ckpt + ".history.csv"), ["seconds"])
                d_header, d = read_numeric_csv(os.path.join(folder("dense"), ckpt + ".history.csv"), ["seconds"])
                self.assertEqual(a_header, d_header)
                np.testing.assert_allclose(a, d, rtol=0, atol=TOLERANCE, equal_nan=True)
        for prefix in ("h_q", "h_c", "e_q", "e_c"):
            with self.subTest(eval=prefix):
                a, d = (read_json(os.path.join(folder(e), prefix + ".json")) for e in EXECUTIONS)
                for key in ("accuracy", "loss", "n"):
                    self.assertLessEqual(abs(a[key] - d[key]), TOLERANCE, key)
                self.assertEqual(a["mode"], d["mode"])
                _, pa = read_numeric_csv(os.path.join(folder("aware"), prefix + ".csv"))
                _, pd = read_numeric_csv(os.path.join(folder("dense"), prefix + ".csv"))
                np.testing.assert_allclose(pa, pd, rtol=0, atol=TOLERANCE)
        with self.subTest(readout="e_q_readout.csv"):
            (ha, ra), (hd, rd) = (read_numeric_csv(os.path.join(folder(e), "e_q_readout.csv")) for e in EXECUTIONS)
            self.assertEqual(ha, hd)
            np.testing.assert_allclose(ra, rd, rtol=0, atol=TOLERANCE)
        for name in sorted(os.listdir(folder("aware"))):
            if name.startswith("prog") or name == "g.csv":
                with self.subTest(file=name):
                    with open(os.path.join(folder("aware"), name)) as fa, open(os.path.join(folder("dense"), name)) as fd:
                        a, d = fa.read(), fd.read()
                    if name == "g.csv":  # generated data: no simulation involved
                        self.assertEqual(a, d)
                        continue
                    # Exported programs of checkpoints trained under each execution: the same text, with
                    # angles equal to TOLERANCE (the executions sum gradients in different orders).
                    self.assertEqual(NUMBER.sub("#", a), NUMBER.sub("#", d))
                    np.testing.assert_allclose([float(x) for x in NUMBER.findall(a)],
                                               [float(x) for x in NUMBER.findall(d)], rtol=0, atol=TOLERANCE)

    def test_checkpoints_agree_through_their_predictions(self):
        # Each run's checkpoints, evaluated the same way (dense, from one folder).
        data = {"c.pt": "{D}", "q.pt": "{D}", "ft_all.pt": "{D}", "h.pt": "{D}", "e.pt": "{T}", "ef.pt": "{T}",
                "ec.pt": "{T}", "eq.pt": "{T}", "eqf.pt": "{T}"}
        for ckpt, inputs in data.items():
            with self.subTest(checkpoint=ckpt):
                predictions = []
                for execution in EXECUTIONS:
                    out = os.path.join(WORK, "{}_{}.csv".format(execution, ckpt))
                    proc = run_in("dense", ["eval", "--model", os.path.join(folder(execution), ckpt),
                                            "--data", inputs, "--predictions", out], where=WORK)
                    self.assertEqual(proc.returncode, 0, proc.stderr)
                    predictions.append(read_numeric_csv(out)[1])
                np.testing.assert_allclose(predictions[0], predictions[1], rtol=0, atol=TOLERANCE)


def main():
    global HQRN, WORK
    if len(sys.argv) < 2:
        sys.exit("usage: test_cli_exec_parity.py PATH_TO_HQRN")
    HQRN = os.path.abspath(sys.argv.pop(1))
    with tempfile.TemporaryDirectory(prefix="hqrn_parity_") as work:
        WORK = work
        result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print("{} passed, {} failed".format(result.testsRun - failed, failed))
    sys.exit(1 if failed or not result.wasSuccessful() else 0)


if __name__ == "__main__":
    main()
