"""Split test files into two halves of about as many tests each, from the node ids that
``pytest --collect-only -q`` printed (standard input), for two processes side by side.
Prints each half's files on one line; only the files under the folders given as arguments."""

import sys
from collections import Counter

folders = tuple(f"{folder.rstrip('/')}/" for folder in sys.argv[1:])
tests = Counter(line.split("::")[0] for line in sys.stdin
                if "::" in line and line.startswith(folders))
halves: list[list[str]] = [[], []]
sizes = [0, 0]
for path, count in sorted(tests.items(), key=lambda item: (-item[1], item[0])):
    lighter = sizes.index(min(sizes))
    halves[lighter].append(path)
    sizes[lighter] += count
for half in halves:
    print(" ".join(sorted(half)))
