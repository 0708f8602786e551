#!/usr/bin/env python3
"""Lay out a generated Flink monorepo (scripts/gen-corpus.py) the adversarial ways lint must
stay linear on, for scripts/lint-scale.sh:

  one   every document of the monorepo in one multi-document file
  flat  every file of the monorepo in one directory (no subdirectories)
  ns    one 100-object team copied into OBJECTS/100 namespaces of one directory, every copy
        with the same names (only `namespace:` differs)

  layouts.py one|flat SRC_DIR OUT        # OUT: a file (one) or a directory (flat)
  layouts.py ns TEAM_DIR OUT COPIES      # TEAM_DIR: a 100-object monorepo
"""
import os
import re
import sys

NAMESPACE = re.compile(r"^(\s*namespace:\s*)(\S+)\s*$", re.M)


def files(src):
    out = []
    for root, _, names in os.walk(src):
        out += [os.path.join(root, n) for n in names if n.endswith(".yaml")]
    return sorted(out)


def main():
    layout, src, out = sys.argv[1:4]
    if layout == "one":
        with open(out, "w") as w:
            for i, path in enumerate(files(src)):
                text = open(path).read()
                if i:
                    w.write("---\n")
                w.write(text if text.endswith("\n") else text + "\n")
    elif layout == "flat":
        os.makedirs(out, exist_ok=True)
        for path in files(src):
            name = os.path.relpath(path, src).replace(os.sep, "_")
            with open(os.path.join(out, name), "w") as w:
                w.write(open(path).read())
    elif layout == "ns":
        copies = int(sys.argv[4])
        os.makedirs(out, exist_ok=True)
        team = [(os.path.relpath(p, src).replace(os.sep, "_"), open(p).read()) for p in files(src)]
        for c in range(copies):
            for name, text in team:
                text = NAMESPACE.sub(lambda m: f"{m.group(1)}{m.group(2)}-copy{c:04d}", text)
                with open(os.path.join(out, f"copy{c:04d}_{name}"), "w") as w:
                    w.write(text)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
