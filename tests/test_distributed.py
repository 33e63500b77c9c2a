"""Data-parallel runs on loopback: the c10d/Gloo group (tests/distributed_probe.cpp),
hqrn train with two and three ranks (by hand, torchrun, the Slurm wrapper)
against one process, killed ranks and --resume, and the Python DDP example.

Usage: test_distributed.py PROBE_BINARY HQRN_BINARY
"""

import os
import signal
import subprocess
import sys
import time
import unittest

from python_test_support import free_port, rank_environment

PROBE = os.path.abspath(sys.argv.pop(1))
HQRN = os.path.abspath(sys.argv.pop(1))
SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(HQRN), "..", "python"))


def launch(args_per_rank, timeout_ms=20000, binary=PROBE):
    port = free_port()
    procs = []
    for rank, args in enumerate(args_per_rank):
        env = rank_environment(rank, len(args_per_rank), port, PROBE_TIMEOUT_MS=str(timeout_ms))
        procs.append(subprocess.Popen([binary] + args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      universal_newlines=True))
    start = time.time()
    results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    return results, time.time() - start


class GroupTest(unittest.TestCase):
    def test_bucketed_sums_equal_the_formula(self):
        results, _ = launch([["sum"], ["sum"]])
        for out, err, rc in results:
            self.assertEqual(rc, 0, err)
            # ranks 0, 1: sum of (r+1) over 15 entries, 2r over 7, arange(10)*(r+1).
            self.assertIn("sums 45 14 135", out)

    def test_different_configurations_are_refused_on_every_rank(self):
        results, _ = launch([["config", "a"], ["config", "b"]])
        for out, err, rc in results:
            self.assertEqual(rc, 3, out + err)
            self.assertIn("do not run the same configuration", err)
        results, _ = launch([["config", "a"], ["config", "a"]])
        self.assertTrue(all(rc == 0 for _, _, rc in results), results)

    def test_a_dead_rank_stops_the_other_in_time(self):
        results, seconds = launch([["die-after-first"], ["die-after-first"]], timeout_ms=5000)
        out, err, rc = results[0]
        self.assertEqual(rc, 3, out + err)
        self.assertIn("another rank stopped", err)
        self.assertLess(seconds, 30)
        self.assertEqual(results[1][2], 9)

    def test_partial_launch_variables_are_named(self):
        env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE",
                                                                 "MASTER_ADDR", "MASTER_PORT")}
        env["RANK"] = "0"
        proc = subprocess.run([PROBE, "sum"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=60)
        self.assertEqual(proc.returncode, 3)
        self.assertIn("WORLD_SIZE", proc.stderr)


def torchrun_workaround():
    """Debian's torchrun 1.13 stops at start on Python 3.11 without --redirects 1 --tee 1
    (docs/distributed.md); PyPI's 2.x needs nothing."""
    import torch
    return ["--redirects", "1", "--tee", "1"] if torch.__version__.startswith("1.") else []


def torchrun(args, env=None, timeout=300):
    """torchrun of the torch this test runs under (python -m torch.distributed.run: the
    torchrun script on PATH may belong to another Python), with two local ranks.
    In a session of its own: on a timeout the workers are killed with it, not left behind."""
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
               str(free_port())] + torchrun_workaround()
    proc = subprocess.Popen(command + args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        raise AssertionError("torchrun did not finish in {} s:\n{}".format(timeout, out[-3000:]))
    return subprocess.CompletedProcess(proc.args, proc.returncode, out)


def history(path):
    """The per-epoch rows (loss, accuracies) of a run's history CSV."""
    with open(path + ".history.csv") as f:
        rows = [line.strip().split(",") for line in f if line.strip()]
    header = rows[0]
    return [{k: float(v) for k, v in zip(header, row) if k != "seconds"} for row in rows[1:]]


def max_parameter_difference(a, b):
    import hqrn
    return max((p - q).abs().max().item() for p, q in zip(hqrn.load(a).parameters(), hqrn.load(b).parameters()))


class Runs:
    """The runs' data (made once) and the single-process references."""
    dir = data = long_data = test = None

    @classmethod
    def make_data(cls):
        if cls.dir:
            return
        import tempfile
        cls.dir = tempfile.mkdtemp(prefix="hqrn-dist-")
        cls.data = os.path.join(cls.dir, "train.csv")
        cls.long_data = os.path.join(cls.dir, "long.csv")
        cls.test = os.path.join(cls.dir, "test.csv")
        for path, n, seed in ((cls.data, 300, 1), (cls.test, 202, 2), (cls.long_data, 4000, 3)):
            subprocess.run([HQRN, "gen-states", "--family", "random", "--n", str(n), "--seed", str(seed), "--out", path],
                           check=True, stdout=subprocess.DEVNULL)

    @classmethod
    def train_args(cls, out, epochs=2, data=None, threads=True):
        return (["--threads", "1"] if threads else []) + [
            "train", "--task", "entanglement", "--data", data or cls.data, "--test-data", cls.test,
            "--epochs", str(epochs), "--batch-size", "50", "--quiet", "--ancillas", "1", "--branches", "2",
            "--out", out]

    @classmethod
    def single(cls, name, epochs=2, data=None):
        path = os.path.join(cls.dir, name)
        if not os.path.exists(path):
            subprocess.run([HQRN] + cls.train_args(path, epochs, data), check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        return path


def setUpModule():
    Runs.make_data()


class SameRunCase(unittest.TestCase):
    def assertSameRun(self, reference, run):
        self.assertLess(max_parameter_difference(reference, run), 1e-10)
        # Loss and accuracies of every epoch (the test accuracy reduced over the ranks' shards).
        for a, b in zip(history(reference), history(run)):
            for key in a:
                self.assertAlmostEqual(a[key], b[key], delta=1e-10, msg=key)
        self.assertEqual(len(history(reference)), len(history(run)))


class TrainTest(SameRunCase, Runs):

    def test_two_ranks_equal_one_process(self):
        single = self.single("single.safetensors")
        both = os.path.join(self.dir, "two.safetensors")
        results, _ = launch([self.train_args(both)] * 2, binary=HQRN)
        self.assertTrue(all(rc == 0 for _, _, rc in results), results)
        self.assertSameRun(single, both)
        self.assertIn("in collectives", results[0][1])
        # The same under torchrun (Debian's 1.13 needs --redirects 1 --tee 1 on Python 3.11).
        run = os.path.join(self.dir, "torchrun.safetensors")
        proc = torchrun(["--no_python", HQRN] + self.train_args(run))
        self.assertEqual(proc.returncode, 0, proc.stdout[-3000:])
        self.assertSameRun(single, run)

    def test_three_ranks_with_uneven_shards(self):
        # 300 samples in batches of 50 over 3 ranks: 17/17/16 rows; the test set's 202 rows: 68/67/67.
        run = os.path.join(self.dir, "three.safetensors")
        results, _ = launch([self.train_args(run)] * 3, binary=HQRN)
        self.assertTrue(all(rc == 0 for _, _, rc in results), results)
        self.assertSameRun(self.single("single.safetensors"), run)

    def test_threads_default_to_the_cores_shared_by_the_local_ranks(self):
        run = os.path.join(self.dir, "threads.safetensors")
        results, _ = launch([self.train_args(run, epochs=1, threads=False)] * 2, binary=HQRN)
        self.assertTrue(all(rc == 0 for _, _, rc in results), results)
        expected = max(1, (os.cpu_count() or 1) // 2)
        for _, err, _ in results:
            self.assertIn("data parallel, {} intra-op threads".format(expected), err)

    def test_different_data_is_refused(self):
        run = os.path.join(self.dir, "mismatch.safetensors")
        results, _ = launch([self.train_args(run), self.train_args(run, data=self.long_data)], binary=HQRN)
        for out, err, rc in results:
            self.assertEqual(rc, 2, out + err)
            self.assertIn("do not run the same configuration, data and starting point", err)
        self.assertFalse(os.path.exists(run))

    def test_a_killed_rank_stops_the_other_and_resume_finishes(self):
        import random
        epochs, timeout_ms = 30, 5000
        reference = self.single("long-single.safetensors", epochs, self.long_data)
        for victim in (1, 0):  # rank 0 also hosts the rendezvous store
            out = os.path.join(self.dir, "killed-{}.safetensors".format(victim))
            args = self.train_args(out, epochs, self.long_data) + ["--dist-timeout-ms", str(timeout_ms)]
            port = free_port()
            procs = [subprocess.Popen([HQRN] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      universal_newlines=True,
                                      env=rank_environment(r, 2, port))
                     for r in range(2)]
            deadline = time.time() + 120
            while not os.path.exists(out) and time.time() < deadline:
                time.sleep(0.02)
            self.assertTrue(os.path.exists(out), "no checkpoint after the first epoch")
            time.sleep(random.uniform(0.05, 0.8))  # somewhere in a later epoch
            procs[victim].kill()
            killed_at = time.time()
            survivor = procs[1 - victim]
            _, err = survivor.communicate(timeout=timeout_ms / 1000 + 30)
            procs[victim].communicate()
            stopped_after = time.time() - killed_at
            print("rank {} killed after epoch {}: rank {} stopped {:.2f} s later".format(
                victim, len(history(out)), 1 - victim, stopped_after), file=sys.stderr)
            self.assertLess(stopped_after, timeout_ms / 1000 + 10)
            self.assertEqual(survivor.returncode, 2, err)
            self.assertIn("another rank stopped or is unreachable", err)
            done = len(history(out))
            self.assertGreaterEqual(done, 1)
            self.assertLess(done, epochs, "the run finished before the kill")
            # The checkpoint is intact: a copy resumes with two ranks, the original with one.
            copy = out.replace(".safetensors", "-copy.safetensors")
            import shutil
            shutil.copy(out, copy)
            shutil.copy(out + ".history.csv", copy + ".history.csv")
            results, _ = launch([self.train_args(copy, epochs, self.long_data) + ["--resume"]] * 2, binary=HQRN)
            self.assertTrue(all(rc == 0 for _, _, rc in results), results)
            self.assertSameRun(reference, copy)
            subprocess.run([HQRN] + self.train_args(out, epochs, self.long_data) + ["--resume"], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.assertSameRun(reference, out)


class SlurmTest(SameRunCase, Runs):
    SCRIPT = os.path.join(SOURCE_DIR, "scripts", "slurm-rank.sh")

    def slurm_env(self, procid, ntasks, localid, nodeid, tasks_per_node, **extra):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "MASTER_"))}
        env.update(SLURM_PROCID=str(procid), SLURM_NTASKS=str(ntasks), SLURM_LOCALID=str(localid),
                   SLURM_NODEID=str(nodeid), SLURM_TASKS_PER_NODE=tasks_per_node, SLURM_JOB_ID="4242", **extra)
        return env

    def variables(self, env):
        proc = subprocess.run(["bash", self.SCRIPT, "env"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=30)
        return proc, dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)

    def test_task_variables_map_to_the_launcher_contract(self):
        # Node 3 of "2(x3),1" runs one task: global rank 6 of 7.
        proc, v = self.variables(self.slurm_env(6, 7, 0, 3, "2(x3),1", SLURM_JOB_NODELIST="n1,n2,n3,n4"))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual((v["RANK"], v["WORLD_SIZE"], v["LOCAL_RANK"], v["LOCAL_WORLD_SIZE"], v["MASTER_ADDR"],
                          v["MASTER_PORT"]), ("6", "7", "0", "1", "n1", str(29500 + 4242)))
        proc, v = self.variables(self.slurm_env(1, 7, 1, 0, "2(x3),1", SLURM_JOB_NODELIST="n1,n2,n3,n4"))
        self.assertEqual(v["LOCAL_WORLD_SIZE"], "2")
        proc, _ = self.variables(self.slurm_env(1, 2, 1, 0, "2", SLURM_JOB_NODELIST="n1,n2")
                                 | {"SLURM_PROCID": ""})
        self.assertEqual(proc.returncode, 2)
        self.assertIn("SLURM_PROCID is not set", proc.stderr)
        proc, _ = self.variables(self.slurm_env(0, 2, 0, 0, "2x", SLURM_JOB_NODELIST="n1"))
        self.assertIn("cannot read SLURM_TASKS_PER_NODE", proc.stderr)

    def test_two_srun_tasks_train_like_one_process(self):
        out = os.path.join(self.dir, "slurm.safetensors")
        port = free_port()
        procs = [subprocess.Popen(["bash", self.SCRIPT, HQRN] + self.train_args(out),
                                  env=self.slurm_env(r, 2, r, 0, "2", SLURM_JOB_NODELIST="localhost",
                                                     MASTER_PORT=str(port)),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
                 for r in range(2)]
        results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
        self.assertTrue(all(rc == 0 for _, _, rc in results), results)
        self.assertSameRun(self.single("single.safetensors"), out)


class PythonDDPTest(unittest.TestCase):
    def test_ddp_example_under_torchrun_equals_one_process(self):
        example = os.path.join(SOURCE_DIR, "python", "examples", "ddp_entanglement.py")
        env = dict(os.environ, PYTHONPATH=os.path.join(os.path.dirname(HQRN), "..", "python"))
        args = ["--train", Runs.data, "--test", Runs.test, "--epochs", "2", "--batch-size", "50"]
        one = os.path.join(Runs.dir, "ddp-one.safetensors")
        subprocess.run([sys.executable, example] + args + ["--out", one], check=True, env=env,
                       stdout=subprocess.DEVNULL, timeout=300)
        two = os.path.join(Runs.dir, "ddp-two.safetensors")
        proc = torchrun([example] + args + ["--out", two], env=env)
        self.assertEqual(proc.returncode, 0, proc.stdout[-3000:])
        self.assertIn("saved {} (2 ranks)".format(two), proc.stdout)
        self.assertLess(max_parameter_difference(one, two), 1e-10)
        # Rank 0's checkpoint is a regular HQRN checkpoint for the C++ tool.
        subprocess.run([HQRN, "eval", "--model", two, "--data", Runs.test], check=True, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    unittest.main(verbosity=2)
