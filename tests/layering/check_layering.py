#!/usr/bin/env python3
"""Checks that rill's parts include each other only along the allowed arrows.

A file's part is its folder under include/rill/ or src/ (core, checkpoint, ...). Files directly in
include/rill/, files under include/rill/detail/ and files directly in src/ form the root part
"rill", except a component's umbrella header include/rill/<component>.hpp, which is the
component's. Every `#include "..."` line (and `#include <rill/...>`) under include/rill/ and src/ is
read; an include's part is found from its path:
  "rill/x/..."                       part x
  "rill/x.hpp", "rill/detail/..."    part rill
  "x/y.hpp" (src-relative, private)  part x (the header src/x/y.hpp)
  "y.hpp", "./y.hpp", "../x/y.hpp"   the part of the file it names, relative to the includer

Fails (exit 1, one line per finding) when a file includes a part its own part may not include,
when two parts include each other (directly or through others), or when a part is not in ALLOWED.

  check_layering.py [--root DIR]               check the tree at DIR (default: this repository)
  check_layering.py --self-test [--work-dir D] build fixture trees in D and check that the checker
                                               catches a deliberate break and passes a clean tree
"""
import argparse
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile

# The allowed arrows between rill's parts: ALLOWED[a] lists the parts that files of part a may
# include, besides a itself. Nothing else is allowed, and a part missing here is an error, so a
# new part must be declared in this table. "rill" is the root: include/rill/*.hpp,
# include/rill/detail/ and src/*.cpp (the context, the DStream API and the graph); the optional
# components to come (kafka, zmq, ops) sit on top of it. The table itself must have no circle.
# The documentation quotes this table: change both together.
ALLOWED = {
    "core":       [],
    "checkpoint": ["core"],
    "formats":    ["core"],
    "dstream":    ["core", "checkpoint"],
    "sources":    ["core", "checkpoint", "dstream"],
    "sinks":      ["core", "dstream"],
    "scheduler":  ["core", "checkpoint", "dstream", "sources", "sinks"],
    "rill":       ["core", "checkpoint", "formats", "dstream", "sources", "sinks", "scheduler"],
    "kafka":      ["rill", "core", "checkpoint", "formats", "dstream", "sources", "sinks",
                   "scheduler"],
    "zmq":        ["rill", "core", "checkpoint", "formats", "dstream", "sources", "sinks",
                   "scheduler"],
    "ops":        ["rill", "core", "checkpoint", "formats", "dstream", "sources", "sinks",
                   "scheduler"],
}

ROOT_PART = "rill"
# The optional components; each one's umbrella header include/rill/<name>.hpp belongs to it.
COMPONENTS = ("kafka", "zmq", "ops")
SOURCE_SUFFIXES = (".hpp", ".cpp", ".h", ".hh", ".cc", ".cxx", ".hxx", ".ipp", ".inl", ".tpp")
INCLUDE_LINE = re.compile(r'^\s*#\s*include\s*(?:"([^"]+)"|<(rill/[^>]+)>)')


def part_of_file(rel):
    """The part of a file given by its path relative to the root (forward slashes), or None when
    the file is outside include/rill/ and src/."""
    p = rel.split("/")
    if len(p) >= 3 and p[0] == "include" and p[1] == "rill":
        if len(p) == 3 and p[2].removesuffix(".hpp") in COMPONENTS:
            return p[2].removesuffix(".hpp")
        if len(p) == 3 or p[2] == "detail":
            return ROOT_PART
        return p[2]
    if len(p) >= 2 and p[0] == "src":
        return ROOT_PART if len(p) == 2 else p[1]
    return None


def resolve_include(path, includer):
    """The root-relative path of the file an include names; includer is root-relative too."""
    if path.startswith("rill/"):
        return posixpath.normpath("include/" + path)
    if path.startswith(("./", "../")) or "/" not in path:
        return posixpath.normpath(posixpath.join(posixpath.dirname(includer), path))
    return posixpath.normpath("src/" + path)  # private header, src-relative


def scan(root, read):
    """Yields (file, line number, the include line, file's part, included part) per include;
    adds each file read to the set read."""
    for top in ("include/rill", "src"):
        base = os.path.join(root, top)
        for d, dirs, files in os.walk(base):
            dirs.sort()
            for f in sorted(files):
                if not f.endswith(SOURCE_SUFFIXES):
                    continue
                rel = os.path.relpath(os.path.join(d, f), root).replace(os.sep, "/")
                read.add(rel)
                here = part_of_file(rel)
                with open(os.path.join(d, f), encoding="utf-8", errors="replace") as text:
                    for number, line in enumerate(text, 1):
                        m = INCLUDE_LINE.match(line)
                        if m:
                            included = m.group(1) or m.group(2)
                            there = part_of_file(resolve_include(included, rel))
                            yield rel, number, line.strip(), here, there


def table_problems():
    """Mistakes in ALLOWED itself: arrows to undeclared parts, and circles."""
    problems = []
    for part, targets in ALLOWED.items():
        for t in targets:
            if t not in ALLOWED:
                problems.append(f"ALLOWED: {part} -> {t}, but {t} is not a part in ALLOWED")
    for a, b in circles({a: set(ts) & set(ALLOWED) for a, ts in ALLOWED.items()}):
        problems.append(f"ALLOWED: {a} and {b} may include each other; "
                        "the table must have no circle")
    return problems


def reach(graph, start):
    seen, stack = set(), [start]
    while stack:
        for nxt in graph.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def circles(graph):
    """Pairs of distinct parts that reach each other along the arrows of graph."""
    reached = {a: reach(graph, a) for a in graph}
    return sorted({tuple(sorted((a, b))) for a in graph for b in reached[a]
                   if a != b and a in reached.get(b, ())})


def check(root):
    """The findings for the tree at root, and a one-line summary."""
    findings = table_problems()
    edges = {}  # (from part, to part) -> first (file, line, include) that makes the arrow
    files, includes = set(), 0
    undeclared = {}
    for rel, number, line, here, there in scan(root, files):
        includes += 1
        where = f"{rel}:{number}: {line}"
        if there is None:
            findings.append(f"{where}: names no file under include/rill/ or src/")
            continue
        if here not in ALLOWED:
            undeclared.setdefault(here, rel)
        if there not in ALLOWED:
            undeclared.setdefault(there, where)
        if here in ALLOWED and there in ALLOWED and there != here \
                and there not in ALLOWED[here]:
            may = ", ".join(ALLOWED[here]) or "no other part"
            findings.append(f"{where}: {here} may not include {there} ({here} may include {may})")
        if there != here:
            edges.setdefault((here, there), where)
    for part, first in sorted(undeclared.items()):
        findings.append(f"part '{part}' is not in ALLOWED (first seen: {first}); declare it "
                        "with the parts it may include")
    graph = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    for a, b in circles(graph):
        why = [edges[e] for e in ((a, b), (b, a)) if e in edges]
        if len(why) == 2:
            findings.append(f"parts {a} and {b} include each other: " + "; ".join(why))
        else:
            findings.append(f"parts {a} and {b} include each other through other parts"
                            + "".join(f": {w}" for w in why))
    arrows = ", ".join(f"{a}->{b}" for a, b in sorted(edges))
    summary = (f"{len(files)} files, {includes} includes, {len(graph)} parts; arrows: {arrows}")
    return findings, summary


def main_check(root):
    if not os.path.isdir(os.path.join(root, "include", "rill")):
        print(f"check_layering: {root} has no include/rill/", file=sys.stderr)
        return 2
    findings, summary = check(root)
    print(summary)
    if findings:
        print(f"layering broken, {len(findings)} finding(s):")
        for f in findings:
            print("  " + f)
        return 1
    print("layering OK: every include follows ALLOWED, no two parts include each other")
    return 0


# --self-test: a fixture tree that follows the table, then the same tree with deliberate breaks.
CLEAN_TREE = {
    "include/rill/rill.hpp": ['#include "rill/dstream.hpp"', '#include "rill/core/time.hpp"'],
    "include/rill/dstream.hpp": ['#include "rill/detail/graph.hpp"'],
    "include/rill/detail/graph.hpp": ['#include "rill/dstream/detail/node.hpp"',
                                      '#include "rill/sinks/sink.hpp"'],
    "include/rill/core/time.hpp": ["#include <chrono>"],
    "include/rill/core/clock.hpp": ['#include "time.hpp"'],
    "include/rill/dstream/detail/node.hpp": ['#include "rill/core/time.hpp"',
                                             '#include "../../checkpoint/state.hpp"'],
    "include/rill/checkpoint/state.hpp": ['#include "rill/core/clock.hpp"'],
    "include/rill/sinks/sink.hpp": ['#include <rill/dstream/detail/node.hpp>'],
    "include/rill/kafka/source.hpp": ['#include "rill/rill.hpp"'],
    "src/graph.cpp": ['#include "rill/detail/graph.hpp"', '#include "scheduler/engine.hpp"'],
    "src/scheduler/engine.hpp": ['#include "checkpoint/wal.hpp"',
                                 '#include "rill/sinks/sink.hpp"'],
    "src/scheduler/engine.cpp": ['#include "engine.hpp"', '#include "scheduler/engine.hpp"'],
    "src/checkpoint/wal.hpp": ['#include "rill/core/time.hpp"'],
    "src/kafka/source.cpp": ['#include "rill/kafka/source.hpp"', '#include "sources/x.hpp"'],
    "src/sources/x.hpp": ['#include "rill/dstream/detail/node.hpp"'],
    "src/CMakeLists.txt": ['#include "rill/kafka/source.hpp"'],  # not a source file: not read
}
# Each break: (file, line appended to it, what the checker must say about it). A verdict
# "a may not include b" is expected on the line "<file>:<line number>: <line>: <verdict>".
BREAKS = [
    ("include/rill/core/time.hpp", '#include "rill/dstream/detail/node.hpp"',
     "core may not include dstream"),
    ("src/checkpoint/wal.hpp", '#include "scheduler/engine.hpp"',
     "checkpoint may not include scheduler"),
    ("include/rill/sinks/sink.hpp", '#include "rill/streaming_context.hpp"',
     "sinks may not include rill"),
    ("src/sources/x.hpp", '#include "rill/kafka/source.hpp"',
     "sources may not include kafka"),
    ("include/rill/dstream/detail/node.hpp", "#include <rill/sinks/sink.hpp>",
     "dstream may not include sinks"),
    ("include/rill/checkpoint/state.hpp", '#include "../sinks/sink.hpp"',
     "checkpoint may not include sinks"),
    ("src/graph.cpp", '#include "metrics/registry.hpp"',
     "part 'metrics' is not in ALLOWED"),
    ("include/rill/streaming/x.hpp", '#include "rill/core/time.hpp"',
     "part 'streaming' is not in ALLOWED"),
    ("include/rill/core/clock.hpp", '#include "../../../third_party/x.h"',
     'include/rill/core/clock.hpp:3: #include "../../../third_party/x.h": names no file under '
     "include/rill/ or src/"),
]
# The arrows the clean fixture must show: proof that each form of include is given its part.
CLEAN_ARROWS = ("checkpoint->core, dstream->checkpoint, dstream->core, kafka->rill, "
                "kafka->sources, rill->core, rill->dstream, rill->scheduler, rill->sinks, "
                "scheduler->checkpoint, scheduler->sinks, sinks->dstream, sources->dstream")
EXPECTED_CIRCLES = ["parts core and dstream include each other",
                    "parts checkpoint and scheduler include each other",
                    "parts dstream and sinks include each other",
                    "parts rill and sinks include each other",
                    "parts kafka and sources include each other"]


def write_tree(root, tree):
    shutil.rmtree(root, ignore_errors=True)
    for rel, lines in tree.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write("#pragma once\n" if rel.endswith(".hpp") else "")
            f.write("".join(line + "\n" for line in lines))


def expected_finding(rel, line, verdict):
    if "may not include" not in verdict:
        return verdict
    number = (1 if rel.endswith(".hpp") else 0) + len(CLEAN_TREE.get(rel, [])) + 1
    return f"{rel}:{number}: {line}: {verdict}"


def run_checker(root):
    """Runs this script on root as ctest would; returns (exit code, output)."""
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--root", root],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return done.returncode, done.stdout


def self_test(work_dir):
    failures = []
    if table_problems():
        failures.append("ALLOWED itself is wrong: " + "; ".join(table_problems()))

    clean = os.path.join(work_dir, "clean")
    write_tree(clean, CLEAN_TREE)
    rc, out = run_checker(clean)
    if rc != 0 or "layering OK" not in out:
        failures.append(f"the clean fixture did not pass (exit {rc}):\n{out}")
    elif f"arrows: {CLEAN_ARROWS}\n" not in out:
        failures.append(f"the clean fixture's arrows are not\n  {CLEAN_ARROWS}\n{out}")

    # Each break alone must fail with its own finding...
    for i, (rel, line, verdict) in enumerate(BREAKS):
        expected = expected_finding(rel, line, verdict)
        tree = {k: list(v) for k, v in CLEAN_TREE.items()}
        tree.setdefault(rel, []).append(line)
        one = os.path.join(work_dir, f"break{i}")
        write_tree(one, tree)
        rc, out = run_checker(one)
        if rc != 1 or expected not in out:
            failures.append(f"break {i} ({rel}: {line}) was not caught as expected "
                            f"(exit {rc}, wanted a line with: {expected}):\n{out}")

    # ...and all of them together, with the circles they make.
    tree = {k: list(v) for k, v in CLEAN_TREE.items()}
    for rel, line, _ in BREAKS:
        tree.setdefault(rel, []).append(line)
    broken = os.path.join(work_dir, "broken")
    write_tree(broken, tree)
    rc, out = run_checker(broken)
    expected = [expected_finding(*b) for b in BREAKS] + EXPECTED_CIRCLES
    missing = [e for e in expected if e not in out]
    if rc != 1 or missing:
        failures.append(f"the broken fixture: exit {rc} (wanted 1), missing findings: "
                        f"{missing}\n{out}")
    else:
        print(f"broken fixture ({broken}) fails as it should:")
        print(out, end="")

    if failures:
        print("check_layering self-test FAILED:")
        for f in failures:
            print("  " + f)
        return 1
    print(f"check_layering self-test passed: the clean fixture passes, {len(BREAKS)} breaks "
          f"are each caught, {len(EXPECTED_CIRCLES)} circles found")
    return 0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=os.path.normpath(os.path.join(here, "..", "..")),
                        help="the rill source tree to check (default: this repository)")
    parser.add_argument("--self-test", action="store_true",
                        help="check the checker on fixture trees instead")
    parser.add_argument("--work-dir", help="where --self-test writes its fixtures "
                        "(default: a temporary directory, removed afterwards)")
    args = parser.parse_args()
    if not args.self_test:
        return main_check(args.root)
    if args.work_dir:
        os.makedirs(args.work_dir, exist_ok=True)
        return self_test(args.work_dir)
    with tempfile.TemporaryDirectory() as tmp:
        return self_test(tmp)


if __name__ == "__main__":
    sys.exit(main())
