#!/usr/bin/env python3
"""The code's shape: no file in src/ over 600 lines, no function over 100 lines, no line over
100 columns outside string literals (rustfmt silently skips such expressions)."""
import re, sys, os
root = sys.argv[1] if len(sys.argv) > 1 else 'src'
bad = 0
def strip_strings(line):
    # remove "..." string literal contents (handles escapes) and raw strings roughly
    out = re.sub(r'r#*"[^"]*"#*', '""', line)
    out = re.sub(r'"(?:[^"\\]|\\.)*"', '""', out)
    out = re.sub(r'"(?:[^"\\]|\\.)*\\$', '"', out)  # continued literal
    return out
for dp, _, fs in os.walk(root):
    for f in fs:
        if not f.endswith('.rs'): continue
        p = os.path.join(dp, f)
        lines = open(p).read().split('\n')
        if len(lines) > 600:
            print(f"{p}: {len(lines)} lines"); bad += 1
        in_str = False
        for i, l in enumerate(lines, 1):
            s = l
            if len(l) > 100:
                st = strip_strings(l).strip()
                if len(strip_strings(l)) > 100 and not l.strip().startswith('"'):
                    print(f"{p}:{i}: {len(l)} cols: {l.strip()[:80]}"); bad += 1
        # function lengths: fn at indentation, find matching closing brace at same indent
        for i, l in enumerate(lines):
            m = re.match(r'^(\s*)(pub(\([^)]*\))?\s+)?(async\s+)?(const\s+)?fn\s+(\w+)', l)
            if not m: continue
            indent = m.group(1)
            # find opening line end
            j = i
            while j < len(lines) and not lines[j].rstrip().endswith('{') and not lines[j].rstrip().endswith(';'):
                j += 1
            if j < len(lines) and lines[j].rstrip().endswith(';'): continue
            k = j + 1
            while k < len(lines) and lines[k] != indent + '}':
                k += 1
            n = k - i + 1
            if n > 100:
                print(f"{p}:{i+1}: fn {m.group(6)} is {n} lines"); bad += 1
print("shape problems:", bad)
sys.exit(1 if bad else 0)
