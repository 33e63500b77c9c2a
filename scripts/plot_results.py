#!/usr/bin/env python3
"""Plots of an `hqrn demo` folder: training curves and accuracy per task and model.

Usage: plot_results.py DIR   (reads DIR/summary.json and DIR/*_history.csv,
writes DIR/training_curves.png and DIR/accuracy.png; the phases experiment's
own figures are drawn by plot_phases.py in DIR/phases)
"""
import csv
import glob
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from figures import save_figure  # noqa: E402


def read_history(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    epochs = [int(r["epoch"]) for r in rows]
    loss = [float(r["loss"]) for r in rows]
    test = [float(r["test_accuracy"]) if r["test_accuracy"] else float("nan") for r in rows]
    return epochs, loss, test


def plot_curves(folder):
    paths = sorted(glob.glob(os.path.join(folder, "*_history.csv")))
    if not paths:
        return None
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(13, 5))
    for ax in (ax_loss, ax_acc):
        ax.set_prop_cycle(color=plt.cm.tab20.colors)
    for path in paths:
        name = os.path.basename(path)[: -len("_history.csv")]
        epochs, loss, test = read_history(path)
        ax_loss.plot(epochs, loss, label=name)
        ax_acc.plot(epochs, [100 * t for t in test], label=name)
    ax_loss.set(xlabel="epoch", ylabel="training loss (cross-entropy)", yscale="log", title="Training loss")
    ax_acc.set(xlabel="epoch", ylabel="test accuracy (%)", title="Held-out accuracy")
    ax_acc.legend(fontsize=7, loc="lower right")
    return save_figure(fig, folder, "training_curves.png", 120)


def plot_accuracy(folder):
    with open(os.path.join(folder, "summary.json")) as f:
        summary = json.load(f)
    tasks, bars = [], {"hqrn": [], "classical": [], "tomography": []}
    digits = summary["digits"]
    for label, entry in (("digits\n(linear)", digits), ("digits\n(born)", digits.get("born", {}))):
        if entry:
            tasks.append(label)
            bars["hqrn"].append(entry["hqrn_accuracy"])
            bars["classical"].append(entry["classical_accuracy"])
            bars["tomography"].append(float("nan"))
    for key, entry in summary.get("entanglement", {}).items():
        tasks.append("entanglement\n" + key.replace("_", " "))
        bars["hqrn"].append(entry["hqrn_accuracy"])
        bars["classical"].append(entry["classical_accuracy"])
        bars["tomography"].append(entry["tomography_accuracy"])
    phases = summary.get("phases")
    if phases:
        # The tomography column is the MLP on all one- and two-body Pauli expectations there.
        for set_name, label in (("plane", "plane (S ref.)"), ("twins", "dual twins")):
            tasks.append("phases N={}\n{}".format(phases["spins"], label))
            for model, key in (("hqrn", "hqrn"), ("classical", "classical"), ("tomography", "pauli_mlp")):
                bars[model].append(phases[key][set_name + "_accuracy"])
    fig, ax = plt.subplots(figsize=(13 if phases else 11, 5))
    width = 0.27
    for i, (model, values) in enumerate(bars.items()):
        xs = [t + (i - 1) * width for t in range(len(tasks))]
        rects = ax.bar(xs, [100 * v for v in values], width, label=model)
        ax.bar_label(rects, fmt="%.1f", fontsize=7)
    ax.set_xticks(range(len(tasks)), tasks, fontsize=8)
    ax.set(ylabel="test accuracy (%)", ylim=(0, 118), title="HQRN vs classical analog vs full tomography")
    ax.axhline(50, color="grey", lw=0.5, ls="--")
    ax.legend(loc="upper center", ncol=3)
    return save_figure(fig, folder, "accuracy.png", 120)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    folder = sys.argv[1]
    for out in (plot_curves(folder), plot_accuracy(folder)):
        if out:
            print("wrote", out)


if __name__ == "__main__":
    main()
