#!/usr/bin/env python3
"""The acceptance check of examples/risk_check.cpp.

Runs the example on its generated input (the default seed and one other) and on a denylist file
of its own (--denylist), each of which must end by itself with exit 0, and has it dump that input
(--dump-input). A model written here from the example's rules and the contract (shared/api.md:
parse_csv drops the header line and passes malformed lines on; a static table's left outer join;
map_with_state calls the function once per record in arrival order within a key, and once for a
key without a record for longer than the timeout, in the first batch whose time exceeds its last
update plus the timeout) recomputes every line the example must print: one decision per
application with its reason, the expired histories and the malformed lines, each with its batch
number. Both outputs are compared as sorted lists of lines. Then the same lines are served by a
TCP server of the script's to `risk_check --port`, whose decisions must be the same.
"""
import csv
import os
import socket
import threading
import subprocess
import sys
import tempfile

HEADER = "id,applicant,service,amount"
TIMEOUT_BATCHES = 8  # StateSpec::timeout(8 s) at one batch a second
VELOCITY, SPIKE = 3, 3


def whole(text):
    """An integer as rill::csv reads one (optional minus sign, decimal digits), else None."""
    digits = text[1:] if text.startswith("-") else text
    if not digits.isdigit() or not digits.isascii():
        return None
    value = int(text)
    return value if -2**63 <= value < 2**63 else None


def parse_application(line):
    """(id, applicant, service, amount), or None when rill::csv::parse must refuse the line."""
    try:
        rows = list(csv.reader([line], strict=True))
    except csv.Error:
        return None
    if len(rows) != 1 or len(rows[0]) != 4:
        return None
    ident, applicant, service, amount = rows[0]
    ident, amount = whole(ident), whole(amount)
    if ident is None or amount is None:
        return None
    return ident, applicant, service, amount


def decide(app, denied, history):
    """The decision and reason for `app` given the denylist reason (or None) and the history
    (applications, total amount) before it."""
    _, _, _, amount = app
    n, total = history
    if denied is not None:
        return "DECLINE", "denylist: " + denied
    if n >= VELOCITY:
        return "REVIEW", f"velocity: application {n + 1} in the history"
    if n > 0 and amount * n > SPIKE * total:
        return "REVIEW", "amount %d over %dx the mean %g of %d earlier" % (amount, SPIKE, total / n, n)
    if n == 0:
        return "APPROVE", "first application"
    return "APPROVE", "history of %d, mean %g" % (n, total / n)


def model(count, denylist, batches):
    out = []
    history = {}  # applicant -> [applications, total amount, batch of the last update]
    for b in range(1, count + 1):
        tag = f"#{b} "
        seen = set()
        for line in batches.get(b, []):
            if line == HEADER:
                continue
            app = parse_application(line)
            if app is None:
                out.append(tag + "malformed: " + line)
                continue
            ident, applicant, service, amount = app
            h = history.get(applicant, [0, 0, b])
            decision, reason = decide(app, denylist.get(applicant), (h[0], h[1]))
            out.append(f"{tag}application {ident:04d} {applicant} {service} {amount}: "
                       f"{decision} {reason}")
            history[applicant] = [h[0] + 1, h[1] + amount, b]
            seen.add(applicant)
        for applicant in sorted(history):
            n, _, last = history[applicant]
            if applicant not in seen and b > last + TIMEOUT_BATCHES:
                plural = "" if n == 1 else "s"
                out.append(f"{tag}history {applicant} expired after {n} application{plural}")
                del history[applicant]
    malformed = sum(1 for line in out if " malformed: " in line)
    return sorted(out) + [f"malformed lines: {malformed}"]


def read_dump(path):
    """(batch count, denylist, {batch: lines}) of a --dump-input file."""
    count, denylist, batches = 0, {}, {}
    with open(path) as f:
        for raw in f:
            what, line = raw.rstrip("\n").split("\t", 1)
            if what == "batches":
                count = int(line)
            elif what == "denylist":
                applicant, reason = next(csv.reader([line]))
                denylist[applicant] = reason
            else:
                batches.setdefault(int(what), []).append(line)
    return count, denylist, batches


def check_socket(program, work):
    """--port: the same lines from a TCP server, in one or two one-second batches. No history
    is idle for 8 s within the 3 s run, so the decisions are those of the model on one batch."""
    count, denylist, batches = read_dump(os.path.join(work, "input-seed 16.txt"))
    data = "".join(line + "\n" for b in range(1, count + 1) for line in batches.get(b, []))
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve():
        connection, _ = server.accept()
        with connection:
            connection.sendall(data.encode())

    threading.Thread(target=serve, daemon=True).start()
    run = subprocess.run([program, "--port", str(port), "--seconds", "3"],
                         capture_output=True, text=True, timeout=60, cwd=work)
    server.close()
    if run.returncode != 0:
        sys.exit(f"FAIL: risk_check --port exited {run.returncode}\n{run.stderr}")
    untagged = lambda lines: sorted(line.split(" ", 1)[1] for line in lines)
    expected = model(1, denylist, {1: [line for b in range(1, count + 1)
                                       for line in batches.get(b, [])]})
    printed = run.stdout.splitlines()
    if untagged(printed[:-1]) != untagged(expected[:-1]) or printed[-1:] != expected[-1:] or \
            any(not line.startswith("@") for line in printed[:-1]):
        a, e = set(untagged(printed[:-1])), set(untagged(expected[:-1]))
        print("FAIL: risk_check --port: printed lines differ from the model's on one batch")
        for line in sorted(e - a)[:30]:
            print("  missing:    ", line)
        for line in sorted(a - e)[:30]:
            print("  unexpected: ", line)
        print("  last line:", printed[-1:])
        sys.exit(1)
    print(f"ok: --port: {len(printed) - 1} lines from a TCP server, as the model computes")


def check(program, work, name, args):
    dump = os.path.join(work, f"input-{name}.txt")
    run = subprocess.run([program, *args, "--dump-input", dump],
                         capture_output=True, text=True, timeout=60, cwd=work)
    if run.returncode != 0:
        sys.exit(f"FAIL: risk_check {' '.join(args)} exited {run.returncode}\n{run.stderr}")
    count, denylist, batches = read_dump(dump)
    expected = model(count, denylist, batches)
    printed = run.stdout.splitlines()
    actual = sorted(printed[:-1]) + printed[-1:]
    if actual != expected:
        a, e = set(actual), set(expected)
        print(f"FAIL: risk_check {' '.join(args)}: printed lines differ from the model's")
        for line in sorted(e - a)[:30]:
            print("  missing:    ", line)
        for line in sorted(a - e)[:30]:
            print("  unexpected: ", line)
        sys.exit(1)
    decisions = {d: sum(1 for line in expected if f": {d} " in line)
                 for d in ("APPROVE", "REVIEW", "DECLINE")}
    expired = sum(1 for line in expected if " expired after " in line)
    velocity = sum(1 for line in expected if "velocity:" in line)
    spikes = sum(1 for line in expected if " over 3x " in line)
    # The input exercises every rule (a check on the generator, not on rill).
    if min(decisions.values()) == 0 or not expired or not velocity or not spikes or \
            expected[-1] != "malformed lines: 2":
        sys.exit(f"FAIL: the input of {name} is too tame: {decisions}, {expired} expired, "
                 f"{velocity} velocity, {spikes} spikes, {expected[-1]}")
    print(f"ok: {name}: {decisions}, {expired} expired histories, {expected[-1]}, as the model "
          "computes")


def main():
    program = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as work:
        check(program, work, "seed 16", ["--seed", "16"])
        check(program, work, "seed 7", ["--seed", "7"])
        denylist = os.path.join(work, "denylist.csv")
        with open(denylist, "w") as f:
            f.write("applicant,reason\na01,\"court order, 2026\"\na02,unpaid debt\n")
        check(program, work, "--denylist", ["--denylist", denylist])
        check_socket(program, work)


if __name__ == "__main__":
    main()
