"""Train the classical analog on the digits with torch.optim, translate it into
an HQRN, and check the exactness theorem: on the encoded (diagonal) inputs the
HQRN's class probabilities equal the classical network's.

    PYTHONPATH=build/python python3 python/examples/translate_digits.py --out out/py-digits
"""

import argparse
import json
import os

import torch
import torch.nn.functional as F

import hqrn


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "data", "digits.csv.gz"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    torch.set_num_threads(max(1, os.cpu_count() or 1))

    x, y = hqrn.read_classical_csv(args.data)
    order = torch.randperm(len(y))
    test, train = order[:400], order[400:]
    config = hqrn.NetworkConfig(data_qubits=8, features=64, feature_scale=1 / 16, blocks=2, classes=10,
                                readout_qubits=8)
    classical = hqrn.ClassicalResNet(config)
    optimizer = torch.optim.Adam(classical.parameters(), lr=0.05)
    for epoch in range(args.epochs):
        for batch in train[torch.randperm(len(train))].split(32):
            optimizer.zero_grad()
            F.cross_entropy(classical(x[batch]), y[batch]).backward()
            optimizer.step()
        with torch.no_grad():
            acc = (classical(x[test]).argmax(1) == y[test]).double().mean().item()
        print("epoch {}/{}: classical test accuracy {:.2%}".format(epoch + 1, args.epochs, acc), flush=True)
    hqrn.save(classical, os.path.join(args.out, "digits_classical.safetensors"))

    model = hqrn.translate_classical(classical)
    hqrn.save(model, os.path.join(args.out, "digits_hqrn.safetensors"))
    with torch.no_grad():
        p_classical = classical.predict_proba(x[test])
        p_quantum = model.predict_proba(x[test], mode="quantum", execution="aware")
        p_dense = model.predict_proba(x[test][:16], mode="quantum", execution="dense")
    summary = {
        "classical_accuracy": (p_classical.argmax(1) == y[test]).double().mean().item(),
        "hqrn_accuracy": (p_quantum.argmax(1) == y[test]).double().mean().item(),
        "max_probability_difference": (p_classical - p_quantum).abs().max().item(),
        "dense_max_probability_difference": (p_classical[:16] - p_dense).abs().max().item(),
    }
    print(json.dumps(summary, indent=2))
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
