#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""check_tree.py - the source tree's rules that a compiler does not check.

Run by ctest (lint/tree) over the committed sources:
  - include directions: the checked reader and writer include nothing of
    ours; no library file (netstack/ ethernet/ dns/ portfwd/) includes
    tools/; ethernet/ never includes dns/ or portfwd/, nor the stack
    object (netstack/stack.h: it works on struct ns_link); only the lwIP glue
    includes lwIP's private headers (lwip/priv/); slirp/ (libslirp's API)
    includes nothing of the project's but its own headers and the public
    <netstack.h>;
  - every source file carries the project's SPDX licence line;
  - one comment dialect: a function's comment is kernel-doc ("/**", then
    " * name() - summary"), never the older "/* name() - summary */"; in the
    public headers (netstack/include/) it has an @arg line for every
    parameter of the function it documents.
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
PUBLIC = "netstack/include/"
DOC = re.compile(r'/\*\*\n \* (\w+)\(\) - (.*?)\*/\n', re.S)


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
    if path.startswith("slirp/") and not target.startswith("slirp/"):
        return "slirp/ is a layer on the public API: <netstack.h> and its own headers only"
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
    if path.startswith(PUBLIC):
        check_arg_lines(path, text, problems)


def declared_params(after, name):
    """The parameter names of @name's declaration (or of the first one) in @after."""
    m = re.search(r'\b%s\s*\(([^)]*)\)\s*;' % re.escape(name), after[:600])
    if not m:
        m = re.search(r'\)\s*\(([^)]*)\)\s*;|\w\s*\(([^)]*)\)\s*;', after[:300])
    if not m:
        return []
    params = m.group(1) if m.group(1) is not None else m.group(2)
    names = []
    for p in params.split(","):
        w = re.findall(r'\w+', p.split("[")[0])
        if w and p.strip() not in ("void", "..."):
            names.append(w[-1])
    return names


def check_arg_lines(path, text, problems):
    for m in DOC.finditer(text):
        documented = set()
        for names in re.findall(r'^ \* (@\w+(?:, @\w+)*):', m.group(0), re.M):
            documented.update(n.strip()[1:] for n in names.split(","))
        for p in declared_params(text[m.end():], m.group(1)):
            if p not in documented:
                line = text.count("\n", 0, m.start()) + 1
                problems.append("%s:%d: %s() has no @%s: line" % (path, line, m.group(1), p))


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
