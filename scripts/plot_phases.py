#!/usr/bin/env python3
"""Plots of an `hqrn study phases` folder (also the demo's phases/ folder).

Usage: plot_phases.py DIR   (reads DIR/results.json and DIR/N<n>_plane.csv;
writes DIR/phase_diagram_N<n>.png per ring size and DIR/phases_accuracy.png)

A phase diagram has the reference (string order parameter S over the plane,
with the boundary S = S_c drawn), the antiferromagnetic order m_s^2, and
each model's predicted P(SPT), with the same reference boundary on top.
"""
import csv
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from figures import save_figure  # noqa: E402

TITLES = {
    "hqrn": "HQRN",
    "classical": "classical analog",
    "pauli_mlp": "MLP on 1- and 2-body Paulis",
    "hqrn_string": "HQRN, string-order sweep",
}


def read_points(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def grid(rows, key):
    """(h1 values, h2 values, matrix [h2][h1]) with NaN where a point is missing."""
    h1s = sorted({float(r["h1"]) for r in rows})
    h2s = sorted({float(r["h2"]) for r in rows})
    i1 = {v: i for i, v in enumerate(h1s)}
    i2 = {v: i for i, v in enumerate(h2s)}
    z = [[math.nan] * len(h1s) for _ in h2s]
    for r in rows:
        z[i2[float(r["h2"])]][i1[float(r["h1"])]] = float(r[key])
    return h1s, h2s, z


def edges(values):
    """Cell edges around sorted centres, for pcolormesh."""
    if len(values) == 1:
        return [values[0] - 0.5, values[0] + 0.5]
    mids = [(a + b) / 2 for a, b in zip(values, values[1:])]
    return [2 * values[0] - mids[0]] + mids + [2 * values[-1] - mids[-1]]


def boundary(ax, rows, critical):
    h1s, h2s, s = grid(rows, "string_order")
    if len(h1s) > 1 and len(h2s) > 1:
        ax.contour(h1s, h2s, s, levels=[critical], colors="white", linewidths=2.2)
        ax.contour(h1s, h2s, s, levels=[critical], colors="black", linewidths=1.0, linestyles="--")


def panel(fig, ax, rows, key, title, cmap, vmin, vmax, critical, label):
    h1s, h2s, z = grid(rows, key)
    mesh = ax.pcolormesh(edges(h1s), edges(h2s), z, cmap=cmap, vmin=vmin, vmax=vmax, shading="flat")
    boundary(ax, rows, critical)
    ax.axhline(0, color="grey", lw=0.6, ls=":")
    ax.set(xlabel="h1 / J", ylabel="h2 / J", title=title)
    fig.colorbar(mesh, ax=ax, label=label)


def plot_diagram(folder, n, run):
    path = os.path.join(folder, "N{}_plane.csv".format(n))
    if not os.path.exists(path):
        return None
    rows = read_points(path)
    critical = run["critical_string_order"]
    models = [m for m in ("hqrn", "classical", "pauli_mlp", "hqrn_string") if "p_spt_" + m in rows[0]]
    count = 2 + len(models)
    cols = 3
    lines = (count + cols - 1) // cols
    fig, axes = plt.subplots(lines, cols, figsize=(5.2 * cols, 4.3 * lines), squeeze=False)
    flat = [a for line in axes for a in line]
    panel(fig, flat[0], rows, "string_order", "reference: string order S (S = S_c = {:.3f} dashed)".format(critical),
          "viridis", None, None, critical, "S")
    panel(fig, flat[1], rows, "antiferromagnetic_order", "antiferromagnetic order m_s^2", "magma", 0, 1, critical,
          "m_s^2")
    for ax, model in zip(flat[2:], models):
        acc = run.get("models", {}).get(model, {}).get("plane_accuracy")
        title = "{}: P(SPT){}".format(TITLES.get(model, model),
                                      "" if acc is None else ", accuracy {:.1f}%".format(100 * acc))
        panel(fig, ax, rows, "p_spt_" + model, title, "coolwarm", 0, 1, critical, "P(SPT)")
    for ax in flat[count:]:
        ax.axis("off")
    fig.suptitle("Cluster-Ising ring, N = {}: trained on the line h2 = 0, predicted over the plane".format(n))
    return save_figure(fig, folder, "phase_diagram_N{}.png".format(n), 110)


def plot_accuracy(folder, results):
    runs = results.get("runs", {})
    if not runs:
        return None
    sizes = sorted(runs, key=int)
    models = []
    for n in sizes:
        for m in runs[n].get("models", {}):
            if m not in models:
                models.append(m)
    fig, (ax_n, ax_shots) = plt.subplots(1, 2, figsize=(14, 5))
    width = 0.8 / max(1, 2 * len(models))
    for k, model in enumerate(models):
        for s, (set_name, hatch) in enumerate((("plane", ""), ("twins", "//"))):
            xs = [i + (2 * k + s - len(models)) * width + width / 2 for i in range(len(sizes))]
            ys = [100 * runs[n].get("models", {}).get(model, {}).get(set_name + "_accuracy", math.nan) for n in sizes]
            bars = ax_n.bar(xs, ys, width, color="C{}".format(k), hatch=hatch, edgecolor="black", linewidth=0.3,
                            label="{} ({})".format(TITLES.get(model, model), set_name))
            ax_n.bar_label(bars, fmt="%.0f", fontsize=6)
    ax_n.set_xticks(range(len(sizes)), ["N = {}".format(n) for n in sizes])
    ax_n.axhline(50, color="grey", lw=0.5, ls="--")
    ax_n.set(ylabel="accuracy (%)", ylim=(0, 150), title="Exact readouts: plane (reference labels) and dual twins")
    ax_n.legend(fontsize=6.5, ncol=2, loc="upper center")
    largest = sizes[-1]
    for k, model in enumerate(models):
        r = runs[largest].get("models", {}).get(model, {})
        for set_name, style in (("plane", "-"), ("twins", "--")):
            points = r.get("shots", {}).get(set_name, [])
            if not points:
                continue
            xs = [p["shots"] for p in points]
            ys = [100 * p["accuracy_mean"] for p in points]
            es = [100 * p["accuracy_std"] for p in points]
            ax_shots.errorbar(xs, ys, yerr=es, color="C{}".format(k), ls=style, marker="o", ms=3, capsize=2,
                              label="{} ({})".format(TITLES.get(model, model), set_name))
            exact = r.get(set_name + "_accuracy")
            if exact is not None:
                ax_shots.axhline(100 * exact, color="C{}".format(k), ls=style, lw=0.5)
    ax_shots.set(xscale="log", xlabel="shots", ylabel="accuracy (%)", ylim=(0, 105),
                 title="Finite shots, N = {} (thin lines: exact)".format(largest))
    ax_shots.axhline(50, color="grey", lw=0.5, ls="--")
    ax_shots.legend(fontsize=7, loc="lower right")
    return save_figure(fig, folder, "phases_accuracy.png", 110)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    folder = sys.argv[1]
    with open(os.path.join(folder, "results.json")) as f:
        results = json.load(f)
    outs = [plot_diagram(folder, n, run) for n, run in sorted(results.get("runs", {}).items(), key=lambda kv: int(kv[0]))]
    outs.append(plot_accuracy(folder, results))
    for out in outs:
        if out:
            print("wrote", out)


if __name__ == "__main__":
    main()
