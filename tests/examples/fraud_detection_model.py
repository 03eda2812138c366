#!/usr/bin/env python3
"""An independent model of examples/fraud_detection.cpp, for its tests.

Reads the program's input (the JSON-lines files of INPUT_DIR, one per batch in name order, and
the profiles CSV) and writes into EXPECTED_DIR the files the program must write: alerts-<ms>.json,
late-<ms>.json and malformed-<ms>.txt for every batch time, computed from the rules of
shared/api.md (watermark, sliding windows in append mode, interval join, late rows) and the
program's documented rules, without rill.

Usage: fraud_detection_model.py INPUT_DIR PROFILES_CSV EXPECTED_DIR
Prints a summary on stdout: alerts of each kind, late payments (at or below the previous batch's
watermark), malformed lines, batches, and the late payments that only the travel join ignored
(a window of theirs was still open).
"""
import csv
import json
import math
import os
import sys

INTERVAL = 1000           # ms, batch times 1000, 2000, ... (a manual clock at 0)
DELAY = 2 * 60_000        # watermark delay
WINDOW = 10 * 60_000      # sliding window size
SLIDE = 5 * 60_000        # and slide
TRAVEL_WITHIN = 5 * 60_000
DISTANT_KM = 2000
FIELDS = (("id", str), ("card", str), ("amount_cents", int), ("country", str), ("time", int))
COUNTRIES = {
    "FR": (48.8566, 2.3522), "DE": (52.5200, 13.4050), "ES": (40.4168, -3.7038),
    "IT": (41.9028, 12.4964), "GB": (51.5074, -0.1278), "NL": (52.3676, 4.9041),
    "US": (40.7128, -74.0060), "BR": (-23.5505, -46.6333), "JP": (35.6762, 139.6503),
    "AU": (-33.8688, 151.2093),
}


def parse_payment(line):
    """The payment of a line, or None when the line is not one (malformed)."""
    try:
        value = json.loads(line)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    payment = {}
    for name, kind in FIELDS:
        field = value.get(name)
        if kind is int and (not isinstance(field, int) or isinstance(field, bool)):
            return None
        if kind is str and not isinstance(field, str):
            return None
        payment[name] = field
    return payment


def km(a, b):
    if a not in COUNTRIES or b not in COUNTRIES:
        return None
    (lat1, lon1), (lat2, lon2) = COUNTRIES[a], COUNTRIES[b]
    rad = math.pi / 180
    h = (math.sin((lat2 - lat1) * rad / 2) ** 2 +
         math.cos(lat1 * rad) * math.cos(lat2 * rad) * math.sin((lon2 - lon1) * rad / 2) ** 2)
    d = 2 * 6371.0 * math.asin(math.sqrt(h))
    return int(math.floor(d + 0.5))  # llround: half away from zero (d >= 0)


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def late_json(p):
    record = {name: p[name] for name, _ in FIELDS}
    record["ignored_by"] = p["ignored_by"]
    return dumps(record)


def main(input_dir, profiles_csv, expected_dir):
    profiles = {}
    with open(profiles_csv, newline="") as f:
        for row in csv.DictReader(f):
            profiles[row["card"]] = (int(row["max_spend_cents"]), int(row["max_count"]))

    names = sorted(n for n in os.listdir(input_dir) if not n.startswith((".", "_")))
    batches = []
    for name in names:
        with open(os.path.join(input_dir, name), encoding="utf-8") as f:
            lines = f.read().split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        batches.append([line[:-1] if line.endswith("\r") else line for line in lines])

    wm = None           # the global watermark at the end of the latest batch
    wm_end = []         # wm_end[i]: at the end of batch i
    windows = {}        # (start, card) -> [spend, count]
    joined = {}         # card -> rows the join keeps (none evicted: see the join rule below)
    out = {}
    totals = {"limit": 0, "travel": 0, "late": 0, "malformed": 0, "join_only_late": 0}
    i = 0
    while True:
        if i < len(batches):
            lines = batches[i]
        elif i > 0 and wm_end[i - 1] != (wm_end[i - 2] if i >= 2 else None):
            lines = []  # the input is used up, but the watermark moved: one more, empty batch
        else:
            break
        t = (i + 1) * INTERVAL
        late_bound = wm_end[i - 2] if i >= 2 else None  # wm(t - interval)
        in_force = wm_end[i - 1] if i >= 1 else None    # wm(t)
        payments, malformed = [], []
        for line in lines:
            p = parse_payment(line)
            (malformed if p is None else payments).append(p if p is not None else line)

        # Limits: sliding windows in append mode; rows late for all their windows go to late.
        late = []
        for p in payments:
            e = p["time"]
            first = e - e % SLIDE
            starts = [s for s in range(first - WINDOW + SLIDE, first + 1, SLIDE) if s <= e < s + WINDOW]
            open_starts = [s for s in starts if late_bound is None or s + WINDOW > late_bound]
            # Late: at or below the previous batch's watermark (the travel join drops it); too
            # late for every window as well, or not (then the limits still counted it).
            if not open_starts:
                late.append(dict(p, ignored_by=["limits", "travel"]))
            elif late_bound is not None and e <= late_bound:
                late.append(dict(p, ignored_by=["travel"]))
                totals["join_only_late"] += 1
            for s in open_starts:
                acc = windows.setdefault((s, p["card"]), [0, 0])
                acc[0] += p["amount_cents"]
                acc[1] += 1
        alerts = []
        for (s, card) in sorted(windows):
            if in_force is not None and s + WINDOW <= in_force:
                spend, count = windows.pop((s, card))
                if card in profiles:
                    max_spend, max_count = profiles[card]
                    if spend > max_spend or count > max_count:
                        alerts.append({"kind": "limit", "card": card, "window_start": s,
                                       "window_end": s + WINDOW, "spend_cents": spend,
                                       "count": count, "max_spend_cents": max_spend,
                                       "max_count": max_count})

        # Travel: the interval self-join. Rows with time <= wm(t - interval) are dropped; every
        # pair of kept rows a, b of one card with a.time <= b.time <= a.time + 5 min is emitted
        # once, in the batch of the later of them (a kept row is never evicted before a row that
        # could match it arrives: such a row would be late).
        for q in payments:
            if late_bound is not None and q["time"] <= late_bound:
                continue
            kept = joined.setdefault(q["card"], [])
            for o in kept:  # each pair once, both orientations tried
                for x, y in ((o, q), (q, o)):
                    if not (x["time"] <= y["time"] <= x["time"] + TRAVEL_WITHIN):
                        continue
                    if x["time"] == y["time"] and x["id"] >= y["id"]:
                        continue
                    d = km(x["country"], y["country"])
                    if d is not None and d > DISTANT_KM:
                        alerts.append({"kind": "travel", "card": x["card"],
                                       "first_payment": x["id"], "first_country": x["country"],
                                       "first_time": x["time"], "second_payment": y["id"],
                                       "second_country": y["country"], "second_time": y["time"],
                                       "km": d})
            kept.append(q)

        if payments:
            candidate = max(p["time"] for p in payments) - DELAY
            wm = candidate if wm is None else max(wm, candidate)
        wm_end.append(wm)

        for a in alerts:
            totals[a["kind"]] += 1
        totals["late"] += len(late)
        totals["malformed"] += len(malformed)
        out[f"alerts-{t}.json"] = "".join(l + "\n" for l in sorted(dumps(a) for a in alerts))
        out[f"late-{t}.json"] = "".join(l + "\n" for l in sorted(late_json(p) for p in late))
        out[f"malformed-{t}.txt"] = "".join(l + "\n" for l in malformed)
        i += 1

    os.makedirs(expected_dir, exist_ok=True)
    for name, text in out.items():
        with open(os.path.join(expected_dir, name), "w", encoding="utf-8", newline="") as f:
            f.write(text)
    print(f"limit {totals['limit']} travel {totals['travel']} late {totals['late']} "
          f"malformed {totals['malformed']} batches {i} join_only_late {totals['join_only_late']}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
