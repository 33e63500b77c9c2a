"""Entanglement from two-qubit states, from a classical start. The classical
analog (trained with torch.optim; it sees the states' diagonals) cannot tell
entangled states from their dephased twins. Translated into an HQRN, it is
first fine-tuned on its quantum-only weights V, a alone (everything classical
frozen): the loss on the quantum states falls while the predictions on
diagonal inputs stay the classical network's, bit for bit (the exactness
theorem). Then every weight is trained in quantum mode, which reads the
coherences.

    build/bin/hqrn gen-states --family adversarial-dephased --n 2000 --seed 10 --out train.csv
    build/bin/hqrn gen-states --family adversarial-dephased --n 1000 --seed 11 --out test.csv
    PYTHONPATH=build/python python3 python/examples/finetune_entanglement.py \\
        --train train.csv --test test.csv --out out/py-entanglement

The fine-tuned checkpoint is readable by `hqrn eval --model OUT/finetuned_hqrn.safetensors --data test.csv`.
"""

import argparse
import json
import os

import torch
import torch.nn.functional as F

import hqrn


def fit(model, parameters, x, y, epochs, lr, mode, label):
    optimizer = torch.optim.Adam(parameters, lr=lr)
    for epoch in range(epochs):
        total = 0.0
        for batch in torch.randperm(len(y)).split(64):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x[batch], mode=mode), y[batch])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        print("{} epoch {}/{}: loss {:.4f}".format(label, epoch + 1, epochs, total / len(y)), flush=True)


def accuracy(model, x, y, mode):
    with torch.no_grad():
        return (model(x, mode=mode).argmax(1) == y).double().mean().item()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    torch.set_num_threads(max(1, os.cpu_count() or 1))

    x_train, y_train = hqrn.read_state_csv(args.train)
    x_test, y_test = hqrn.read_state_csv(args.test)
    config = hqrn.NetworkConfig(data_qubits=2, branches=4, readout="mlp", hidden=32, init_std=1.0)
    classical = hqrn.ClassicalResNet(config)
    fit(classical, classical.parameters(), x_train, y_train, args.epochs, 0.02, "classical", "classical")
    classical_acc = accuracy(classical, x_test, y_test, "classical")

    model = hqrn.translate_classical(classical)
    diagonals = x_test.diagonal(dim1=1, dim2=2).real  # probability vectors: classical inputs
    with torch.no_grad():
        before = model(diagonals, mode="quantum")
        loss_before = F.cross_entropy(model(x_train, mode="quantum"), y_train).item()
        # Zero V, a make the HQRN the classical network, where their gradient vanishes
        # on these symmetric tasks: start them at random.
        for q in model.quantum_parameters():
            q.normal_(0, 1.0)
    model.set_classical_trainable(False)
    fit(model, model.quantum_parameters(), x_train, y_train, args.epochs, 0.05, "quantum", "quantum-only")
    with torch.no_grad():
        loss_after = F.cross_entropy(model(x_train, mode="quantum"), y_train).item()
        unchanged = torch.equal(model(diagonals, mode="quantum"), before)
    quantum_only_acc = accuracy(model, x_test, y_test, "quantum")

    model.set_classical_trainable(True)
    fit(model, model.parameters(), x_train, y_train, args.epochs, 0.02, "quantum", "all weights")
    path = os.path.join(args.out, "finetuned_hqrn.safetensors")
    hqrn.save(model, path)
    summary = {"classical_accuracy": classical_acc,
               "quantum_only": {"train_loss_before": loss_before, "train_loss_after": loss_after,
                                "accuracy": quantum_only_acc, "diagonal_predictions_unchanged": unchanged},
               "finetuned_accuracy": accuracy(model, x_test, y_test, "quantum"), "checkpoint": path}
    print(json.dumps(summary, indent=2))
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
