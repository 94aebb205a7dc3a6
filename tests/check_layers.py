#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# check_layers.py: every #include under src/ goes to its own folder or a lower layer (docs/architecture.md).
"""Usage: check_layers.py [SRC_ROOT]   (default: the src/ next to this tests/ folder)

Prints `file:line: folder -> include` for every include that goes up a layer,
between the sibling folders config/decode/encode, or uses a relative `../`
form, and exits 1 when there is any.  Meson runs it as the test `layers`.
"""
import os
import re
import sys

# A folder may include only its own and lower ranks; equal ranks are siblings.
RANK = {'lib': 0, 'model': 1, 'config': 2, 'decode': 2, 'encode': 2, 'maps': 3,
        'plugins': 4, 'http': 5, 'pipeline': 6, 'bin': 7, 'tools': 7}
INCLUDE = re.compile(r'\s*#\s*include\s+"([^"]+)"')


def target_folder(folder, inc):
    """The folder an include names: rooted `x/y.h`, relative `../x/y.h`, or the own `y.h`."""
    path = os.path.normpath(os.path.join(folder, inc)) if inc.startswith('..') else inc
    parts = path.split('/')
    return parts[0] if len(parts) > 1 else folder


def violations(src, folder):
    """(file, line, include, why) for each wrong include of one folder."""
    out = []
    top = os.path.join(src, folder)
    for name in sorted(os.listdir(top)):
        if not name.endswith(('.c', '.h')):
            continue
        path = os.path.join(top, name)
        with open(path, encoding='utf-8', errors='replace') as f:
            for lineno, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                inc = m.group(1)
                tgt = target_folder(folder, inc)
                why = []
                if tgt in RANK and RANK[tgt] > RANK[folder]:
                    why.append('upward')
                elif tgt in RANK and RANK[tgt] == RANK[folder] and tgt != folder:
                    why.append('sibling')
                if inc.startswith('..'):
                    why.append('relative')
                if why:
                    out.append((path, lineno, inc, why))
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, '..', 'src')
    found = []
    for folder in RANK:
        if os.path.isdir(os.path.join(src, folder)):
            found += violations(src, folder)
    counts = {}
    for path, lineno, inc, why in found:
        rel = os.path.relpath(path, os.path.join(src, '..'))
        print(f"{rel}:{lineno}: {rel.split('/')[1]} -> {inc} ({', '.join(why)})")
        for w in why:
            counts[w] = counts.get(w, 0) + 1
    print(f"upward includes: {counts.get('upward', 0)}, sibling: {counts.get('sibling', 0)}, "
          f"relative: {counts.get('relative', 0)}")
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main())
