#!/usr/bin/env python3
"""Plot of an `hqrn study noise` folder: test accuracy per entanglement family
against depolarizing strength (top row) and against shots (bottom row).

Usage: plot_noise_study.py DIR   (reads DIR/noise_study.csv, writes DIR/noise_study.png)
"""
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from figures import save_figure  # noqa: E402

# One colour per model in both rows (the shots row has no noisy-trained HQRN).
MODELS = [
    ("hqrn_trained_noiseless", "HQRN trained without noise", "tab:blue"),
    ("hqrn_trained_noisy", "HQRN trained with the noise", "tab:orange"),
    ("tomography", "tomography MLP (15 Paulis, same channel)", "tab:green"),
    ("classical", "classical analog", "tab:red"),
]
FAMILIES = ["random", "adversarial-dephased", "adversarial-marginal"]


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def series(rows, axis, family, model):
    return [r for r in rows if r["axis"] == axis and r["family"] == family and r["model"] == model]


def main(folder):
    rows = read_rows(os.path.join(folder, "noise_study.csv"))
    fig, axes = plt.subplots(2, len(FAMILIES), figsize=(5 * len(FAMILIES), 8), sharey=True, squeeze=False)
    for column, family in enumerate(FAMILIES):
        top, bottom = axes[0][column], axes[1][column]
        finite_shots = sorted({int(r["value"]) for r in rows if r["axis"] == "shots" and r["value"] != "exact"})
        # "exact" sits one decade right of the largest shot count.
        exact_at = (finite_shots[-1] if finite_shots else 1) * 10
        for model, label, color in MODELS:
            noisy = series(rows, "depolarizing", family, model)
            if noisy:
                # p = 0 drawn at a tenth of the smallest positive p, on the log axis.
                ps = [float(r["value"]) for r in noisy]
                positive = [p for p in ps if p > 0]
                zero_at = min(positive) / 10 if positive else 1e-4
                top.plot([p if p > 0 else zero_at for p in ps], [float(r["accuracy"]) for r in noisy], "o-",
                         label=label, color=color)
                top.set_xscale("log")
            shots = series(rows, "shots", family, model)
            if shots:
                xs = [exact_at if r["value"] == "exact" else int(r["value"]) for r in shots]
                bottom.errorbar(xs, [float(r["accuracy"]) for r in shots],
                                yerr=[float(r["accuracy_std"]) for r in shots], fmt="o-", capsize=3, label=label,
                                color=color)
                bottom.set_xscale("log")
                ticks = finite_shots + [exact_at]
                bottom.set_xticks(ticks)
                bottom.set_xticklabels([str(t) for t in finite_shots] + ["exact"])
        top.set_title(family)
        top.set_xlabel("depolarizing p per qubit and step (leftmost point: p = 0)")
        bottom.set_xlabel("shots per branch (tomography: per setting), noiseless")
        for ax in (top, bottom):
            ax.axhline(0.5, color="grey", lw=0.8, ls=":")
            ax.grid(alpha=0.3)
        if column == 0:
            top.set_ylabel("test accuracy")
            bottom.set_ylabel("test accuracy (mean +- std over seeds)")
    axes[0][0].legend(fontsize=8, loc="lower left")
    out = save_figure(fig, folder, "noise_study.png", 110)
    print(f"wrote {out}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
