"""Joins HQRN's and the peers' records into DIR/peers.json, DIR/peers-meta.json
and the table DIR/peers.md (also printed). Standard library only.

    report.py --work DIR/work --out DIR --command "..." --seconds S [--pure]

--pure: the pure-state run's records (pure-hqrn.json, pure-peer-records.json)
into DIR/peers-pure.json, DIR/peers-pure-meta.json and DIR/peers-pure.md, with
the peak memory of every case and where each system stops.
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


def mib(size):
    return "—" if size is None else "{:.0f}".format(size / 2 ** 20)


def pure_table(records, reference):
    """reference: (n, batch) -> seconds of HQRN's vectors execution."""
    lines = ["| n | B | system | forward s | / HQRN vectors | peak MiB | added MiB | max abs diff |",
             "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in records:
        vectors = reference.get((r["n"], r["batch"]))
        if r["status"] == "ok":
            seconds = fmt(r["seconds"]) + (" (1 run)" if r["repeats"] == 1 else "")
            ratio = "—" if not vectors else "{:.3g}".format(r["seconds"] / vectors)
        elif r["status"] == "skipped":
            seconds, ratio = r["note"], "—"
        else:
            seconds, ratio = "stopped ({}): {}".format(r["status"], r["message"]), "—"
        if r.get("note") and r["status"] == "ok":
            seconds += "; " + r["note"]
        added = None if not (r.get("peak_rss") and r.get("ready_rss")) else max(r["peak_rss"] - r["ready_rss"], 0)
        diff = "—" if r["max_abs_difference"] is None else "{:.1e}".format(r["max_abs_difference"])
        if r["system"] == "HQRN vectors" and r["status"] == "ok":
            diff = "reference"
        lines.append("| {} | {} | {} | {} | {} | {} | {} | {} |".format(
            r["n"], r["batch"], r["system"], seconds, ratio, mib(r.get("peak_rss")), mib(added), diff))
    return "\n".join(lines)


def where_each_stops(records):
    """Per system and batch: the largest n it finished, and what happened at the next n."""
    lines = []
    systems = []
    for r in records:
        if r["system"] not in systems:
            systems.append(r["system"])
    for system, batch in [(s, b) for s in systems for b in sorted({r["batch"] for r in records})]:
        mine = sorted((r for r in records if (r["system"], r["batch"]) == (system, batch)), key=lambda r: r["n"])
        if not mine:
            continue
        finished = [r["n"] for r in mine if r["status"] == "ok"]
        first_not = next((r for r in mine if r["status"] != "ok"), None)
        reached = "n = {}".format(max(finished)) if finished else "no n"
        if first_not is None:
            lines.append("- {}, B = {}: every n up to {}.".format(system, batch, max(finished)))
        else:
            why = first_not.get("note") if first_not["status"] == "skipped" else "stopped ({}): {}".format(
                first_not["status"], first_not["message"])
            lines.append("- {}, B = {}: up to {}; at n = {}: {}.".format(system, batch, reached, first_not["n"], why))
    return "\n".join(lines)


def pure_main(args):
    with open(os.path.join(args.work, "pure-hqrn.json")) as f:
        hqrn = json.load(f)
    with open(os.path.join(args.work, "pure-peer-records.json")) as f:
        peers = json.load(f)
    records = hqrn["records"] + peers["records"]
    rank = {}
    for r in records:
        rank.setdefault(r["system"], len(rank))
    records.sort(key=lambda r: (r["n"], r["batch"], rank[r["system"]]))
    reference = {(r["n"], r["batch"]): r["seconds"] for r in hqrn["records"]
                 if r["system"] == "HQRN vectors" and r["status"] == "ok"}
    for r in records:
        r["hqrn_vectors_seconds"] = reference.get((r["n"], r["batch"]))
    try:
        with open("/proc/loadavg") as f:
            load = " ".join(f.read().split()[:3])
    except OSError:
        load = "unknown"
    meta = dict(peers["meta"], command=args.command, wall_seconds=args.seconds, machine=machine(),
                load_average_at_end=load, threads=hqrn["threads"], torch=hqrn["torch"],
                readout_qubits=hqrn["readout_qubits"])
    versions = versions_of(meta)
    text = "\n".join([
        "Command: `{}` ({:.0f} s). {} cores ({}), {} threads for everyone, load average (1, 5, 15 min) at the "
        "end {}; torch {}; {}.".format(args.command, args.seconds, meta["machine"]["cores"], meta["machine"]["cpu"],
                                       meta["threads"], load, meta["torch"], versions),
        "Forward only, readout of the last {} qubits; seconds per batch of B states, the median of the runs "
        "after a warm-up (\"1 run\": one run after it, or over 10 s the warm-up itself); every case in its "
        "own process: peak = its resident high-water mark, added = peak minus its resident memory once "
        "imported and built. Limits: {:.0f} s for the first forward call, {:g} GiB resident. Max abs diff: "
        "from HQRN's vectors execution (tolerance {:g}).".format(
            meta["readout_qubits"], meta["time_limit_seconds"], meta["memory_limit_gib"], meta["tolerance"]),
        "", pure_table(records, reference), "", "Where each stops:", "", where_each_stops(records)])
    write_report(args.out, "peers-pure", records, meta, text)


def versions_of(meta):
    return ", ".join("{} {}".format(k, v) for k, v in meta["versions"].items())


def write_atomically(path, text):
    """Written beside, then renamed: an interrupted run leaves the previous report whole."""
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def write_report(out, stem, records, meta, text):
    """<stem>.json (the records), <stem>-meta.json and <stem>.md (text), then text on stdout."""
    write_atomically(os.path.join(out, stem + ".json"), json.dumps(records, indent=1))
    write_atomically(os.path.join(out, stem + "-meta.json"), json.dumps(meta, indent=1))
    write_atomically(os.path.join(out, stem + ".md"), text + "\n")
    print(text)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--command", required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--pure", action="store_true")
    args = parser.parse_args()
    if args.pure:
        return pure_main(args)
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
    versions = versions_of(meta)
    text = "\n".join([
        "Command: `{}` ({:.0f} s). {} cores ({}), {} threads for everyone; torch {}; {}.".format(
            args.command, args.seconds, meta["machine"]["cores"], meta["machine"]["cpu"], meta["threads"],
            meta["torch"], versions),
        "Seconds are medians after a warm-up; a peer is timed only when it agrees with HQRN to {:g}.".format(
            meta["tolerance"]),
        "", table(records), ""]
        + ["Not measured: {}: {}".format(name, why) for name, why in meta["skipped_peers"].items()])
    write_report(args.out, "peers", records, meta, text)


if __name__ == "__main__":
    main()
