"""HQRN checkpoints and Python's safetensors, both ways.

(a) Every shipped checkpoint (models/pretrained/*.safetensors) and ones that
    `hqrn train` has just written open with safetensors.safe_open(...,
    framework="numpy"): the metadata has format = hqrn, format_version, kind,
    config (JSON) and data_sha256 (the SHA-256 of the data section); the
    tensors are the network's parameters by name, with the shapes the
    configuration implies, plus Adam's state for the trained ones.
(b) The same tensors and metadata written by safetensors.numpy.save_file
    (data_sha256 recomputed) are accepted by `hqrn eval` with the same
    accuracy and predictions, and `hqrn train --resume` continues from them
    exactly as from the original.
(c) Hostile files built here (bad header length, overlapping offsets, unknown
    dtype, wrong data_sha256, missing tensor, wrong shape, duplicate keys, ...)
    each make `hqrn eval` exit with code 2 and one line naming the file.

Usage: /usr/bin/python3 test_safetensors_interop.py PATH_TO_HQRN VENV_DIR
The first run creates the virtual environment VENV_DIR and installs
safetensors and numpy from PyPI into it (never into the system's Python);
later runs reuse it. Without PyPI the test fails, saying so. Every other file
goes to a temporary directory. The last line is 'N passed, N failed'; exits
non-zero on failure.
"""

import glob
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import python_test_support as support

REQUIREMENTS = ("safetensors==0.8.0", "numpy==2.4.6")
# Set before re-running this file with the environment's python, so that a
# python that is not the environment's is noticed instead of re-run forever.
IN_VENV_MARK = "HQRN_INTEROP_VENV"
SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRETRAINED = sorted(glob.glob(os.path.join(SOURCE_DIR, "models", "pretrained", "*.safetensors")))
COMMAND_TIMEOUT = 300

HQRN = None  # path of the binary (argv[1])
WORK = None  # the run's temporary directory
CHECKPOINTS = {}  # label -> path: the shipped ones and those trained here
DATA = {}  # "states" / "digits" -> an evaluation file of that format


# ----------------------------------------------------------------------------
# The virtual environment (made by the system's python, then this file runs in it)


def enter_venv(venv_dir):
    """Re-runs this file with the environment's python (returns only on failure)."""
    python = support.ensure_venv(venv_dir, REQUIREMENTS, ("numpy", "safetensors.numpy"), "test_safetensors_interop")
    sys.stdout.flush()
    os.execve(python, [python, os.path.abspath(__file__)] + sys.argv[1:], dict(os.environ, **{IN_VENV_MARK: "1"}))


# ----------------------------------------------------------------------------
# Helpers (run with the environment's python: numpy and safetensors)


def run(args, timeout=COMMAND_TIMEOUT):
    """Runs hqrn --threads 1 ARGS; returns the CompletedProcess (text)."""
    return subprocess.run([HQRN, "--threads", "1"] + [str(a) for a in args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout)


def describe(proc):
    return "command: {}\nexit status: {}\nstdout:\n{}\nstderr:\n{}".format(
        " ".join(proc.args), proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])


def run_ok(args):
    proc = run(args)
    if proc.returncode != 0:
        raise AssertionError(describe(proc))
    return proc


def path(*parts):
    p = os.path.join(WORK, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def read_bytes(p):
    with open(p, "rb") as f:
        return f.read()


def write_bytes(p, data):
    with open(p, "wb") as f:
        f.write(data)
    return p


def split_file(data):
    """(header as parsed JSON, header text, data section) of a safetensors file's bytes."""
    n = int.from_bytes(data[:8], "little")
    text = data[8:8 + n].decode()
    return json.loads(text), text, data[8 + n:]


def assemble(header_text, body):
    raw = header_text.encode()
    return len(raw).to_bytes(8, "little") + raw + body


def read_checkpoint(p):
    """(tensors by name as NumPy arrays, metadata) as Python's safetensors reads them."""
    from safetensors import safe_open
    with safe_open(p, framework="numpy") as f:
        return {name: f.get_tensor(name) for name in f.keys()}, dict(f.metadata() or {})


def save_with_python(p, tensors, metadata):
    """Writes with safetensors.numpy.save_file, data_sha256 set to its data section's."""
    from safetensors.numpy import save_file
    # The data section does not depend on the metadata, so a placeholder of
    # the same length gives the bytes to hash.
    save_file(tensors, p, metadata=dict(metadata, data_sha256="0" * 64))
    digest = hashlib.sha256(split_file(read_bytes(p))[2]).hexdigest()
    save_file(tensors, p, metadata=dict(metadata, data_sha256=digest))
    assert hashlib.sha256(split_file(read_bytes(p))[2]).hexdigest() == digest
    return p


def readout_width(config):
    if config["readout_qubits"] > 0:
        return config["readout_qubits"]
    r = 0
    while (1 << r) < config["classes"]:
        r += 1
    return max(r, 1)


def expected_shapes(metadata):
    """The parameters (name -> shape) of a network of this kind and configuration."""
    config = json.loads(metadata["config"])
    n = config["data_qubits"] + config["ancillas"]
    shapes = {}
    if config["features"] > 0:
        shapes["encoder.linear.weight"] = (config["data_qubits"], config["features"])
        shapes["encoder.linear.bias"] = (config["data_qubits"],)
    for k in range(config["branches"]):
        for l in range(config["blocks"]):
            prefix = "branch{}.block{}.".format(k, l)
            shapes[prefix + "W"], shapes[prefix + "b"] = (n, n), (n,)
            if metadata["kind"] == "hqrn":
                shapes[prefix + "V"], shapes[prefix + "a"] = (n, n), (n,)
    if config["readout"] != "born":
        width = config["branches"] * 2 ** readout_width(config)
        layers = config["hidden_layers"] if config["readout"] == "mlp" else 0
        for l in range(layers):
            shapes["head.mlp.{}.weight".format(2 * l)] = (config["hidden"], width)
            shapes["head.mlp.{}.bias".format(2 * l)] = (config["hidden"],)
            width = config["hidden"]
        shapes["head.mlp.{}.weight".format(2 * layers)] = (config["classes"], width)
        shapes["head.mlp.{}.bias".format(2 * layers)] = (config["classes"],)
    return shapes


def data_for(p):
    """The evaluation file that fits the checkpoint's input (features or states)."""
    _, metadata = read_checkpoint(p)
    return DATA["digits" if json.loads(metadata["config"])["features"] > 0 else "states"]


def evaluate(p, label):
    """(eval's JSON without the model's path, the predictions CSV's text)."""
    out_json, out_csv = path("eval", label + ".json"), path("eval", label + ".csv")
    run_ok(["eval", "--model", p, "--data", data_for(p), "--json", out_json, "--predictions", out_csv])
    with open(out_json) as f:
        summary = json.load(f)
    summary.pop("model")
    with open(out_csv) as f:
        return summary, f.read()


def make_fixtures():
    """The evaluation data and the checkpoints trained here (one epoch, tiny);
    returns the entanglement training's arguments but --epochs and --out."""
    train_csv, DATA["states"] = path("data", "states_train.csv"), path("data", "states_test.csv")
    run_ok(["gen-states", "--family", "random", "--n", "120", "--seed", "1", "--out", train_csv])
    run_ok(["gen-states", "--family", "random", "--n", "80", "--seed", "2", "--out", DATA["states"]])
    with gzip.open(os.path.join(SOURCE_DIR, "data", "digits.csv.gz"), "rt") as f:
        rows = [line.strip() for line in f if line.strip()][:120]
    DATA["digits"] = path("data", "digits_small.csv")
    with open(DATA["digits"], "w") as f:
        f.write("\n".join(rows) + "\n")
    for p in PRETRAINED:
        CHECKPOINTS[os.path.basename(p)] = p
    entanglement = ["--task", "entanglement", "--data", train_csv, "--test-data", DATA["states"], "--blocks", "1",
                    "--branches", "2", "--ancillas", "1", "--readout", "mlp", "--hidden", "8", "--hidden-layers", "1",
                    "--seed", "3", "--quiet"]
    CHECKPOINTS["trained_hqrn"] = path("trained", "hqrn.safetensors")
    run_ok(["train", "--model", "hqrn", "--out", CHECKPOINTS["trained_hqrn"], "--epochs", "1"] + entanglement)
    CHECKPOINTS["trained_classical"] = path("trained", "classical.safetensors")
    run_ok(["train", "--model", "classical", "--out", CHECKPOINTS["trained_classical"], "--epochs", "1"]
           + entanglement)
    CHECKPOINTS["trained_digits_classical"] = path("trained", "digits_classical.safetensors")
    run_ok(["train", "--task", "digits", "--model", "classical", "--data", DATA["digits"], "--epochs", "1",
            "--data-qubits", "4", "--readout-qubits", "4", "--blocks", "1", "--readout", "linear", "--seed", "4",
            "--quiet", "--out", CHECKPOINTS["trained_digits_classical"]])
    return entanglement


# ----------------------------------------------------------------------------
# (a) Read by Python


class ReadByPythonTest(unittest.TestCase):
    def test_shipped_and_trained_checkpoints_open_with_their_metadata_and_names(self):
        self.assertGreaterEqual(len(PRETRAINED), 1, "no models/pretrained/*.safetensors")
        versions = set()
        for label, p in CHECKPOINTS.items():
            with self.subTest(checkpoint=label):
                import numpy as np
                tensors, metadata = read_checkpoint(p)
                self.assertEqual(metadata.get("format"), "hqrn")
                self.assertIn(metadata.get("kind"), ("hqrn", "classical"))
                self.assertTrue(metadata.get("format_version", "").isdigit(), metadata)
                versions.add(metadata["format_version"])
                config = json.loads(metadata["config"])
                self.assertIsInstance(config, dict)
                for field in ("data_qubits", "ancillas", "features", "blocks", "branches", "classes", "readout"):
                    self.assertIn(field, config)
                header, _, body = split_file(read_bytes(p))
                self.assertEqual(metadata.get("data_sha256"), hashlib.sha256(body).hexdigest())

                # The parameters by name, with the configuration's shapes.
                parameters = {k: v for k, v in tensors.items() if not k.startswith("optimizer.")}
                shapes = expected_shapes(metadata)
                self.assertEqual(sorted(parameters), sorted(shapes))
                real = np.float32 if metadata.get("dtype") == "float32" else np.float64
                for name, value in parameters.items():
                    self.assertEqual(value.shape, shapes[name], name)
                    self.assertEqual(value.dtype, real, name)
                    self.assertTrue(np.isfinite(value).all(), name)
                # Python reads the bytes that the header's offsets name.
                for name, value in tensors.items():
                    begin, end = header[name]["data_offsets"]
                    self.assertEqual(value.astype(value.dtype.newbyteorder("<")).tobytes(), body[begin:end], name)

                # Adam's state: optimizer.<parameter>.<field>, for parameters only.
                optimizer = {k: v for k, v in tensors.items() if k.startswith("optimizer.")}
                if label.startswith("trained"):
                    self.assertTrue(optimizer, "a checkpoint of hqrn train has no optimizer state")
                    self.assertEqual(json.loads(metadata["training"])["epochs_done"], 1)
                for name, value in optimizer.items():
                    parameter, field = name[len("optimizer."):].rsplit(".", 1)
                    self.assertIn(parameter, shapes, name)
                    self.assertIn(field, ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"), name)
                    if field == "step":
                        self.assertEqual((value.shape, value.dtype), ((), np.int64), name)
                        self.assertGreater(int(value), 0, name)
                    else:
                        self.assertEqual(value.shape, shapes[parameter], name)
        self.assertEqual(len(versions), 1, "shipped and new checkpoints differ in format_version: {}".format(versions))


# ----------------------------------------------------------------------------
# (b) Written by Python


class WrittenByPythonTest(unittest.TestCase):
    def test_files_written_by_save_file_evaluate_the_same(self):
        for label, p in CHECKPOINTS.items():
            with self.subTest(checkpoint=label):
                tensors, metadata = read_checkpoint(p)
                rewritten = save_with_python(path("python", label + ".safetensors"), tensors, metadata)
                self.assertNotEqual(read_bytes(rewritten), read_bytes(p), "save_file wrote the same bytes")
                self.assertEqual(evaluate(rewritten, label + "_python"), evaluate(p, label))

    def test_training_resumes_from_a_file_written_by_save_file(self):
        # Adam's state as Python wrote it: resuming gives the same weights as
        # resuming from the original (training is deterministic for a seed).
        original = CHECKPOINTS["trained_hqrn"]
        tensors, metadata = read_checkpoint(original)
        from_python = save_with_python(path("resume", "python.safetensors"), tensors, metadata)
        from_original = shutil.copy(original, path("resume", "original.safetensors"))
        for out in (from_python, from_original):
            run_ok(["train", "--model", "hqrn", "--out", out, "--resume"] + ENTANGLEMENT_ARGS + ["--epochs", "2"])
        resumed = [read_checkpoint(out) for out in (from_python, from_original)]
        self.assertEqual([json.loads(m["training"])["epochs_done"] for _, m in resumed], [2, 2])
        self.assertEqual(sorted(resumed[0][0]), sorted(resumed[1][0]))
        for name in resumed[1][0]:
            self.assertEqual(resumed[0][0][name].tobytes(), resumed[1][0][name].tobytes(), name)


# ----------------------------------------------------------------------------
# (c) Hostile files


class HostileFilesTest(unittest.TestCase):
    def test_each_is_refused_with_exit_code_2_and_one_line(self):
        import numpy as np
        good = CHECKPOINTS["trained_hqrn"]
        raw = read_bytes(good)
        header, text, body = split_file(raw)
        tensors, metadata = read_checkpoint(good)
        # Two tensors of one size (W and V of a block) for the overlap.
        w, v = "branch0.block0.W", "branch0.block0.V"
        self.assertEqual(tensors[w].nbytes, tensors[v].nbytes)

        def edited(edit):
            h = json.loads(text)
            edit(h)
            return assemble(json.dumps(h), body)

        def python_written(name, change):
            t = dict(tensors)
            change(t)
            return read_bytes(save_with_python(path("hostile", "staging", name), t, metadata))

        def overlap(h):
            h[v]["data_offsets"] = list(h[w]["data_offsets"])

        flipped = bytearray(body)
        flipped[len(flipped) // 2] ^= 0x01
        with_nan = {w: np.full_like(tensors[w], np.nan)}
        closing = text.rstrip().rindex("}")
        cases = {
            "huge_header_length": ((2 ** 62).to_bytes(8, "little") + raw[8:], ("over the limit",)),
            "header_past_the_end": (len(raw).to_bytes(8, "little") + raw[8:], ("truncated",)),
            "truncated": (raw[:len(raw) - 100], ("outside the data section",)),
            "overlapping_offsets": (edited(overlap), ("overlaps",)),
            "unknown_dtype": (edited(lambda h: h[w].update(dtype="F8_E4M3")), ("unknown dtype", "f8_e4m3")),
            "wrong_data_sha256": (assemble(text, bytes(flipped)), ("corrupt", "sha-256")),
            "missing_tensor": (python_written("missing", lambda t: t.pop(v)), (v, "missing")),
            "wrong_shape": (python_written("shape", lambda t: t.update({w: np.zeros((4, 4))})),
                            (w, "shape [4, 4]", "expected [3, 3]")),
            "wrong_dtype": (python_written("dtype", lambda t: t.update({w: tensors[w].astype(np.float32)})),
                            (w, "f32", "f64")),
            "nan_parameter": (python_written("nan", lambda t: t.update(with_nan)), (w, "nan")),
            # The same key twice: JSON parsers keep the first or the last, so
            # two readers could see two different models.
            "duplicate_tensor": (assemble(text[:closing] + ',"{}":{}}}'.format(w, json.dumps(header[w])), body),
                                 ("twice", w)),
            "duplicate_metadata": (assemble(text.replace('"kind":"hqrn"', '"kind":"hqrn","kind":"classical"', 1),
                                            body), ("twice", "kind")),
        }
        self.assertIn('"kind":"hqrn"', text, "the duplicate-metadata case edits nothing")
        for name, (content, words) in cases.items():
            with self.subTest(case=name):
                p = write_bytes(path("hostile", name + ".safetensors"), content)
                proc = run(["eval", "--model", p, "--data", DATA["states"]])
                self.assertEqual(proc.returncode, 2, describe(proc))
                lines = [line for line in proc.stderr.splitlines() if line.strip()]
                self.assertEqual(len(lines), 1, "not one line on stderr\n" + describe(proc))
                self.assertIn(p, lines[0], describe(proc))
                for word in words:
                    self.assertIn(word.lower(), lines[0].lower(), describe(proc))
                self.assertNotIn("accuracy", proc.stdout, describe(proc))


ENTANGLEMENT_ARGS = []


def main():
    global HQRN, WORK, ENTANGLEMENT_ARGS
    if len(sys.argv) != 3:
        print("usage: test_safetensors_interop.py PATH_TO_HQRN VENV_DIR", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    HQRN, venv_dir = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    if not os.access(HQRN, os.X_OK):
        print("not an executable: " + HQRN, file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    if os.environ.get(IN_VENV_MARK) != "1":
        enter_venv(venv_dir)
    if os.path.realpath(sys.prefix) != os.path.realpath(venv_dir):
        print("error: running with {}, not the virtual environment {}".format(sys.executable, venv_dir),
              file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    import numpy
    import safetensors
    print("safetensors {}, numpy {} from {}".format(safetensors.__version__, numpy.__version__, venv_dir))
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="hqrn_interop_test_") as tmp:
        WORK = tmp
        ENTANGLEMENT_ARGS = make_fixtures()
        return support.run_suite((ReadByPythonTest, WrittenByPythonTest, HostileFilesTest), start)

if __name__ == "__main__":
    sys.exit(main())
