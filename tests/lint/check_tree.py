#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""check_tree.py - the source tree's rules that a compiler does not check.

Run by ctest (lint/tree) over the committed sources:
  - include directions: the checked reader and writer include nothing of
    ours; no library file (netstack/ ethernet/ dns/ portfwd/) includes
    tools/; ethernet/ never includes dns/ or portfwd/, nor the stack
    object (netstack/stack.h: it works on struct ns_link); only the lwIP glue
    includes lwIP's private headers (lwip/priv/);
  - every source file carries the project's SPDX licence line;
  - one comment dialect: a function's comment is kernel-doc ("/**", then
    " * name() - summary"), never the older "/* name() - summary */".
Prints each violation as FILE:LINE: what, and exits 1 if there is any.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
LIBRARY = ("netstack/", "ethernet/", "dns/", "portfwd/")
LWIP_GLUE = {"netstack/lwip_glue.c", "netstack/tcp_pcbs.c"}
SPDX = "SPDX-License-Identifier: BSD-3-Clause"
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
NAME = r'[A-Za-z_][A-Za-z0-9_]*\(\)(, [A-Za-z_][A-Za-z0-9_]*\(\))*\s+-\s'
OLD_DIALECT = re.compile(r'^\s*/\*\s+' + NAME)        # /* name() - summary
BARE_OPEN = re.compile(r'^\s*/\*\s*$')                # /*  ...then " * name() - "
NAMED_LINE = re.compile(r'^\s*\*\s+' + NAME)


def sources():
    git = subprocess.run(["git", "-C", ROOT, "ls-files", "-co", "--exclude-standard"],
                         capture_output=True, text=True)
    if git.returncode == 0:
        out = git.stdout.split()
    else:   # an exported tree without .git
        out = [os.path.relpath(os.path.join(d, f), ROOT) for d, _, fs in os.walk(ROOT) for f in fs]
    return [f for f in out if not f.startswith(("fuzz/corpus/", "build", "third_party/", ".git/"))
            and os.path.isfile(os.path.join(ROOT, f))]


def include_rules(path, line, target):
    if path in ("ethernet/reader.h", "ethernet/writer.h"):
        return "the checked reader and writer include nothing of the project's"
    if path.startswith(LIBRARY) and target.startswith("tools/"):
        return "a library file includes the daemon's or a tool's header"
    if path.startswith("ethernet/") and target.startswith(("dns/", "portfwd/")):
        return "ethernet/ depends on dns/ or portfwd/"
    if path.startswith("ethernet/") and target == "netstack/stack.h":
        return "ethernet/ reaches the stack object instead of its link context (ethernet/link.h)"
    if target.startswith("lwip/priv/") and path.startswith(LIBRARY) and path not in LWIP_GLUE:
        return "only the lwIP glue (%s) includes lwIP's private headers" % ", ".join(sorted(LWIP_GLUE))
    return None


def check(path, text, problems):
    is_c = path.endswith((".c", ".h"))
    is_script = path.endswith((".py", ".sh", ".cmake", ".txt", ".scd", ".in", ".map")) or text.startswith("#!")
    if (is_c or is_script) and SPDX not in "\n".join(text.split("\n")[:3]):
        problems.append("%s:1: no SPDX licence line in the first three lines" % path)
    if not is_c:
        return
    lines = text.split("\n")
    for n, line in enumerate(lines, 1):
        m = INCLUDE.match(line)
        if m:
            why = include_rules(path, line, m.group(1))
            if why:
                problems.append("%s:%d: %s (%s)" % (path, n, why, m.group(1)))
        if OLD_DIALECT.match(line) or (BARE_OPEN.match(line) and n < len(lines)
                                        and NAMED_LINE.match(lines[n])):
            problems.append("%s:%d: comment in the old dialect; use kernel-doc (/** + name() - summary)" % (path, n))


def main():
    problems = []
    for path in sources():
        with open(os.path.join(ROOT, path), encoding="utf-8", errors="replace") as f:
            check(path, f.read(), problems)
    for p in problems:
        print(p)
    print("check_tree: %d file rules broken" % len(problems) if problems else "check_tree: ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
