#!/usr/bin/env python3
"""The acceptance check of examples/recommendations.cpp.

Runs the example on its generated input (the default seed and one other), which must end by
itself with exit 0, and has it dump that input (--dump-input). A model written here from the
contract (shared/api.md: watermarks, session windows in append mode, sliding windows in update
mode, Trigger.available_now) recomputes, batch by batch, every line the example must print:
malformed lines, views too late for their session, closed sessions, and the top co-viewed items
of each (window, item) updated in the batch. Both outputs are compared as sorted lists of lines
(each line carries its batch number, so the batch of each event is checked too). Then the
same lines are served by a TCP server of the script's to `recommendations --port`: the sessions
and the final top lists must be the same.
"""
import json
import os
import socket
import subprocess
import threading
import sys
import tempfile

GAP = 10_000  # ms: session gap
DELAY = 10_000  # ms: watermark delay of the page views
WINDOW, SLIDE = 60_000, 20_000  # ms: the co-view windows
TOP = 3


def parse_view(line):
    """The view of a JSON line, or None when rill::json::parse<View> must refuse it."""
    try:
        v = json.loads(line)
    except ValueError:
        return None
    if not isinstance(v, dict):
        return None
    user, item, time = v.get("user"), v.get("item"), v.get("time")
    if not isinstance(user, str) or not isinstance(item, str):
        return None
    if not isinstance(time, int) or isinstance(time, bool) or not -2**63 <= time < 2**63:
        return None
    return user, item, time


def merge(sessions):
    """Sessions [start, end) of one user merged where they overlap or touch; each is
    (start, end, views, items)."""
    out = []
    for s in sorted(sessions, key=lambda s: s[0]):
        if out and s[0] <= out[-1][1]:
            last = out[-1]
            out[-1] = (last[0], max(last[1], s[1]), last[2] + s[2], last[3] + s[3])
        else:
            out.append(s)
    return out


def windows_of(t):
    """The sliding windows [s, s + WINDOW) with s a multiple of SLIDE that contain t."""
    s = t - t % SLIDE
    out = []
    while s + WINDOW > t:
        out.append((s, s + WINDOW))
        s -= SLIDE
    return out


def model(batches):
    """The lines the example prints for `batches` (a list of lists of lines), sorted."""
    out = []
    wm_end = {0: None}  # global watermark at the end of batch b (0: before the first)
    wm_views = wm_coviews = None
    sessions = {}  # user -> [(start, end, views, items)]
    counts = {}  # (window, item) -> {other: count}
    b = 0
    while True:
        b += 1
        if b > len(batches) and not (
            wm_end[b - 1] is not None and (wm_end.get(b - 2) is None or wm_end[b - 1] > wm_end[b - 2])
        ):
            break  # available_now: input used up and the watermark in force no longer moves
        lines = batches[b - 1] if b <= len(batches) else []
        wm_now = wm_end[b - 1]  # wm(t), in force in this batch
        late_bound = wm_end.get(b - 2)  # wm(t - interval)
        tag = f"#{b} "
        views = []
        for line in lines:
            v = parse_view(line)
            if v is None:
                out.append(tag + "malformed: " + line)
            else:
                views.append(v)
        # Sessions (append mode): late rows, merge, emit the closed ones.
        new = {}
        for user, item, t in views:
            if late_bound is not None and t + GAP <= late_bound:
                out.append(f"{tag}late view {user} {item} at {t}")
                continue
            new.setdefault(user, []).append((t, t + GAP, 1, [item]))
        for user, rows in new.items():
            sessions[user] = merge(sessions.get(user, []) + rows)
        closed = []
        if wm_now is not None:
            for user in sorted(sessions):
                keep = []
                for s in sessions[user]:
                    if s[1] <= wm_now:
                        closed.append((user, s))
                    else:
                        keep.append(s)
                sessions[user] = keep
        coviews = []
        for user, (start, end, n, items) in closed:
            distinct = sorted(set(items))
            out.append(f"{tag}session {user} [{start},{end}) {n} views: " + " ".join(distinct))
            coviews += [(a, o, end - 1) for a in distinct for o in distinct if a != o]
        # Co-views (update mode): count into every window not late, print the touched ones.
        touched = set()
        for a, o, t in coviews:
            for w in windows_of(t):
                if late_bound is not None and w[1] <= late_bound:
                    continue
                c = counts.setdefault((w, a), {})
                c[o] = c.get(o, 0) + 1
                touched.add((w, a))
        for w, a in touched:
            top = sorted(counts[(w, a)].items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
            out.append(f"{tag}top [{w[0]},{w[1]}) {a}: " + ", ".join(f"{o} x{n}" for o, n in top))
        # Watermarks at the end of the batch: each input's, then the global one (policy max).
        if views:
            m = max(t for _, _, t in views) - DELAY
            wm_views = m if wm_views is None else max(wm_views, m)
        if coviews:
            m = max(t for _, _, t in coviews)
            wm_coviews = m if wm_coviews is None else max(wm_coviews, m)
        inputs = [w for w in (wm_views, wm_coviews) if w is not None]
        g = max(inputs) if inputs else None
        if wm_now is not None and (g is None or g < wm_now):
            g = wm_now
        wm_end[b] = g
    malformed = sum(1 for line in out if " malformed: " in line)
    return sorted(out) + [f"malformed lines: {malformed}"], b - 1


def check(program, work, seed):
    dump = os.path.join(work, f"input-{seed}.txt")
    run = subprocess.run([program, "--seed", str(seed), "--dump-input", dump],
                         capture_output=True, text=True, timeout=60, cwd=work)
    if run.returncode != 0:
        sys.exit(f"FAIL: recommendations --seed {seed} exited {run.returncode}\n{run.stderr}")
    batches = read_dump(dump)
    expected, ran = model(batches)
    printed = run.stdout.splitlines()
    actual = sorted(printed[:-1]) + printed[-1:]
    if actual != expected:
        a, e = set(actual), set(expected)
        print(f"FAIL: recommendations --seed {seed}: printed lines differ from the model's")
        for line in sorted(e - a)[:30]:
            print("  missing:    ", line)
        for line in sorted(a - e)[:30]:
            print("  unexpected: ", line)
        if a == e:
            print("  (same lines, different multiplicities or order of the last line)")
        sys.exit(1)
    # The input exercises what the example is about (a check on the generator, not on rill).
    kinds = {k: sum(1 for line in expected if f" {k} " in line) for k in ("session", "late", "top")}
    repeated = sum(1 for line in expected if " top " in line and " x1" not in line.split(":")[-1].split(",")[0])
    if min(kinds.values()) == 0 or repeated == 0 or expected[-1] != "malformed lines: 4":
        sys.exit(f"FAIL: the generated input of seed {seed} is too tame: {kinds}, {repeated} "
                 f"top lists led by a count above 1, {expected[-1]}")
    print(f"ok: seed {seed}: {ran} batches, {kinds['session']} sessions, {kinds['late']} late "
          f"views, {kinds['top']} top lists, {expected[-1]}, as the model computes")


def read_dump(path):
    batches = []
    with open(path) as f:
        for raw in f:
            b, line = raw.rstrip("\n").split("\t", 1)
            while len(batches) < int(b):
                batches.append([])
            batches[int(b) - 1].append(line)
    return batches


def final_state(lines):
    """The sessions, malformed lines and last top list of each (window, item) among printed
    lines (batch tags `#n` or `@ms` dropped, the last line, the malformed count, kept apart)."""
    sessions, malformed, late, top = set(), set(), set(), {}
    for line in sorted(lines[:-1], key=lambda l: int(l.split(" ", 1)[0][1:])):
        text = line.split(" ", 1)[1]
        if text.startswith("session "):
            sessions.add(text)
        elif text.startswith("malformed: "):
            malformed.add(text)
        elif text.startswith("late view "):
            late.add(text)
        else:
            head, tail = text.split(": ", 1)
            top[head] = tail  # the batches are in order: the last one stays
    return sessions, malformed, late, top, lines[-1:]


def check_socket(program, work):
    """--port: the same lines, in event-time order, from a TCP server. However the batches
    split them nothing is late (each batch's watermark trails every later view), every
    session closes with all its views merged, and the last top list of each (window, item) is
    the one of the model on a single batch: the printed state must be the model's."""
    lines = [line for batch in read_dump(os.path.join(work, "input-16.txt")) for line in batch]
    # In event-time order (the malformed lines last), so that where the 1 s batches happen to
    # split the served lines changes nothing: no view can fall behind the watermark of a batch
    # before it, on however loaded a machine.
    views = [line for line in lines if parse_view(line) is not None]
    lines = sorted(views, key=lambda line: parse_view(line)[2]) + \
        [line for line in lines if parse_view(line) is None]
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve():
        connection, _ = server.accept()
        with connection:
            connection.sendall("".join(line + "\n" for line in lines).encode())

    threading.Thread(target=serve, daemon=True).start()
    run = subprocess.run([program, "--port", str(port), "--seconds", "8"],
                         capture_output=True, text=True, timeout=60, cwd=work)
    server.close()
    if run.returncode != 0:
        sys.exit(f"FAIL: recommendations --port exited {run.returncode}\n{run.stderr}")
    expected, _ = model([lines])
    got, want = final_state(run.stdout.splitlines()), final_state(expected)
    if got != want:
        print("FAIL: recommendations --port: the printed state differs from the model's on one batch")
        for name, g, w in zip(("sessions", "malformed", "late", "top", "last"), got, want):
            if g != w:
                print(f"  {name}: printed {sorted(g)[:10]}\n  {name}: expected {sorted(w)[:10]}")
        sys.exit(1)
    print(f"ok: --port: {len(got[0])} sessions and {len(got[3])} top lists from a TCP server, "
          "as the model computes")


def main():
    program = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as work:
        for seed in (16, 7):
            check(program, work, seed)
        check_socket(program, work)


if __name__ == "__main__":
    main()
