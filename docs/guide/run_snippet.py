#!/usr/bin/env python3
"""Runs one of the guide's snippet programs and checks it: exit code 0 and, when the source ends
with `// > ` lines (the expected output, worked out by hand), stdout equal to them exactly.

Usage: run_snippet.py PROGRAM SOURCE.cpp
"""
import subprocess
import sys


def expected_output(source):
    lines = []
    with open(source, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line == "// >":
                lines.append("")
            elif line.startswith("// > "):
                lines.append(line[len("// > "):])
    return lines


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    program, source = sys.argv[1], sys.argv[2]
    try:
        run = subprocess.run([program], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        print(f"{program} did not end within 60 s", file=sys.stderr)
        return 1
    sys.stdout.write(run.stdout)
    sys.stderr.write(run.stderr)
    if run.returncode != 0:
        print(f"{program} exited with {run.returncode}", file=sys.stderr)
        return 1
    expected = expected_output(source)
    if expected and run.stdout.split("\n") != expected + [""]:
        print(f"\nthe output of {program} differs from the `// > ` lines of {source}; expected:",
              file=sys.stderr)
        print("\n".join(expected), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
