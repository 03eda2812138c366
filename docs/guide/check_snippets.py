#!/usr/bin/env python3
"""Checks that every ```cpp block of docs/guide/*.md is code that CI compiles and runs.

Each block must come right after a line `<!-- snippet: FILE NAME -->` and be byte-identical to
the region of docs/guide/snippets/FILE between the lines `// [NAME]` and `// [/NAME]`, with the
region's common indentation removed. `--update` rewrites the blocks from the regions instead.

Usage: check_snippets.py [--update] [GUIDE_DIR]
"""
import pathlib
import re
import sys
import textwrap

MARKER = re.compile(r"^<!-- snippet: (\S+) (\S+) -->$")


def region(snippets, file, name):
    path = snippets / file
    if not path.is_file():
        raise KeyError(f"no snippet file {path}")
    lines = path.read_text(encoding="utf-8").split("\n")
    begin, end = f"// [{name}]", f"// [/{name}]"
    starts = [i for i, l in enumerate(lines) if l.strip() == begin]
    ends = [i for i, l in enumerate(lines) if l.strip() == end]
    if len(starts) != 1 or len(ends) != 1 or ends[0] <= starts[0]:
        raise KeyError(f"{path} has no single region `{begin}` ... `{end}`")
    return textwrap.dedent("\n".join(lines[starts[0] + 1:ends[0]])) + "\n"


def check_page(page, snippets, update):
    errors = []
    lines = page.read_text(encoding="utf-8").split("\n")
    out = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() != "```cpp":
            out.append(line)
            i += 1
            continue
        close = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "```"), None)
        if close is None:
            errors.append(f"{page.name}:{i + 1}: a ```cpp block that does not end")
            break
        shown = "\n".join(lines[i + 1:close]) + "\n"
        marker = MARKER.match(out[-1]) if out else None
        if marker is None:
            errors.append(f"{page.name}:{i + 1}: a ```cpp block without a `<!-- snippet: FILE NAME -->` line before it")
            out.extend(lines[i:close + 1])
        else:
            try:
                code = region(snippets, marker.group(1), marker.group(2))
            except KeyError as e:
                errors.append(f"{page.name}:{i + 1}: {e.args[0]}")
                code = shown
            if code != shown and not update:
                errors.append(f"{page.name}:{i + 1}: the block differs from "
                              f"{marker.group(1)} [{marker.group(2)}]; run {sys.argv[0]} --update")
            out.append(line)
            out.extend(code.rstrip("\n").split("\n"))
            out.append(lines[close])
        i = close + 1
    if update:
        page.write_text("\n".join(out), encoding="utf-8")
    return errors


def main():
    args = [a for a in sys.argv[1:] if a != "--update"]
    update = "--update" in sys.argv[1:]
    guide = pathlib.Path(args[0]) if args else pathlib.Path(__file__).resolve().parent
    snippets = guide / "snippets"
    errors = []
    pages = sorted(guide.glob("*.md"))
    blocks = 0
    for page in pages:
        blocks += page.read_text(encoding="utf-8").count("```cpp")
        errors += check_page(page, snippets, update)
    for e in errors:
        print(e, file=sys.stderr)
    if not errors:
        print(f"{len(pages)} pages, {blocks} C++ blocks, each the code of a snippet program")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
