"""Joins HQRN's and the peers' records into DIR/peers.json, DIR/peers-meta.json
and the table DIR/peers.md (also printed). Standard library only.

    report.py --work DIR/work --out DIR --command "..." --seconds S
"""

import argparse
import json
import os
import platform


def fastest_hqrn(hqrn_records, n, batch, what):
    """(seconds, execution) of HQRN's faster execution on this configuration."""
    mine = [r for r in hqrn_records
            if (r["n"], r["batch"], r["what"]) == (n, batch, what) and r["seconds"] is not None]
    best = min(mine, key=lambda r: r["seconds"])
    return best["seconds"], best["execution"]


def machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": model, "cores": os.cpu_count(), "system": platform.platform()}


def fmt(seconds):
    return "—" if seconds is None else "{:.3g}".format(seconds)


def table(records):
    lines = ["| n | B | what | peer | peer s | HQRN s (execution) | peer / HQRN | max abs diff |",
             "| ---: | ---: | --- | --- | ---: | ---: | ---: | ---: |"]
    for r in sorted(records, key=lambda r: (r["what"], r["n"], r["batch"], r["peer"])):
        ratio = "—" if r["seconds"] is None else "{:.3g}".format(r["seconds"] / r["hqrn_seconds"])
        diff = "—" if r["max_abs_difference"] is None else "{:.1e}".format(r["max_abs_difference"])
        peer_seconds = fmt(r["seconds"]) if "note" not in r else r["note"]
        lines.append("| {} | {} | {} | {} | {} | {} ({}) | {} | {} |".format(
            r["n"], r["batch"], r["what"], r["peer"], peer_seconds, fmt(r["hqrn_seconds"]), r["hqrn_execution"],
            ratio, diff))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--command", required=True)
    parser.add_argument("--seconds", type=float, required=True)
    args = parser.parse_args()
    with open(os.path.join(args.work, "hqrn.json")) as f:
        hqrn = json.load(f)
    with open(os.path.join(args.work, "peer-records.json")) as f:
        peers = json.load(f)
    records = []
    for r in hqrn["records"]:  # HQRN's own executions, against the faster one
        seconds, execution = fastest_hqrn(hqrn["records"], r["n"], r["batch"], r["what"])
        records.append(dict({"peer": "HQRN " + r["execution"], "n": r["n"], "batch": r["batch"], "what": r["what"],
                             "seconds": r["seconds"], "hqrn_seconds": seconds, "hqrn_execution": execution,
                             "max_abs_difference": r.get("max_abs_difference")},
                            **({"note": r["note"]} if "note" in r else {})))
    for r in peers["records"]:
        seconds, execution = fastest_hqrn(hqrn["records"], r["n"], r["batch"], r["what"])
        records.append(dict(r, hqrn_seconds=seconds, hqrn_execution=execution))
    meta = dict(peers["meta"], command=args.command, wall_seconds=args.seconds, machine=machine(),
                threads=hqrn["threads"], torch=hqrn["torch"])
    with open(os.path.join(args.out, "peers.json"), "w") as f:
        json.dump(records, f, indent=1)
    with open(os.path.join(args.out, "peers-meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    versions = ", ".join("{} {}".format(k, v) for k, v in meta["versions"].items())
    text = "\n".join([
        "Command: `{}` ({:.0f} s). {} cores ({}), {} threads for everyone; torch {}; {}.".format(
            args.command, args.seconds, meta["machine"]["cores"], meta["machine"]["cpu"], meta["threads"],
            meta["torch"], versions),
        "Seconds are medians after a warm-up; a peer is timed only when it agrees with HQRN to {:g}.".format(
            meta["tolerance"]),
        "", table(records), ""]
        + ["Not measured: {}: {}".format(name, why) for name, why in meta["skipped_peers"].items()])
    with open(os.path.join(args.out, "peers.md"), "w") as f:
        f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
