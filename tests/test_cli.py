"""End-to-end tests of the hqrn command-line tool.

Runs the built binary as a user would: --help of every command, gen-states
(checked independently with NumPy), train -> translate -> eval (the exactness
theorem end to end), entanglement training on state files, export-qasm, bad
inputs, resume (also after SIGKILL), determinism and the quick demo.

Usage: /usr/bin/python3 test_cli.py PATH_TO_HQRN
Uses only the standard library and NumPy; every file goes to a temporary
directory. The last line is 'N passed, N failed'; exits non-zero on failure.
Tiny settings (--threads 1, one epoch, a few hundred states) keep it to about
a minute on two cores.
"""

import csv
import gzip
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import zlib

import numpy as np

import python_test_support as support

HQRN = None  # path of the binary (argv[1])
WORK = None  # the run's temporary directory
SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIGITS_GZ = os.path.join(SOURCE_DIR, "data", "digits.csv.gz")
FAMILIES = ("random", "adversarial-dephased", "adversarial-marginal")
COMMAND_TIMEOUT = 300


# ----------------------------------------------------------------------------
# Helpers


def run(args, timeout=COMMAND_TIMEOUT):
    """Runs hqrn --threads 1 ARGS; returns the CompletedProcess (text)."""
    return subprocess.run([HQRN, "--threads", "1"] + [str(a) for a in args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout)


def describe(proc):
    return "command: {}\nexit status: {}\nstdout:\n{}\nstderr:\n{}".format(
        " ".join(proc.args), proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])


def run_ok(test, args, timeout=COMMAND_TIMEOUT):
    proc = run(args, timeout)
    test.assertEqual(proc.returncode, 0, describe(proc))
    return proc


def path(*parts):
    p = os.path.join(WORK, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def read_bytes(p):
    with open(p, "rb") as f:
        return f.read()


def load_state_csv(p):
    """(labels [N] int, states [N, d, d] complex128) from a state CSV (plain or gzip)."""
    raw = read_bytes(p)
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    rows = [line.split(",") for line in raw.decode().splitlines() if line.strip()]
    table = np.array([[float(v) for v in row] for row in rows], dtype=np.float64)
    labels = table[:, 0]
    fields = table.shape[1] - 1
    d = int(round((fields // 2) ** 0.5))
    assert 2 * d * d == fields, "row length {} is not 1 + 2*d*d".format(table.shape[1])
    values = table[:, 1:].reshape(-1, d * d, 2)
    states = (values[..., 0] + 1j * values[..., 1]).reshape(-1, d, d)
    return labels, states


def partial_transpose_b(rho):
    """rho[2a+b, 2a'+b'] -> rho[2a+b', 2a'+b] (qubit 0 = A is the most significant bit)."""
    r = rho.reshape(2, 2, 2, 2)  # a, b, a', b'
    return r.transpose(0, 3, 2, 1).reshape(4, 4)


def reduced_a(rho):
    return np.einsum("abcb->ac", rho.reshape(2, 2, 2, 2))


def reduced_b(rho):
    return np.einsum("abad->bd", rho.reshape(2, 2, 2, 2))


def read_predictions(p):
    """(header, labels [N] int, predicted [N] int, probabilities [N, C], raw data lines)."""
    with open(p) as f:
        text = f.read()
    lines = text.splitlines()
    header = lines[0].split(",")
    body = [line for line in lines[1:] if line.strip()]
    table = np.array([[float(v) for v in line.split(",")] for line in body], dtype=np.float64)
    return header, table[:, 0].astype(np.int64), table[:, 1].astype(np.int64), table[:, 2:], body


def digits_rows(n):
    """The first n rows of the shipped digits (64 features then a label) as text lines."""
    with gzip.open(DIGITS_GZ, "rt") as f:
        lines = [line.strip() for line in f if line.strip()]
    return lines[:n]


def write_text(p, text):
    with open(p, "w") as f:
        f.write(text)
    return p


# Shared fixtures, built once on first use.
_cache = {}


def small_digits_csv():
    """60 digits rows as a classical CSV."""
    if "digits" not in _cache:
        _cache["digits"] = write_text(path("shared", "digits_small.csv"), "\n".join(digits_rows(60)) + "\n")
    return _cache["digits"]


def digits_classical_checkpoint(test):
    """A classical analog trained one epoch on the digits (one block)."""
    if "digits_ckpt" not in _cache:
        out = path("shared", "digits_classical.pt")
        run_ok(test, ["train", "--task", "digits", "--model", "classical", "--epochs", "1", "--blocks", "1",
                      "--seed", "0", "--quiet", "--out", out])
        _cache["digits_ckpt"] = out
    return _cache["digits_ckpt"]


def entanglement_checkpoint(test):
    """An HQRN trained one epoch on 200 generated random states."""
    if "ent_ckpt" not in _cache:
        train_csv = path("shared", "ent_train.csv")
        test_csv = path("shared", "ent_test.csv")
        run_ok(test, ["gen-states", "--family", "random", "--n", "200", "--seed", "1", "--out", train_csv])
        run_ok(test, ["gen-states", "--family", "random", "--n", "100", "--seed", "2", "--out", test_csv])
        out = path("shared", "ent_hqrn.pt")
        run_ok(test, ["train", "--task", "entanglement", "--model", "hqrn", "--data", train_csv, "--test-data",
                      test_csv, "--epochs", "1", "--seed", "0", "--quiet", "--out", out])
        _cache["ent_ckpt"] = out
    return _cache["ent_ckpt"]


# ----------------------------------------------------------------------------
# 1. --help


class HelpTest(unittest.TestCase):
    OPTIONS = {
        None: ["--threads", "demo", "train", "translate", "eval", "gen-states", "gen-phases", "export-qasm", "study",
               "convert-checkpoint"],
        "demo": ["--out", "--quick", "--seed", "--no-plots"],
        "train": ["--task", "--model", "--data", "--test-data", "--family", "--n-train", "--n-test", "--data-seed", "--spins",
                  "--init", "--freeze-classical", "--mode", "--out", "--resume", "--epochs", "--batch-size", "--lr", "--constant-lr",
                  "--seed", "--blocks", "--ancillas", "--data-qubits", "--branches", "--readout",
                  "--readout-qubits", "--hidden", "--hidden-layers", "--init-std", "--noise", "--quiet"],
        "translate": ["--from", "--out"],
        "convert-checkpoint": ["--from", "--out"],
        "eval": ["--model", "--data", "--mode", "--json", "--predictions", "--readout", "--noise", "--shots",
                 "--shot-seeds", "--seed"],
        "gen-states": ["--family", "--n", "--seed", "--out"],
        "gen-phases": ["--spins", "--set", "--points", "--h2-points", "--min-gap", "--skip-degenerate", "--out"],
        "export-qasm": ["--model", "--out"],
        "study noise": ["--out", "--quick", "--seed", "--shot-seeds", "--no-plots"],
        "study phases": ["--out", "--spins", "--shots", "--shot-seeds", "--line-points", "--plane-points",
                         "--twin-pairs", "--epochs", "--quick", "--seed", "--no-plots"],
    }

    def test_help_of_tool_and_every_subcommand(self):
        for sub, options in self.OPTIONS.items():
            with self.subTest(subcommand=sub):
                args = ["--help"] if sub is None else sub.split() + ["--help"]
                proc = subprocess.run([HQRN] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      universal_newlines=True, timeout=60)
                self.assertEqual(proc.returncode, 0, describe(proc))
                text = proc.stdout + proc.stderr
                for option in options:
                    self.assertRegex(text, r"(^|[\s,])" + re.escape(option) + r"(?=[\s,=]|$)",
                                     "{} --help does not mention {}".format(sub or "hqrn", option))

    def test_no_subcommand_is_an_error(self):
        proc = subprocess.run([HQRN], stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                              timeout=60)
        self.assertGreater(proc.returncode, 0, describe(proc))


# ----------------------------------------------------------------------------
# 2. gen-states


class GenStatesTest(unittest.TestCase):
    N = 200

    def generate(self, family, seed, name=None, n=None):
        out = path("gen", name or "{}_{}.csv".format(family, seed))
        run_ok(self, ["gen-states", "--family", family, "--n", n or self.N, "--seed", seed, "--out", out])
        return out

    def check_states(self, labels, states):
        n = len(labels)
        self.assertEqual(states.shape, (n, 4, 4))
        self.assertTrue(np.all(np.isin(labels, [0, 1])), "labels must be 0 or 1")
        self.assertEqual(int(labels.sum()), n // 2, "labels are not balanced")
        for i, rho in enumerate(states):
            self.assertLess(np.abs(rho - rho.conj().T).max(), 1e-12, "state {} is not Hermitian".format(i))
            self.assertLess(abs(np.trace(rho) - 1), 1e-12, "state {} does not have unit trace".format(i))
            herm = (rho + rho.conj().T) / 2
            self.assertGreater(np.linalg.eigvalsh(herm).min(), -1e-12, "state {} is not PSD".format(i))
            # PPT criterion (exact for two qubits), computed here independently.
            min_pt = np.linalg.eigvalsh(partial_transpose_b(herm)).min()
            if abs(min_pt) > 1e-9:  # leave states numerically on the boundary alone
                self.assertEqual(int(labels[i]), int(min_pt < 0),
                                 "state {}: label {} but min eigenvalue of the partial transpose {}".format(
                                     i, labels[i], min_pt))

    def test_every_family_has_valid_balanced_ppt_labelled_states(self):
        for family in FAMILIES:
            with self.subTest(family=family):
                out = self.generate(family, 5)
                with open(out) as f:
                    rows = [line for line in f.read().splitlines() if line.strip()]
                self.assertEqual(len(rows), self.N)
                for row in rows:
                    self.assertEqual(len(row.split(",")), 1 + 2 * 16)
                labels, states = load_state_csv(out)
                self.check_states(labels, states)

    def test_adversarial_dephased_pairs(self):
        labels, states = load_state_csv(self.generate("adversarial-dephased", 6))
        for i in range(self.N // 2):
            ent, twin = states[2 * i], states[2 * i + 1]
            self.assertEqual((labels[2 * i], labels[2 * i + 1]), (1, 0), "pair {}".format(i))
            self.assertLess(np.abs(np.diag(ent) - np.diag(twin)).max(), 1e-15, "pair {}: diagonals differ".format(i))
            off = twin - np.diag(np.diag(twin))
            self.assertEqual(np.abs(off).max(), 0.0, "pair {}: the twin is not diagonal".format(i))
            self.assertLess(np.linalg.eigvalsh(partial_transpose_b(ent)).min(), -1e-12)

    def test_adversarial_marginal_pairs(self):
        labels, states = load_state_csv(self.generate("adversarial-marginal", 7))
        for i in range(self.N // 2):
            ent, twin = states[2 * i], states[2 * i + 1]
            self.assertEqual((labels[2 * i], labels[2 * i + 1]), (1, 0), "pair {}".format(i))
            ra, rb = reduced_a(ent), reduced_b(ent)
            self.assertLess(np.abs(twin - np.kron(ra, rb)).max(), 1e-12, "pair {}: twin != rho_A (x) rho_B".format(i))
            self.assertLess(np.abs(reduced_a(twin) - ra).max(), 1e-12, "pair {}: rho_A differs".format(i))
            self.assertLess(np.abs(reduced_b(twin) - rb).max(), 1e-12, "pair {}: rho_B differs".format(i))

    def test_seed_determines_the_file(self):
        for family in FAMILIES:
            with self.subTest(family=family):
                a = self.generate(family, 11, name="{}_a.csv".format(family))
                b = self.generate(family, 11, name="{}_b.csv".format(family))
                c = self.generate(family, 12, name="{}_c.csv".format(family))
                self.assertEqual(read_bytes(a), read_bytes(b), "same seed gave different files")
                self.assertNotEqual(read_bytes(a), read_bytes(c), "different seeds gave the same file")

    def test_gzip_output(self):
        plain = self.generate("random", 13, name="plain.csv", n=50)
        gz = self.generate("random", 13, name="packed.csv.gz", n=50)
        raw = read_bytes(gz)
        self.assertEqual(raw[:2], b"\x1f\x8b", "a .gz output is not gzip-compressed")
        self.assertEqual(gzip.decompress(raw), read_bytes(plain), ".gz content differs from the plain file")
        labels, states = load_state_csv(gz)
        self.check_states(labels, states)
        # The tool reads its own .gz output back.
        ckpt = entanglement_checkpoint(self)
        proc = run_ok(self, ["eval", "--model", ckpt, "--data", gz, "--json", path("gen", "gz_eval.json")])
        with open(path("gen", "gz_eval.json")) as f:
            self.assertEqual(json.load(f)["n"], 50, describe(proc))


# ----------------------------------------------------------------------------
# 3. digits: train -> translate -> eval (the exactness theorem end to end)


class DigitsPipelineTest(unittest.TestCase):
    def eval_model(self, model, name, mode=None):
        data = small_digits_csv()
        js, pred = path("digits", name + ".json"), path("digits", name + ".pred.csv")
        args = ["eval", "--model", model, "--data", data, "--json", js, "--predictions", pred]
        if mode:
            args += ["--mode", mode]
        run_ok(self, args)
        with open(js) as f:
            result = json.load(f)
        header, labels, predicted, probs, _ = read_predictions(pred)
        expected_labels = np.array([int(float(r.split(",")[-1])) for r in digits_rows(60)])
        self.assertEqual(header, ["label", "predicted"] + ["p{}".format(c) for c in range(10)])
        self.assertEqual(len(labels), 60, "one prediction row per sample")
        np.testing.assert_array_equal(labels, expected_labels)
        np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-9, err_msg="probabilities do not sum to 1")
        self.assertTrue(np.all(probs >= 0))
        np.testing.assert_array_equal(predicted, probs.argmax(1), err_msg="predicted != argmax")
        self.assertEqual(result["n"], 60)
        self.assertAlmostEqual(result["accuracy"], float((predicted == labels).mean()), places=12)
        self.assertIn("loss", result)
        return result, probs

    def test_train_translate_eval(self):
        classical = digits_classical_checkpoint(self)
        hist = classical + ".history.csv"
        self.assertTrue(os.path.exists(hist), "no history CSV next to the checkpoint")
        with open(hist) as f:
            self.assertEqual(f.readline().strip(), "epoch,loss,train_accuracy,test_accuracy,seconds")
        hqrn = path("digits", "hqrn.pt")
        run_ok(self, ["translate", "--from", classical, "--out", hqrn])
        r_c, p_c = self.eval_model(classical, "classical")
        r_q, p_q = self.eval_model(hqrn, "hqrn_quantum")
        r_qc, p_qc = self.eval_model(hqrn, "hqrn_classical", mode="classical")
        self.assertEqual(r_q.get("mode"), "quantum")
        self.assertEqual(r_qc.get("mode"), "classical")
        np.testing.assert_allclose(p_q, p_c, rtol=0, atol=1e-10,
                                   err_msg="HQRN (quantum mode) differs from its classical analog")
        np.testing.assert_allclose(p_qc, p_c, rtol=0, atol=1e-10,
                                   err_msg="HQRN (classical mode) differs from its classical analog")
        self.assertEqual(r_q["accuracy"], r_c["accuracy"])

    def test_classical_checkpoint_refuses_quantum_mode(self):
        proc = run(["eval", "--model", digits_classical_checkpoint(self), "--data", small_digits_csv(),
                    "--mode", "quantum"])
        self.assertGreater(proc.returncode, 0, describe(proc))
        self.assertIn("classical", proc.stderr.lower(), describe(proc))


# ----------------------------------------------------------------------------
# 4. entanglement on state files, export-qasm


class EntanglementTest(unittest.TestCase):
    QASM_LINE = re.compile(
        r"^(OPENQASM 3(\.0)?;"
        r"|include \"[^\"]+\";"
        r"|//.*"
        r"|qubit\[\d+\] \w+;"
        r"|bit\[\d+\] \w+;"
        r"|(ry|rz)\([^()]+\) \w+\[\d+\];"
        r"|(cry|crz)\([^()]+\) \w+\[\d+\], \w+\[\d+\];"
        r"|(\w+\[\d+\] = )?measure \w+\[\d+\];"
        r")$")

    def test_train_on_files_and_eval(self):
        ckpt = entanglement_checkpoint(self)
        with open(ckpt + ".history.csv") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(len(rows), 1)
        self.assertNotEqual(rows[0]["test_accuracy"], "", "--test-data given but no test accuracy recorded")
        eval_csv = path("ent", "eval.csv")
        run_ok(self, ["gen-states", "--family", "adversarial-dephased", "--n", "100", "--seed", "3", "--out", eval_csv])
        js, pred_q, pred_c = path("ent", "eval.json"), path("ent", "pred_q.csv"), path("ent", "pred_c.csv")
        run_ok(self, ["eval", "--model", ckpt, "--data", eval_csv, "--json", js, "--predictions", pred_q])
        run_ok(self, ["eval", "--model", ckpt, "--data", eval_csv, "--mode", "classical", "--predictions", pred_c])
        with open(js) as f:
            result = json.load(f)
        self.assertEqual(result["n"], 100)
        self.assertTrue(0 <= result["accuracy"] <= 1)
        header, labels, predicted, p_q, _ = read_predictions(pred_q)
        self.assertEqual(header, ["label", "predicted", "p0", "p1"])
        self.assertEqual(len(labels), 100)
        np.testing.assert_allclose(p_q.sum(1), 1.0, atol=1e-9)
        np.testing.assert_array_equal(predicted, p_q.argmax(1))
        self.assertAlmostEqual(result["accuracy"], float((predicted == labels).mean()), places=12)
        # The experiment's metrics, recomputed from the predictions.
        self.assertEqual(result["task"], "entanglement")
        recall = [float((predicted[labels == c] == c).mean()) for c in (0, 1)]
        self.assertAlmostEqual(result["balanced_accuracy"], sum(recall) / 2, places=12)
        self.assertAlmostEqual(result["entangled_recall"], recall[1], places=12)
        _, _, _, p_c, _ = read_predictions(pred_c)
        # Classical mode sees diag(rho) only: a state and its dephased twin look the same.
        np.testing.assert_allclose(p_c[0::2], p_c[1::2], rtol=0, atol=1e-12)
        # On the diagonal twins, quantum mode equals classical mode (exactness theorem).
        np.testing.assert_allclose(p_q[1::2], p_c[1::2], rtol=0, atol=1e-10)
        # Dense execution (full density matrices) gives the same numbers as the default aware one.
        pred_dense = path("ent", "pred_dense.csv")
        run_ok(self, ["--exec", "dense", "eval", "--model", ckpt, "--data", eval_csv, "--predictions", pred_dense])
        _, _, _, p_dense, _ = read_predictions(pred_dense)
        np.testing.assert_allclose(p_dense, p_q, rtol=0, atol=1e-12)

    def test_eval_readout_is_the_heads_input(self):
        # --readout writes every branch's exact readout distribution per sample; the exported head applied to
        # them gives --predictions' class probabilities, and both executions write the same numbers.
        ckpt = entanglement_checkpoint(self)
        data = path("shared", "ent_test.csv")
        readout, dense, pred = path("readout", "aware.csv"), path("readout", "dense.csv"), path("readout", "pred.csv")
        run_ok(self, ["eval", "--model", ckpt, "--data", data, "--readout", readout, "--predictions", pred,
                      "--shots", "16", "--shot-seeds", "1"])
        run_ok(self, ["--exec", "dense", "eval", "--model", ckpt, "--data", data, "--readout", dense])
        prefix = path("readout", "net")
        run_ok(self, ["export-qasm", "--model", ckpt, "--out", prefix])
        with open(prefix + "_classical.json") as f:
            side = json.load(f)
        config, params = side["config"], side["parameters"]
        outcomes = 2 ** config["readout_qubits"]
        tables = []
        for p in (readout, dense):
            with open(p) as f:
                lines = f.read().splitlines()
            self.assertEqual(lines[0].split(","), ["sample", "branch"] + ["p{}".format(o) for o in range(outcomes)])
            tables.append(np.array([[float(v) for v in line.split(",")] for line in lines[1:]]))
        table = tables[0]
        n, k = 100, config["branches"]
        self.assertEqual(table.shape, (n * k, 2 + outcomes))
        np.testing.assert_array_equal(table[:, 0], np.repeat(np.arange(n), k))
        np.testing.assert_array_equal(table[:, 1], np.tile(np.arange(k), n))
        dist = table[:, 2:]
        self.assertGreaterEqual(dist.min(), 0.0)
        np.testing.assert_allclose(dist.sum(1), 1.0, rtol=0, atol=1e-12)
        np.testing.assert_allclose(tables[1], table, rtol=0, atol=1e-12)  # exact, whatever the execution or --shots
        self.assertEqual(config["readout"], "mlp")
        x = outcomes * dist.reshape(n, k * outcomes) - 1
        layers = sorted({int(name.split(".")[2]) for name in params if name.startswith("head.mlp.")})
        for i, layer in enumerate(layers):
            w, b = (params["head.mlp.{}.{}".format(layer, part)] for part in ("weight", "bias"))
            x = x @ np.array(w["values"]).reshape(w["shape"]).T + np.array(b["values"])
            if i + 1 < len(layers):
                x = np.maximum(x, 0)
        probs = np.exp(x - x.max(1, keepdims=True))
        probs /= probs.sum(1, keepdims=True)
        _, _, _, p_pred, _ = read_predictions(pred)
        np.testing.assert_allclose(probs, p_pred, rtol=0, atol=1e-9)

    def test_export_qasm(self):
        ckpt = entanglement_checkpoint(self)
        prefix = path("qasm", "net")
        proc = run_ok(self, ["export-qasm", "--model", ckpt, "--out", prefix])
        side = prefix + "_classical.json"
        self.assertTrue(os.path.exists(side), describe(proc))
        with open(side) as f:
            config = json.load(f)["config"]
        branches = config["branches"]
        files = sorted(n for n in os.listdir(os.path.dirname(prefix)) if n.endswith(".qasm"))
        self.assertEqual(files, sorted("net_branch{}.qasm".format(k) for k in range(branches)))
        for name in files:
            with open(os.path.join(os.path.dirname(prefix), name)) as f:
                lines = [line.strip() for line in f.read().splitlines() if line.strip()]
            self.assertTrue(lines[0].startswith("OPENQASM 3"), name)
            gates = 0
            for line in lines:
                self.assertRegex(line, self.QASM_LINE, "{}: unexpected line".format(name))
                gates += bool(re.match(r"c?r[yz]\(", line))
            self.assertGreater(gates, 0, "{}: no gates".format(name))
            self.assertTrue(any("measure" in line for line in lines), "{}: no measurement".format(name))


# ----------------------------------------------------------------------------
# 5. bad inputs


class BadInputTest(unittest.TestCase):
    def expect_error(self, args, *words, absent=()):
        """Exit status > 0 (not a signal) and every group of words (any of each tuple) on stderr."""
        proc = run(args)
        self.assertGreater(proc.returncode, 0, describe(proc))
        err = proc.stderr.lower()
        self.assertTrue(err.strip(), "no message on stderr\n" + describe(proc))
        for group in words:
            group = (group,) if isinstance(group, str) else group
            self.assertTrue(any(w.lower() in err for w in group),
                            "stderr names none of {}\n{}".format(group, describe(proc)))
        for p in absent:
            self.assertFalse(os.path.exists(p), "{} was written by a failing command".format(p))
        return proc

    def bad(self, name, text):
        return write_text(path("bad", name), text)

    def test_global_options_after_the_command_and_readable_ranges(self):
        # --threads and --exec are accepted after the command as well as before it.
        out = path("bad", "global_after.csv")
        proc = subprocess.run([HQRN, "gen-states", "--n", "4", "--out", out, "--exec", "dense", "--threads", "1"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        self.assertEqual(proc.returncode, 0, describe(proc))
        self.assertTrue(os.path.exists(out))
        gen = path("bad", "never_written.csv")
        cases = [
            (["--threads", "-3", "gen-states", "--n", "4", "--out", gen], ("--threads", "-3", ">= 0")),
            (["gen-states", "--n", "4", "--seed", "-3", "--out", gen], ("--seed", "-3", ">= 0")),
            (["gen-states", "--n", "0", "--out", gen], ("--n", ">= 2")),
            (["train", "--epochs", "-1", "--out", gen], ("--epochs", ">= 0")),
            (["train", "--batch-size", "0", "--out", gen], ("--batch-size", ">= 1")),
            (["train", "--lr", "0", "--out", gen], ("--lr", "> 0")),
            (["train", "--lr", "nan", "--out", gen], ("--lr", "not a number")),
            (["train", "--blocks", "2x", "--out", gen], ("blocks", "2x", "integer")),
            (["train", "--exec", "sparse", "--out", gen], ("--exec", "sparse")),
        ]
        for args, words in cases:
            with self.subTest(args=args):
                proc = self.expect_error(args, *words, absent=[gen])
                self.assertEqual(proc.returncode, 2, describe(proc))
                self.assertLess(len(proc.stderr), 400, describe(proc))

    def test_classical_csv_errors(self):
        model = digits_classical_checkpoint(self)
        js = path("bad", "never.json")
        row = digits_rows(1)[0].split(",")
        cases = {
            "missing": (path("bad", "no_such_file.csv"), ("no_such_file.csv",), ("cannot open", "no such", "missing",
                                                                               "not found", "exist")),
            "ragged": (self.bad("ragged.csv", ",".join(row) + "\n" + ",".join(row[:-2]) + "\n"), ("ragged.csv",),
                       ("field", "column", "length")),
            "non-numeric": (self.bad("text.csv", ",".join(row[:5] + ["abc"] + row[6:]) + "\n"), ("text.csv",),
                            ("abc", "number", "numeric")),
            "nan": (self.bad("nan.csv", ",".join(row[:5] + ["nan"] + row[6:]) + "\n"), ("nan.csv",),
                    ("nan", "finite")),
            "label 12": (self.bad("label12.csv", ",".join(row[:-1] + ["12"]) + "\n"), ("label12.csv",),
                         ("12",), ("label", "class")),
            "wrong feature count": (self.bad("features.csv", ",".join(row[:40] + [row[-1]]) + "\n"),
                                    ("features.csv",), ("feature", "64", "40")),
        }
        for case, (data, *words) in cases.items():
            with self.subTest(case=case):
                self.expect_error(["eval", "--model", model, "--data", data, "--json", js], *words, absent=[js])

    def test_training_data_errors(self):
        out = path("bad", "never.pt")
        row = digits_rows(1)[0].split(",")
        self.expect_error(["train", "--task", "digits", "--model", "classical", "--epochs", "1", "--quiet",
                           "--data", path("bad", "absent.csv"), "--out", out], "absent.csv", absent=[out])
        ragged = self.bad("train_ragged.csv", ",".join(row) + "\n" + ",".join(row[:-1]) + "\n")
        self.expect_error(["train", "--task", "digits", "--model", "classical", "--epochs", "1", "--quiet",
                           "--data", ragged, "--out", out], "train_ragged.csv", absent=[out])
        self.expect_error(["train", "--task", "entanglement", "--model", "hqrn", "--epochs", "1", "--quiet",
                           "--data", path("bad", "absent_states.csv"), "--out", out], "absent_states.csv",
                          absent=[out])

    def test_state_csv_errors(self):
        model = entanglement_checkpoint(self)
        good = path("bad", "good_states.csv")
        run_ok(self, ["gen-states", "--n", "4", "--seed", "1", "--out", good])
        with open(good) as f:
            first = f.read().splitlines()[0].split(",")
        non_herm = list(first)
        non_herm[3] = repr(float(non_herm[3]) + 0.3)  # Re rho[0,1] only: rho[1,0] unchanged
        big = ["0"] + ["0"] * 128
        big[1] = "1"  # |000><000|: a valid 3-qubit state
        nan = list(first)
        nan[5] = "nan"
        cases = {
            "row length": (self.bad("short_states.csv", ",".join(first[:30]) + "\n"), ("short_states.csv",),
                           ("field", "length", "2*d*d", "row")),
            "non-hermitian": (self.bad("nonherm.csv", ",".join(non_herm) + "\n"), ("nonherm.csv",), ("hermitian",)),
            "wrong qubit count": (self.bad("three_qubits.csv", ",".join(big) + "\n"), ("three_qubits.csv",),
                                  ("qubit", "dimension")),
            "nan": (self.bad("nan_states.csv", ",".join(nan) + "\n"), ("nan_states.csv",), ("nan", "finite")),
            "missing": (path("bad", "absent_states.csv"), ("absent_states.csv",)),
        }
        js = path("bad", "never_states.json")
        for case, (data, *words) in cases.items():
            with self.subTest(case=case):
                self.expect_error(["eval", "--model", model, "--data", data, "--json", js], *words, absent=[js])

    def test_project_states_repairs_an_invalid_state(self):
        """A non-Hermitian state fails by default and loads with --project-states."""
        model = entanglement_checkpoint(self)
        good = path("bad", "good_for_projection.csv")
        run_ok(self, ["gen-states", "--n", "4", "--seed", "2", "--out", good])
        with open(good) as f:
            rows = f.read().splitlines()
        first = rows[0].split(",")
        first[3] = repr(float(first[3]) + 0.05)
        data = self.bad("projectable.csv", "\n".join([",".join(first)] + rows[1:]) + "\n")
        js = path("bad", "projected.json")
        self.expect_error(["eval", "--model", model, "--data", data, "--json", js], "projectable.csv", absent=[js])
        run_ok(self, ["eval", "--model", model, "--data", data, "--json", js, "--project-states"])
        with open(js) as f:
            self.assertEqual(json.load(f)["n"], 4)

    def test_bad_checkpoints(self):
        good = read_bytes(digits_classical_checkpoint(self))
        data = small_digits_csv()
        files = {
            "truncated.pt": good[:len(good) // 2],
            "random.pt": np.random.default_rng(7).integers(0, 256, size=len(good), dtype=np.uint8).tobytes(),
            "empty.pt": b"",
        }
        for name, content in files.items():
            with self.subTest(checkpoint=name):
                p = path("bad", name)
                with open(p, "wb") as f:
                    f.write(content)
                self.expect_error(["eval", "--model", p, "--data", data], name)
                self.expect_error(["translate", "--from", p, "--out", path("bad", "never_translated.pt")], name,
                                  absent=[path("bad", "never_translated.pt")])
                self.expect_error(["export-qasm", "--model", p, "--out", path("bad", "never_qasm")], name)
        self.expect_error(["eval", "--model", path("bad", "absent.pt"), "--data", data], "absent.pt")

    def test_checkpoint_format_errors(self):
        """Hostile safetensors checkpoints and the old format are refused, each with its problem named."""
        good = read_bytes(digits_classical_checkpoint(self))
        data = small_digits_csv()
        n = int.from_bytes(good[:8], "little")
        header = json.loads(good[8:8 + n])
        body = good[8 + n:]

        def rebuilt(edit, new_body=None, rehash=True):
            h = json.loads(json.dumps(header))
            edit(h)
            b = body if new_body is None else new_body
            if rehash:
                h["__metadata__"]["data_sha256"] = hashlib.sha256(b).hexdigest()
            text = json.dumps(h).encode()
            return len(text).to_bytes(8, "little") + text + b

        name = sorted(k for k in header if k != "__metadata__")[0]
        flipped = bytearray(body)
        flipped[-1] ^= 0x01
        crash = sorted(f for f in os.listdir(os.path.join(SOURCE_DIR, "tests", "fuzz", "corpus", "checkpoint"))
                       if f.startswith("crash-"))[0]
        archive = read_bytes(os.path.join(SOURCE_DIR, "tests", "fuzz", "corpus", "checkpoint", crash))
        envelope = b"HQRNCKPT" + (2).to_bytes(4, "little") + len(archive).to_bytes(8, "little") + \
            zlib.crc32(archive).to_bytes(4, "little") + archive
        cases = {
            "version99.pt": (rebuilt(lambda h: h["__metadata__"].update(format_version="99")), ("version 99",)),
            "flipped.pt": (rebuilt(lambda h: None, bytes(flipped), rehash=False), ("corrupt", "sha-256")),
            "trailing.pt": (good + b"extra", ("after the last tensor",)),
            "huge_header.pt": ((2 ** 62).to_bytes(8, "little") + good[8:], ("over the limit",)),
            "bad_dtype.pt": (rebuilt(lambda h: h[name].update(dtype="X9")), ("unknown dtype", "x9")),
            "negative_shape.pt": (rebuilt(lambda h: h[name].update(shape=[-1])), ("non-negative",)),
            "duplicate.pt": (len(b'{"a":1,"a":2}').to_bytes(8, "little") + b'{"a":1,"a":2}', ("twice",)),
            "crafted_envelope.pt": (envelope, ("old", "convert-checkpoint")),
        }
        for file_name, (content, words) in cases.items():
            with self.subTest(checkpoint=file_name):
                p = path("bad", file_name)
                with open(p, "wb") as f:
                    f.write(content)
                proc = self.expect_error(["eval", "--model", p, "--data", data], file_name, *words)
                self.assertEqual(proc.returncode, 2, describe(proc))

    def test_convert_an_old_checkpoint(self):
        old = os.path.join(SOURCE_DIR, "tests", "fuzz", "corpus", "checkpoint", "tiny_hqrn.pt")
        self.expect_error(["eval", "--model", old, "--data", path("shared", "ent_test.csv")], "tiny_hqrn.pt",
                          "convert-checkpoint")
        new = path("bad", "converted.pt")
        proc = run_ok(self, ["convert-checkpoint", "--from", old, "--out", new])
        self.assertIn("not safe", proc.stderr)
        n = int.from_bytes(read_bytes(new)[:8], "little")
        meta = json.loads(read_bytes(new)[8:8 + n])["__metadata__"]
        self.assertEqual((meta["format"], meta["kind"]), ("hqrn", "hqrn"))
        self.assertEqual(meta["data_sha256"], hashlib.sha256(read_bytes(new)[8 + n:]).hexdigest())
        run_ok(self, ["export-qasm", "--model", new, "--out", path("bad", "converted_qasm")])

    def test_convert_survives_a_crash_in_the_archive_reader(self):
        # The fuzz corpus' archive that crashes LibTorch's reader, in a valid envelope:
        # the reader runs in a child process, so the tool exits 2 naming the file.
        folder = os.path.join(SOURCE_DIR, "tests", "fuzz", "corpus", "checkpoint")
        crash = sorted(f for f in os.listdir(folder) if f.startswith("crash-") and "." not in f)[0]
        archive = read_bytes(os.path.join(folder, crash))
        crafted = path("bad", "crafted_for_convert.pt")
        with open(crafted, "wb") as f:
            f.write(b"HQRNCKPT" + (2).to_bytes(4, "little") + len(archive).to_bytes(8, "little")
                    + zlib.crc32(archive).to_bytes(4, "little") + archive)
        out = path("bad", "never_converted.pt")
        proc = self.expect_error(["convert-checkpoint", "--from", crafted, "--out", out], "crafted_for_convert.pt",
                                 absent=[out])
        self.assertEqual(proc.returncode, 2, describe(proc))

    def test_translate_of_an_hqrn(self):
        hqrn = entanglement_checkpoint(self)
        out = path("bad", "never_translated2.pt")
        self.expect_error(["translate", "--from", hqrn, "--out", out], os.path.basename(hqrn), "hqrn", absent=[out])

    def test_unknown_option_values(self):
        out = path("bad", "never_trained.pt")
        self.expect_error(["train", "--task", "bogus", "--out", out, "--quiet"], "bogus", "task", absent=[out])
        self.expect_error(["train", "--task", "entanglement", "--family", "bogus", "--epochs", "1", "--out", out,
                           "--quiet"], "bogus", "family", absent=[out])
        self.expect_error(["train", "--readout", "bogus", "--epochs", "1", "--out", out, "--quiet"], "bogus",
                          "readout", absent=[out])
        self.expect_error(["train", "--model", "bogus", "--epochs", "1", "--out", out, "--quiet"], "bogus",
                          absent=[out])
        self.expect_error(["train", "--mode", "bogus", "--epochs", "1", "--out", out, "--quiet"], "bogus",
                          absent=[out])
        self.expect_error(["eval", "--model", digits_classical_checkpoint(self), "--data", small_digits_csv(),
                           "--mode", "bogus"], "bogus")
        self.expect_error(["--exec", "sparse", "eval", "--model", digits_classical_checkpoint(self), "--data",
                           small_digits_csv()], "sparse", "exec")
        gen = path("bad", "never_states.csv")
        self.expect_error(["gen-states", "--family", "bogus", "--n", "4", "--out", gen], "bogus", "family",
                          absent=[gen])

    def test_gen_states_odd_n(self):
        out = path("bad", "odd.csv")
        self.expect_error(["gen-states", "--n", "7", "--out", out], ("even", "odd"), absent=[out])


# ----------------------------------------------------------------------------
# 6. resume


class ResumeTest(unittest.TestCase):
    def train_args(self, out, epochs, extra=()):
        return ["train", "--task", "digits", "--model", "classical", "--blocks", "1", "--seed", "3", "--epochs",
                epochs, "--quiet", "--out", out] + list(extra)

    def predictions(self, model, name):
        pred = path("resume", name + ".pred.csv")
        run_ok(self, ["eval", "--model", model, "--data", small_digits_csv(), "--predictions", pred])
        return read_predictions(pred)[4]

    @staticmethod
    def history(ckpt):
        with open(ckpt + ".history.csv") as f:
            return [(r["epoch"], r["loss"], r["train_accuracy"], r["test_accuracy"]) for r in csv.DictReader(f)]

    def test_resume_equals_uninterrupted(self):
        a, b = path("resume", "A.pt"), path("resume", "B.pt")
        run_ok(self, self.train_args(a, 2))
        run_ok(self, self.train_args(b, 1))
        proc = run_ok(self, self.train_args(b, 2, ["--resume"]))
        self.assertIn("resum", proc.stderr.lower(), "no resume message\n" + describe(proc))
        self.assertEqual(self.predictions(a, "A"), self.predictions(b, "B"),
                         "resumed run differs from the uninterrupted one")
        self.assertEqual(self.history(a), self.history(b))
        self.assertEqual(len(self.history(b)), 2)

    def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(self):
        good = path("resume", "nan.pt")
        run_ok(self, self.train_args(good, "1"))
        before = open(good, "rb").read()
        # A learning rate near the largest double overflows the weights in the first steps of epoch 2:
        # the loss becomes NaN or Inf. (At 1e300 the weights may stay just below overflow; whether they
        # do depends on rounding.)
        proc = run(self.train_args(good, "3", ["--resume", "--lr", "1e308", "--constant-lr"]))
        self.assertGreater(proc.returncode, 0, describe(proc))
        self.assertIn("loss became", proc.stderr, describe(proc))
        self.assertEqual(open(good, "rb").read(), before, "the checkpoint of epoch 1 was overwritten")
        run_ok(self, ["eval", "--model", good, "--data", small_digits_csv()])

    def test_resume_after_sigkill(self):
        epochs = 6
        extra = ["--batch-size", "4"]  # a few hundred steps per epoch: time to kill it mid-run
        full, killed = path("resume", "full.pt"), path("resume", "killed.pt")
        args = [HQRN, "--threads", "1"] + [str(a) for a in self.train_args(killed, epochs, extra)]
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + COMMAND_TIMEOUT
            while not os.path.exists(killed) and proc.poll() is None and time.time() < deadline:
                time.sleep(0.002)
            self.assertTrue(os.path.exists(killed), "no checkpoint appeared")
            self.assertIsNone(proc.poll(), "training finished before it could be killed")
            proc.send_signal(signal.SIGKILL)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        self.assertEqual(proc.returncode, -signal.SIGKILL)
        # The checkpoint on disk is complete (atomic writes) and loads.
        run_ok(self, ["eval", "--model", killed, "--data", small_digits_csv()])
        proc = run_ok(self, self.train_args(killed, epochs, extra + ["--resume"]))
        self.assertIn("resum", proc.stderr.lower(), describe(proc))
        self.assertEqual([r[0] for r in self.history(killed)], [str(e) for e in range(1, epochs + 1)])
        run_ok(self, self.train_args(full, epochs, extra))
        self.assertEqual(self.predictions(full, "full"), self.predictions(killed, "killed"),
                         "run resumed after SIGKILL differs from the uninterrupted one")
        self.assertEqual(self.history(full), self.history(killed))


# ----------------------------------------------------------------------------
# 7. determinism


class DeterminismTest(unittest.TestCase):
    def test_identical_runs_give_identical_predictions(self):
        runs = {
            "digits": (["train", "--task", "digits", "--model", "classical", "--blocks", "1", "--epochs", "1",
                        "--seed", "5", "--quiet"], small_digits_csv()),
            "entanglement": (["train", "--task", "entanglement", "--model", "hqrn", "--n-train", "200", "--n-test",
                              "100", "--epochs", "1", "--seed", "5", "--quiet"], None),
        }
        for name, (args, data) in runs.items():
            with self.subTest(task=name):
                if data is None:
                    data = path("determinism", "states.csv")
                    run_ok(self, ["gen-states", "--family", "adversarial-marginal", "--n", "100", "--seed", "9",
                                  "--out", data])
                outputs = []
                for k in range(2):
                    ckpt = path("determinism", "{}_{}.pt".format(name, k))
                    pred = path("determinism", "{}_{}.pred.csv".format(name, k))
                    run_ok(self, args + ["--out", ckpt])
                    run_ok(self, ["eval", "--model", ckpt, "--data", data, "--predictions", pred])
                    outputs.append(read_bytes(pred))
                self.assertEqual(outputs[0], outputs[1], "two identical training runs differ")


# ----------------------------------------------------------------------------
# 8. demo


class DemoTest(unittest.TestCase):
    def test_quick_demo(self):
        out = path("demo", "out", "x")[:-2]
        proc = run_ok(self, ["demo", "--quick", "--no-plots", "--out", out], timeout=COMMAND_TIMEOUT)
        summary_path = os.path.join(out, "summary.json")
        self.assertTrue(os.path.exists(summary_path), describe(proc))
        with open(summary_path) as f:
            s = json.load(f)
        d = s["digits"]
        for key in ("classical_accuracy", "hqrn_accuracy", "prediction_agreement", "max_probability_difference"):
            self.assertIsInstance(d[key], (int, float), key)
            self.assertFalse(isinstance(d[key], bool), key)
            self.assertTrue(0 <= d[key] <= 1, "digits.{} = {}".format(key, d[key]))
        self.assertEqual(d["prediction_agreement"], 1.0)
        self.assertLess(d["max_probability_difference"], 1e-9, "exactness: HQRN and classical analog differ")
        self.assertEqual(d["dense_check_images"], 8)
        self.assertLess(d["dense_max_probability_difference"], 1e-9, "exactness on density matrices")
        self.assertEqual(d["hqrn_accuracy"], d["classical_accuracy"])
        for family in ("random", "adversarial_dephased", "adversarial_marginal"):
            e = s["entanglement"][family]
            for key in ("hqrn_accuracy", "classical_accuracy", "tomography_accuracy"):
                with self.subTest(family=family, key=key):
                    self.assertIsInstance(e[key], (int, float))
                    self.assertFalse(isinstance(e[key], bool))
                    self.assertTrue(0 <= e[key] <= 1, "entanglement.{}.{} = {}".format(family, key, e[key]))
        # The phases experiment on a small ring: the classical analog cannot tell dual twins apart.
        p = s["phases"]
        self.assertEqual(p["spins"], 6)
        for model in ("hqrn", "classical", "pauli_mlp", "hqrn_string"):
            for key in ("line_accuracy", "plane_accuracy", "twins_accuracy"):
                with self.subTest(model=model, key=key):
                    self.assertTrue(0 <= p[model][key] <= 1, "phases.{}.{} = {}".format(model, key, p[model][key]))
        self.assertEqual(p["classical"]["twins_accuracy"], 0.5)
        self.assertEqual(p["classical"]["twins_identical_pairs"], p["classical"]["twins_pairs"])
        self.assertTrue(os.path.exists(os.path.join(out, "phases", "results.json")))
        self.assertFalse(any(n.endswith(".png") for n in os.listdir(out)), "--no-plots wrote plots")
        self.assertFalse(any(n.endswith(".png") for n in os.listdir(os.path.join(out, "phases"))),
                         "--no-plots wrote phase diagrams")
        # Every model the demo trains is saved as a safetensors checkpoint.
        names = ["digits_hqrn", "digits_classical", "digits_born_hqrn"] + [
            "entanglement_{}_{}".format(f, k) for f in ("random", "adversarial_dephased", "adversarial_marginal")
            for k in ("hqrn", "classical")]
        for name in names:
            with open(os.path.join(out, name + ".safetensors"), "rb") as f:
                header_size = int.from_bytes(f.read(8), "little")
                header = json.loads(f.read(header_size))
            self.assertEqual(header["__metadata__"]["format"], "hqrn", name)



# ----------------------------------------------------------------------------
# 9. noise and finite shots


class NoiseTest(unittest.TestCase):
    def eval_json(self, name, *extra):
        js = path("noise", name + ".json")
        ckpt = entanglement_checkpoint(self)
        run_ok(self, ["eval", "--model", ckpt, "--data", path("shared", "ent_test.csv"), "--json", js] + list(extra))
        with open(js) as f:
            return json.load(f)

    def test_eval_noise_replaces_the_checkpoints_and_changes_the_numbers(self):
        clean = self.eval_json("clean")
        self.assertEqual(clean["noise"], "none")
        noisy = self.eval_json("noisy", "--noise", "depolarizing=0.3,readout=0.1")
        self.assertEqual(noisy["noise"], "depolarizing=0.3,readout=0.1")
        # Noise mixes the readout towards uniform: the loss moves.
        self.assertNotAlmostEqual(clean["loss"], noisy["loss"], places=6)
        zero = self.eval_json("zero", "--noise", "depolarizing=0")
        self.assertEqual(zero["loss"], clean["loss"], "zero noise differs from the noiseless network")

    def test_shots_are_seeded_and_summarised(self):
        a = self.eval_json("shots_a", "--shots", "64", "--shot-seeds", "3", "--seed", "1")
        b = self.eval_json("shots_b", "--shots", "64", "--shot-seeds", "3", "--seed", "1")
        c = self.eval_json("shots_c", "--shots", "64", "--shot-seeds", "3", "--seed", "7")
        shots = a["shots"]
        self.assertEqual((shots["shots"], shots["seeds"], shots["first_seed"]), (64, 3, 1))
        self.assertEqual(len(shots["accuracies"]), 3)
        self.assertAlmostEqual(shots["accuracy_mean"], float(np.mean(shots["accuracies"])), places=12)
        self.assertAlmostEqual(shots["accuracy_std"], float(np.std(shots["accuracies"], ddof=1)), places=12)
        self.assertEqual(shots, b["shots"], "the same seed gave other samples")
        self.assertNotEqual(shots["accuracies"], c["shots"]["accuracies"], "another seed gave the same samples")
        # The exact accuracy is reported beside the sampled one, unchanged by sampling.
        self.assertEqual(a["accuracy"], self.eval_json("exact")["accuracy"])

    def test_train_with_noise_saves_it_in_the_checkpoint(self):
        out = path("noise", "noisy.pt")
        run_ok(self, ["train", "--task", "entanglement", "--model", "hqrn", "--data", path("shared", "ent_train.csv"),
                      "--epochs", "1", "--seed", "0", "--quiet", "--noise", "amplitude_damping=0.05,readout=0.02",
                      "--out", out])
        js = path("noise", "noisy.json")
        run_ok(self, ["eval", "--model", out, "--data", path("shared", "ent_test.csv"), "--json", js])
        with open(js) as f:
            self.assertEqual(json.load(f)["noise"], "amplitude_damping=0.05,readout=0.02")
        prefix = path("noise", "qasm", "noisy")
        run_ok(self, ["export-qasm", "--model", out, "--out", prefix])
        with open(prefix + "_classical.json") as f:
            side = json.load(f)
        self.assertEqual(side["config"]["noise"]["readout"], 0.02)
        self.assertEqual(side["config"]["noise"]["channels"], [{"channel": "amplitude_damping", "parameter": 0.05}])

    def test_bad_noise_and_shots_values(self):
        entanglement_checkpoint(self)
        base = ["eval", "--model", path("shared", "ent_hqrn.pt"), "--data", path("shared", "ent_test.csv")]
        train = ["train", "--task", "entanglement", "--data", path("shared", "ent_train.csv"), "--epochs", "1",
                 "--out", path("noise", "never.pt")]
        cases = [
            (base + ["--noise", "depolarizing=-0.1"], ("depolarizing",), ("-0.1",), ("range",)),
            (base + ["--noise", "bit_flip=2"], ("bit_flip",), ("range",)),
            (base + ["--noise", "amplitude_damping=1.5"], ("amplitude_damping",), ("range",)),
            (base + ["--noise", "foo=0.1"], ("foo",), ("unknown",)),
            (base + ["--noise", "depolarizing=abc"], ("abc",), ("number",)),
            (base + ["--noise", "depolarizing"], ("depolarizing",),),
            (base + ["--noise", "readout=0.1,readout=0.2"], ("readout",), ("twice",)),
            (base + ["--shots", "0"], ("--shots",), (">= 1",)),
            (base + ["--shots", "16", "--shot-seeds", "0"], ("--shot-seeds",), (">= 1",)),
            (train + ["--noise", "phase_damping=-1"], ("phase_damping",), ("range",)),
            (train + ["--noise", "dephasing=0.1"], ("dephasing",), ("unknown",)),
        ]
        for args, *words in cases:
            with self.subTest(args=args[-2:]):
                proc = BadInputTest.expect_error(self, args, *words, absent=[path("noise", "never.pt")])
                self.assertEqual(proc.returncode, 2, describe(proc))

    def test_quick_noise_study(self):
        out = path("noise", "study")
        proc = run_ok(self, ["study", "noise", "--quick", "--no-plots", "--out", out])
        with open(os.path.join(out, "noise_study.csv")) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(list(rows[0].keys()), ["axis", "family", "value", "model", "accuracy", "accuracy_std",
                                                "seeds"], describe(proc))
        for family in FAMILIES:
            strength = {(r["value"], r["model"]) for r in rows if r["family"] == family and r["axis"] == "depolarizing"}
            shots = {(r["value"], r["model"]) for r in rows if r["family"] == family and r["axis"] == "shots"}
            for model in ("hqrn_trained_noiseless", "hqrn_trained_noisy", "tomography", "classical"):
                self.assertIn(("0", model), strength, family)
                self.assertTrue(any(m == model and v != "0" for v, m in strength), (family, model))
            for model in ("hqrn_trained_noiseless", "tomography", "classical"):
                self.assertIn(("exact", model), shots, family)
                self.assertTrue(any(m == model and v != "exact" for v, m in shots), (family, model))
        for r in rows:
            self.assertTrue(0 <= float(r["accuracy"]) <= 1, r)
            self.assertGreaterEqual(float(r["accuracy_std"]), 0, r)
            if r["axis"] == "shots" and r["value"] != "exact":
                self.assertGreater(int(r["seeds"]), 1, r)
        # Noiseless training, evaluated without noise, is the p = 0 point.
        for family in FAMILIES:
            at = {(r["axis"], r["value"], r["model"]): r["accuracy"] for r in rows if r["family"] == family}
            self.assertEqual(at[("depolarizing", "0", "hqrn_trained_noiseless")],
                             at[("shots", "exact", "hqrn_trained_noiseless")], family)
        with open(os.path.join(out, "noise_study.json")) as f:
            summary = json.load(f)
        self.assertEqual(len(summary["rows"]), len(rows))
        self.assertTrue(summary["quick"])
        self.assertFalse(any(n.endswith(".png") for n in os.listdir(out)), "--no-plots wrote plots")


class PhasesStudyTest(unittest.TestCase):
    def test_quick_phases_study(self):
        out = path("phases", "study")
        proc = run_ok(self, ["study", "phases", "--quick", "--no-plots", "--spins", "6", "--out", out])
        with open(os.path.join(out, "phases_study.csv")) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(list(rows[0].keys()), ["spins", "model", "set", "shots", "accuracy", "accuracy_std", "seeds"],
                         describe(proc))
        for model in ("hqrn", "classical", "pauli_mlp", "hqrn_string"):
            for set_name in ("line", "plane", "twins"):
                self.assertTrue(any(r["model"] == model and r["set"] == set_name and r["shots"] == "exact"
                                    for r in rows), (model, set_name))
            self.assertTrue(any(r["model"] == model and r["shots"] == "64" for r in rows), model)
        twins = [r for r in rows if r["model"] == "classical" and r["set"] == "twins" and r["shots"] == "exact"]
        self.assertEqual(float(twins[0]["accuracy"]), 0.5)
        with open(os.path.join(out, "N6_plane.csv")) as f:
            points = list(csv.DictReader(f))
        self.assertIn("p_spt_hqrn", points[0])
        for r in points:
            self.assertTrue(0 <= float(r["p_spt_hqrn"]) <= 1, r)
        with open(os.path.join(out, "results.json")) as f:
            results = json.load(f)
        self.assertEqual(results["spins"], [6])
        self.assertEqual(results["runs"]["6"]["models"]["hqrn"]["representation"], "vectors")
        self.assertFalse(any(n.endswith(".png") for n in os.listdir(out)), "--no-plots wrote plots")
        # Run again: cached data and finished models are reused.
        again = run_ok(self, ["study", "phases", "--quick", "--no-plots", "--spins", "6", "--out", out])
        self.assertIn("reusing", again.stdout)

    def test_train_and_eval_on_state_vector_files(self):
        line, twins = path("phases", "line6.safetensors"), path("phases", "twins6.safetensors")
        run_ok(self, ["gen-phases", "--spins", "6", "--set", "line", "--points", "9", "--out", line])
        run_ok(self, ["gen-phases", "--spins", "6", "--set", "twins", "--points", "3", "--out", twins])
        ckpt = path("phases", "hqrn6.safetensors")
        run_ok(self, ["train", "--task", "phases", "--model", "hqrn", "--data", line, "--test-data", twins,
                      "--epochs", "2", "--batch-size", "4", "--quiet", "--out", ckpt])
        js = path("phases", "eval6.json")
        run_ok(self, ["eval", "--model", ckpt, "--data", twins, "--json", js])
        with open(js) as f:
            result = json.load(f)
        self.assertEqual(result["task"], "phases")
        self.assertEqual(result["n"], 6)
        self.assertEqual(result["execution"], "vectors")
        self.assertIn("spt_recall", result)

    def test_bad_ring_sizes_are_refused(self):
        for spins in ("3", "21", "x"):
            with self.subTest(spins=spins):
                proc = subprocess.run([HQRN, "study", "phases", "--quick", "--spins", spins, "--out",
                                       path("phases", "bad")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      universal_newlines=True, timeout=60)
                self.assertEqual(proc.returncode, 2, describe(proc))
                self.assertIn("--spins", proc.stderr)


# ----------------------------------------------------------------------------


def main():
    global HQRN, WORK
    if len(sys.argv) < 2:
        print("usage: test_cli.py PATH_TO_HQRN", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    HQRN = os.path.abspath(sys.argv[1])
    if not os.access(HQRN, os.X_OK):
        print("not an executable: " + HQRN, file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="hqrn_cli_test_") as tmp:
        WORK = tmp
        return support.run_suite((HelpTest, GenStatesTest, DigitsPipelineTest, EntanglementTest, BadInputTest,
                                  ResumeTest, DeterminismTest, DemoTest, NoiseTest, PhasesStudyTest), start)

if __name__ == "__main__":
    sys.exit(main())
