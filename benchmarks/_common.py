"""Shared helpers for the benchmark scripts: machine description and RESULTS.md rows."""

import datetime
import json
import os
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED_DATA = HERE.parent.parent / "shared" / "data"


def machine():
    """A one-line description of this machine."""
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def record(name, figures, seconds, out_dir=HERE / "out"):
    """Write the figures as JSON and append a row to RESULTS.md; returns the row."""
    out_dir.mkdir(parents=True, exist_ok=True)
    command = "python " + " ".join(["benchmarks/" + Path(sys.argv[0]).name, *sys.argv[1:]])
    entry = {
        "benchmark": name,
        "command": command,
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "wall_seconds": round(seconds, 1),
        "figures": figures,
    }
    (out_dir / f"{name}.json").write_text(json.dumps(entry, indent=2))
    shown = ", ".join(f"{k} {v}" for k, v in figures.items())
    row = f"| {name} | `{command}` | {entry['date']} | {entry['machine']} | {seconds:.0f} s | {shown} |\n"
    with open(HERE / "RESULTS.md", "a") as handle:
        handle.write(row)
    return row
