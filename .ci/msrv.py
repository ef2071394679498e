#!/usr/bin/env python3
"""The declared `rust-version` holds: no locked crate asks for a newer Rust. (Our own code's
use of newer standard-library items is clippy's `incompatible_msrv`, which reads the same
field and runs under `-D warnings`.) No other toolchain can be installed here to build with."""
import json
import subprocess
import sys


def version(text):
    parts = [int(p) for p in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


metadata = json.loads(
    subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
)
ours = next(p for p in metadata["packages"] if p["name"] == "stackgen")["rust_version"]
if not ours:
    sys.exit("Cargo.toml declares no rust-version")
newer = [
    f"{p['name']} {p['version']} needs Rust {p['rust_version']}"
    for p in metadata["packages"]
    if p.get("rust_version") and version(p["rust_version"]) > version(ours)
]
for line in newer:
    print(f"rust-version {ours}: {line}", file=sys.stderr)
print(f"rust-version {ours}: {len(metadata['packages'])} locked crates fit", file=sys.stderr)
sys.exit(1 if newer else 0)
