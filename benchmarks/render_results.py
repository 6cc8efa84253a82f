"""Render ``RESULTS.md`` from the benchmarks' JSON results: ``results/history.json`` (runs recorded
before results were kept as data) and ``results/<name>.json`` (the latest full run of each script).

Run it after a benchmark: ``python benchmarks/render_results.py``.
"""

import json

from _common import HERE

HEADER = """# Benchmark results

Rendered by `python benchmarks/render_results.py` from `results/*.json`; do not edit by hand. Each row
names the command that produced it; rerun it to reproduce.

| benchmark | command | date | machine | wall time | figures |
|---|---|---|---|---:|---|
"""


def _figures(figures):
    if isinstance(figures, str):
        return figures
    return ", ".join(f"{k} {json.dumps(v) if isinstance(v, dict | list) else v}" for k, v in figures.items())


def main():
    results = HERE / "results"
    entries = json.loads((results / "history.json").read_text())
    for path in sorted(results.glob("*.json")):
        if path.name != "history.json":
            entry = json.loads(path.read_text())
            if {"benchmark", "command", "date", "figures"} <= set(entry):
                entries.append(entry)
    rows = [
        f"| {e['benchmark']} | `{e['command']}` | {e['date']} | {e.get('machine', '')} | "
        f"{e.get('wall_seconds', '')} s | {_figures(e['figures'])} |"
        for e in sorted(entries, key=lambda e: e["date"])
    ]
    (HERE / "RESULTS.md").write_text(HEADER + "\n".join(rows) + "\n")
    print(f"RESULTS.md: {len(rows)} rows from {results}")


if __name__ == "__main__":
    main()
