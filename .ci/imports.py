#!/usr/bin/env python3
"""No import circle between the source files: for each module, the modules it names through
`crate::…` or `super::…` outside its tests and comments; a module that reaches itself again
through them is reported with the way round. Run as `python3 .ci/imports.py src`."""
import re
import sys
from pathlib import Path

root = Path(sys.argv[1] if len(sys.argv) > 1 else "src")


def module(path):
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return "::".join(parts)


files = {module(p): p for p in root.rglob("*.rs")}
edges = {}
for name, path in files.items():
    text = path.read_text()
    text = text.split("#[cfg(test)]")[0]
    code = "\n".join(line.split("//")[0] for line in text.splitlines())
    parent = name.rsplit("::", 1)[0] if "::" in name else ""
    named = set(re.findall(r"crate::((?:[a-z_]+::)*[a-z_]+)", code))
    base = parent + "::" if parent else ""
    named |= {base + m for m in re.findall(r"\bsuper::((?:[a-z_]+::)*[a-z_]+)", code)}
    for group in re.findall(r"\buse super::\{([^}]*)\}", code):
        for item in group.split(","):
            head = item.strip().split("::")[0].split(" ")[0]
            if head[:1].islower() and head != "self":
                named.add(base + head)
    targets = set()
    for ref in named:
        parts = ref.split("::")
        for k in range(len(parts), 0, -1):
            candidate = "::".join(parts[:k])
            if candidate in files:
                if candidate != name and not name.startswith(candidate + "::"):
                    targets.add(candidate)
                break
    edges[name] = targets


def way(start, goal):
    """A path of imports from start to goal, if there is one."""
    seen, stack = {start}, [(start, [start])]
    while stack:
        node, path = stack.pop()
        for nxt in sorted(edges.get(node, ())):
            if nxt == goal:
                return path + [nxt]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, path + [nxt]))
    return None


circles = set()
for name in sorted(edges):
    for target in sorted(edges[name]):
        back = way(target, name)
        if back:
            circles.add(" → ".join([name] + back))
for circle in sorted(circles):
    print(f"import circle: {circle}")
print(f"imports: {len(files)} modules, {len(circles)} circles", file=sys.stderr)
sys.exit(1 if circles else 0)
