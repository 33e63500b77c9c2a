"""The Python package (python/hqrn) against the C++ network.

Usage: test_python_package.py HQRN_BINARY REFERENCE_OUTPUTS_BINARY PACKAGE_DIR

- every shipped checkpoint, in quantum mode (both executions) and classical
  mode: class probabilities and the gradient of the mean cross-entropy with
  respect to every parameter equal the C++ ones (tests/reference_outputs.cpp)
  to 1e-12; also a noisy network with ancillas and several branches written
  from Python, read by C++;
- checkpoints move both ways: Python reads what `hqrn train` writes (with its
  optimizer state), `hqrn eval` reads what Python writes, with equal results;
- hostile files (and the crafted old-format envelope) are refused by both
  loaders with one message naming the file;
- bad input to the modules raises a clear error;
- the examples run and their numbers hold (pip's install path is
  tests/test_pip_install.py, run against PyPI's torch).
"""

import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

if len(sys.argv) < 4:
    sys.exit(__doc__)
HQRN, REFERENCE, PACKAGE_DIR = (os.path.abspath(a) for a in sys.argv[1:4])
del sys.argv[1:4]
SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRETRAINED = os.path.join(SOURCE_DIR, "models", "pretrained")
os.environ.pop("HQRN_OPS_LIBRARY", None)  # the package must find the library beside itself
sys.path.insert(0, PACKAGE_DIR)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import hqrn  # noqa: E402
from hqrn import safetensors_format  # noqa: E402

TOLERANCE = 1e-12
WORK = tempfile.mkdtemp(prefix="hqrn-py-")
LIMIT = 200  # samples per comparison


def run(args, **kw):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=600, **kw)


def work(name):
    return os.path.join(WORK, name)


def gen_states(family, n, seed):
    out = work("{}_{}_{}.csv".format(family, n, seed))
    if not os.path.exists(out):
        proc = run([HQRN, "gen-states", "--family", family, "--n", str(n), "--seed", str(seed), "--out", out])
        assert proc.returncode == 0, proc.stderr
    return out


def data_for(checkpoint_name):
    if checkpoint_name.startswith("digits"):
        return os.path.join(SOURCE_DIR, "data", "digits.csv.gz")
    family = checkpoint_name[len("entanglement_"):-len("_hqrn")].replace("_", "-")
    return gen_states(family, LIMIT, 11)


def trained_checkpoint(kind):
    """A checkpoint `hqrn train` writes after one epoch (with Adam's state), made once."""
    out = work("trained_{}.safetensors".format(kind))
    if not os.path.exists(out):
        proc = run([HQRN, "train", "--task", "entanglement", "--model", kind, "--data", gen_states("random", 300, 1),
                    "--epochs", "1", "--ancillas", "1", "--branches", "2", "--quiet", "--out", out])
        assert proc.returncode == 0, proc.stderr
    return out


def reference(model_path, data, mode, execution, limit):
    """C++ probabilities and gradients: {name: tensor}."""
    out = work("reference.safetensors")
    proc = run([REFERENCE, model_path, data, mode, execution, out, str(limit)])
    if proc.returncode != 0:
        raise AssertionError("reference outputs failed: " + proc.stderr)
    f = safetensors_format.read_file(out)
    return {t.name: torch.frombuffer(bytearray(f.bytes_of(t)), dtype=torch.float64).reshape(t.shape)
            for t in f.tensors}


def python_outputs(model, x, y, mode, execution):
    model.zero_grad()
    logits = model(x, mode=mode, execution=execution)
    F.cross_entropy(logits, y).backward()
    out = {"probabilities": torch.softmax(logits, 1).detach()}
    for name, p in model.named_parameters():
        out["grad." + name] = p.grad if p.grad is not None else torch.zeros_like(p)
    return out


class ParityTest(unittest.TestCase):
    def assert_same_outputs(self, model_path, data, what):
        model = hqrn.load(model_path)
        x, y = hqrn.read_for(model, data)
        for mode, execution in (("quantum", "aware"), ("quantum", "dense"), ("classical", "aware")):
            # Dense 10-qubit states cost 16 MiB each: fewer of them.
            limit = LIMIT if execution == "aware" or model.config.qubits < 8 else 8
            with self.subTest(model=what, mode=mode, execution=execution):
                cpp = reference(model_path, data, mode, execution, limit)
                py = python_outputs(model, x[:limit], y[:limit], mode, execution)
                self.assertEqual(sorted(cpp), sorted(py))
                for name in cpp:
                    diff = (cpp[name] - py[name]).abs().max().item()
                    scale = max(1.0, cpp[name].abs().max().item())
                    self.assertLessEqual(diff, TOLERANCE * scale, "{}: {} differs by {}".format(what, name, diff))
                # The gradients are not all zero (a test that cannot fail proves nothing).
                self.assertGreater(sum(py[n].abs().sum().item() for n in py if n.startswith("grad.")), 0)

    def test_every_shipped_checkpoint(self):
        names = sorted(f[:-len(".safetensors")] for f in os.listdir(PRETRAINED) if f.endswith(".safetensors"))
        self.assertEqual(len(names), 5, names)
        for name in names:
            self.assert_same_outputs(os.path.join(PRETRAINED, name + ".safetensors"), data_for(name), name)

    def test_noisy_network_with_ancillas_written_from_python(self):
        torch.manual_seed(3)
        config = hqrn.NetworkConfig(data_qubits=2, ancillas=2, blocks=2, branches=2, readout="mlp", hidden=8,
                                    init_std=0.8,
                                    noise=hqrn.NoiseModel.parse("depolarizing=0.02,amplitude_damping=0.05,"
                                                                "readout=0.03"))
        model = hqrn.HQRN(config)
        path = work("noisy_ancillas.safetensors")
        hqrn.save(model, path)
        self.assert_same_outputs(path, gen_states("random", LIMIT, 5), "noisy network with ancillas")

    def test_aware_and_dense_agree_on_the_register_state(self):
        torch.manual_seed(1)
        block = hqrn.QuantumResidualBlock(3, init_std=1.0)
        rho = torch.randn(2, 4, 4, dtype=torch.complex128)
        rho = rho @ rho.conj().transpose(1, 2)
        rho = rho / rho.diagonal(dim1=1, dim2=2).real.sum(-1).reshape(2, 1, 1)
        dense = block(hqrn.RegisterState.from_data_state(rho, 1, "dense"))
        aware = block(hqrn.RegisterState.from_data_state(rho, 1, "aware"))
        self.assertLess((dense.to_dense() - aware.to_dense()).abs().max().item(), TOLERANCE)
        self.assertLess((dense.probabilities() - aware.probabilities()).abs().max().item(), TOLERANCE)


class CheckpointTest(unittest.TestCase):
    def eval_json(self, model_path, data):
        out = work("eval.json")
        proc = run([HQRN, "eval", "--model", model_path, "--data", data, "--json", out])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(out) as f:
            return json.load(f)

    def test_python_writes_what_the_cli_reads(self):
        for name in ("entanglement_random_hqrn", "digits_born_hqrn"):
            original = os.path.join(PRETRAINED, name + ".safetensors")
            copy = work(name + "_copy.safetensors")
            hqrn.save(hqrn.load(original), copy)
            data = data_for(name)
            a, b = self.eval_json(original, data), self.eval_json(copy, data)
            self.assertEqual(a["accuracy"], b["accuracy"])
            self.assertEqual(a["loss"], b["loss"])
            # Same tensors, bit for bit, and the same metadata.
            fa, fb = safetensors_format.read_file(original), safetensors_format.read_file(copy)
            self.assertEqual({t.name: fa.bytes_of(t) for t in fa.tensors}, {t.name: fb.bytes_of(t) for t in fb.tensors})
            for key in ("format", "format_version", "kind", "dtype", "data_sha256"):
                self.assertEqual(fa.metadata[key], fb.metadata[key], key)
            self.assertEqual(json.loads(fa.metadata["config"]), json.loads(fb.metadata["config"]))

    def test_python_reads_what_train_writes(self):
        for kind in ("classical", "hqrn"):
            out = trained_checkpoint(kind)
            model = hqrn.load(out)
            self.assertIsInstance(model, hqrn.HQRN if kind == "hqrn" else hqrn.ClassicalResNet)
            self.assertEqual(model.config.ancillas, 1)
            self.assertTrue(model.training_json, "the per-epoch checkpoint keeps its training state")
            names = {t.name for t in safetensors_format.read_file(out).tensors}
            self.assertTrue(any(n.startswith("optimizer.") for n in names), names)
            if kind == "classical":
                self.assertEqual(model.quantum_parameters(), [])
                self.assertNotIn("branch0.block0.V", dict(model.named_parameters()))

    def test_the_configuration_has_the_fields_cpp_writes(self):
        # A field added in C++ (models/config.h) must be added in python/hqrn/config.py too.
        out = trained_checkpoint("hqrn")
        cpp = json.loads(safetensors_format.read_file(out).metadata["config"])
        python = json.loads(hqrn.NetworkConfig().to_json())
        self.assertEqual(sorted(cpp), sorted(python))
        self.assertEqual(json.loads(hqrn.load(out).config.to_json()), cpp)

    def test_translation_matches_the_cli(self):
        classical_path = trained_checkpoint("classical")
        cli_path = work("translated_by_cli.safetensors")
        proc = run([HQRN, "translate", "--from", classical_path, "--out", cli_path])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        py_model = hqrn.translate_classical(hqrn.load(classical_path))
        cli_model = hqrn.load(cli_path)
        self.assertEqual(dict((n, p.tolist()) for n, p in py_model.named_parameters()),
                         dict((n, p.tolist()) for n, p in cli_model.named_parameters()))

    def hostile_files(self):
        """(name, bytes) of files that both loaders must refuse."""
        good_path = os.path.join(PRETRAINED, "entanglement_random_hqrn.safetensors")
        with open(good_path, "rb") as f:
            good = f.read()
        n = struct.unpack("<Q", good[:8])[0]
        header = json.loads(good[8:8 + n])
        data = good[8 + n:]

        def build(h, d=data, fix_sha=True):
            h = json.loads(json.dumps(h))
            if fix_sha:
                h["__metadata__"]["data_sha256"] = hashlib.sha256(d).hexdigest()
            text = json.dumps(h).encode()
            return struct.pack("<Q", len(text)) + text + d

        files = [("empty", b""), ("short", b"\x01\x02"), ("huge_header", struct.pack("<Q", 1 << 40) + b"{}"),
                 ("truncated", good[:len(good) // 2]), ("not_json", struct.pack("<Q", 4) + b"{abc"),
                 ("flipped_data_byte", good[:-3] + bytes([good[-3] ^ 1]) + good[-2:])]
        h = json.loads(json.dumps(header))
        h["head.mlp.0.bias"]["dtype"] = "F99"
        files.append(("unknown_dtype", build(h)))
        h = json.loads(json.dumps(header))
        h["head.mlp.0.bias"]["data_offsets"] = [0, h["head.mlp.0.bias"]["data_offsets"][1]
                                                - h["head.mlp.0.bias"]["data_offsets"][0]]
        files.append(("overlapping_offsets", build(h)))
        h = json.loads(json.dumps(header))
        del h["branch3.block0.V"]
        files.append(("missing_tensor", build(h)))
        h = json.loads(json.dumps(header))
        h["branch0.block0.W"]["shape"] = [4]
        files.append(("wrong_shape", build(h)))
        h = json.loads(json.dumps(header))
        h["__metadata__"]["config"] = h["__metadata__"]["config"].replace('"branches":10', '"branches":11')
        files.append(("config_needs_more_tensors", build(h)))
        h = json.loads(json.dumps(header))
        h["__metadata__"]["config"] = h["__metadata__"]["config"].replace('"hidden":128', '"hidden":5000')
        files.append(("config_bigger_than_the_data", build(h)))
        h = json.loads(json.dumps(header))
        h["__metadata__"]["format_version"] = "99"
        files.append(("future_version", build(h)))
        h = json.loads(json.dumps(header))
        h["__metadata__"]["format"] = "other"
        files.append(("foreign_format", build(h)))
        text = json.dumps(header).encode().replace(b'"__metadata__"', b'"head.mlp.4.bias": {}, "__metadata__"', 1)
        files.append(("duplicate_key", struct.pack("<Q", len(text)) + text + data))
        deep = b"{" + b'"a":[' * 5000 + b"]" * 5000 + b"}"
        files.append(("deep_nesting", struct.pack("<Q", len(deep)) + deep))
        nan = torch.tensor([float("nan")], dtype=torch.float64).numpy().tobytes()
        a, b = header["head.mlp.4.bias"]["data_offsets"]
        files.append(("nan_parameter", build(header, data[:a] + nan + data[a + 8:])))
        # The crafted-envelope attack: an old-format envelope around the fuzzer's crashing archive.
        crash_dir = os.path.join(SOURCE_DIR, "tests", "fuzz", "corpus", "checkpoint")
        crash = [f for f in sorted(os.listdir(crash_dir)) if f.startswith("crash-")]
        self.assertTrue(crash, "the checkpoint corpus keeps its crashing input")
        with open(os.path.join(crash_dir, crash[0]), "rb") as f:
            payload = f.read()
        files.append(("crafted_envelope", b"HQRNCKPT" + struct.pack("<IQI", 2, len(payload), 0) + payload))
        # What the checkpoint fuzzer found (configurations that looped or allocated without bound).
        for name in sorted(os.listdir(crash_dir)):
            if name.startswith("crash-") and name.endswith(".safetensors"):
                with open(os.path.join(crash_dir, name), "rb") as f:
                    files.append((name[:-len(".safetensors")], f.read()))
        return files

    def test_hostile_files_are_refused_by_both_loaders(self):
        states = gen_states("random", 20, 2)
        for name, content in self.hostile_files():
            path = work("hostile_{}.safetensors".format(name))
            with open(path, "wb") as f:
                f.write(content)
            with self.subTest(file=name):
                proc = run([HQRN, "eval", "--model", path, "--data", states])
                self.assertEqual(proc.returncode, 2, "{}: {}".format(name, proc.stderr))
                self.assertIn(path, proc.stderr)
                with self.assertRaises(hqrn.CheckpointError) as caught:
                    hqrn.load(path)
                self.assertIn(path, str(caught.exception))
                self.assertEqual(len(str(caught.exception).splitlines()), 1, str(caught.exception))
                if name == "crafted_envelope":
                    self.assertIn("convert-checkpoint", proc.stderr)
                    self.assertIn("convert-checkpoint", str(caught.exception))


class InputTest(unittest.TestCase):
    def test_bad_input_gets_a_clear_error(self):
        model = hqrn.load(os.path.join(PRETRAINED, "entanglement_random_hqrn.safetensors"))
        cases = [(torch.zeros(3, 8, 8, dtype=torch.complex128), "density matrices"),
                 (torch.zeros(0, 4, 4, dtype=torch.complex128), "empty batch"),
                 (torch.zeros(3, 3, dtype=torch.complex128), "pure state vectors [B, 4] (complex)"),
                 (torch.zeros(3, 4, 4, dtype=torch.float64), "density matrices [B, 4, 4] (complex)"),
                 (torch.zeros(3, 2, 8, dtype=torch.complex128), "component vectors [B, r, 4]")]
        for x, message in cases:
            with self.subTest(shape=list(x.shape)), self.assertRaises(ValueError) as caught:
                model(x)
            self.assertIn(message, str(caught.exception))
        rho = torch.eye(4, dtype=torch.complex128).unsqueeze(0) / 4
        for kw, message in (({"mode": "analog"}, "unknown mode"), ({"execution": "fast"}, "unknown execution")):
            with self.subTest(**kw), self.assertRaises(ValueError) as caught:
                model(rho, **kw)
            self.assertIn(message, str(caught.exception))
        for config, message in ((hqrn.NetworkConfig(data_qubits=0), "data_qubits"),
                                (hqrn.NetworkConfig(classes=(1 << 62) + 1), "classes"),
                                (hqrn.NetworkConfig(readout="mlp", hidden=1000000), "hidden"),
                                (hqrn.NetworkConfig(readout="mlp", hidden=1 << 16, hidden_layers=20), "parameters")):
            with self.subTest(config=config), self.assertRaises(hqrn.ConfigError) as caught:
                config.validate()
            self.assertIn(message, str(caught.exception))
        self.assertEqual(hqrn.NetworkConfig().parameter_count(), sum(p.numel() for p in hqrn.HQRN(
            hqrn.NetworkConfig()).parameters()))
        with self.assertRaises(hqrn.ConfigError):
            hqrn.NoiseModel.parse("depolarizing=2")
        bad = work("bad_states.csv")
        with open(bad, "w") as f:
            f.write("1,0.5,0,0,0\n")
        with self.assertRaises(ValueError) as caught:
            hqrn.read_state_csv(bad)
        self.assertIn(bad + ":1", str(caught.exception))


class ExamplesTest(unittest.TestCase):
    def run_example(self, name, *args):
        env = dict(os.environ, PYTHONPATH=PACKAGE_DIR)
        proc = run([sys.executable, os.path.join(SOURCE_DIR, "python", "examples", name)] + list(args), env=env)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        return proc

    def test_translate_digits(self):
        out = work("example_digits")
        self.run_example("translate_digits.py", "--out", out, "--epochs", "2")
        with open(os.path.join(out, "summary.json")) as f:
            s = json.load(f)
        self.assertGreater(s["classical_accuracy"], 0.8)
        self.assertEqual(s["hqrn_accuracy"], s["classical_accuracy"])
        self.assertLess(s["max_probability_difference"], 1e-10)
        self.assertLess(s["dense_max_probability_difference"], 1e-10)
        # The CLI reads the example's checkpoints.
        proc = run([HQRN, "eval", "--model", os.path.join(out, "digits_hqrn.safetensors"), "--data",
                    os.path.join(SOURCE_DIR, "data", "digits.csv.gz")])
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def test_finetune_entanglement(self):
        out = work("example_entanglement")
        train = gen_states("adversarial-dephased", 2000, 10)
        test = gen_states("adversarial-dephased", 600, 11)
        self.run_example("finetune_entanglement.py", "--train", train, "--test", test, "--out", out)
        with open(os.path.join(out, "summary.json")) as f:
            s = json.load(f)
        self.assertLess(s["classical_accuracy"], 0.6, "the classical analog cannot see coherences")
        q = s["quantum_only"]
        self.assertTrue(q["diagonal_predictions_unchanged"], "quantum-only training moved a classical prediction")
        self.assertLess(q["train_loss_after"], q["train_loss_before"])
        self.assertGreater(s["finetuned_accuracy"], 0.95, "training in quantum mode reads the coherences")
        js = work("finetuned_eval.json")
        proc = run([HQRN, "eval", "--model", s["checkpoint"], "--data", test, "--json", js])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(js) as f:
            self.assertAlmostEqual(json.load(f)["accuracy"], s["finetuned_accuracy"], places=12)


if __name__ == "__main__":
    try:
        torch.set_num_threads(2)
        unittest.main(verbosity=2)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
