"""An output folder of one batch run: its manifest, its partitions, and what a cut-short run left done.

A partition is done when its marker (``part-00007.json``) exists. The table
(``part-00007.parquet`` or ``.csv``) is written first and the marker second, each whole or not
at all (fersk._atomic), so a run killed at any moment leaves each partition done or not, never
half-written; the next run with the same inputs and settings writes only those not done.
"""

import csv
import hashlib
import io
import json
from pathlib import Path

from .._atomic import atomic_path, write_text

MANIFEST = "fersk-run.json"
FORMATS = ("auto", "parquet", "csv")


def table_format(format):
    """``"parquet"`` where pandas and pyarrow are installed (for ``"auto"``), else ``"csv"``."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    if format == "csv":
        return "csv"
    try:
        import pandas  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        if format == "parquet":
            raise ImportError("format='parquet' needs pandas and pyarrow: pip install fersk[parquet]") from None
        return "csv"
    return "parquet"


class RunFolder:
    """The output folder of a run: checks that it holds this run (or nothing), and which partitions are done.

    Parameters
    ----------
    out : path-like
        The folder; created if missing.
    manifest : dict
        What defines the run: its kind, inputs, partition size, model and settings. A folder
        written by a run with another manifest is refused, so that a resumed run never mixes
        two runs' partitions.
    """

    def __init__(self, out, manifest):
        self.path = Path(out)
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"{self.path} is a file; the output of a batch run is a folder (give a new name)")
        self.path.mkdir(parents=True, exist_ok=True)
        self.manifest = manifest
        written = self.path / MANIFEST
        if written.exists():
            try:
                before = json.loads(written.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                before = None
            if before != manifest:
                changed = (
                    sorted(k for k in manifest.keys() | before.keys() if manifest.get(k) != before.get(k))
                    if isinstance(before, dict)
                    else ["the manifest, unreadable"]
                )
                raise ValueError(
                    f"{self.path} holds the output of another run (it differs in {', '.join(changed)}); "
                    "resume a run with the same inputs, model and settings, or give another output folder"
                )
            # what a run killed mid-write left beside its tables (fersk._atomic's temporary names)
            for stale in self.path.glob(".part-*.tmp*"):
                stale.unlink(missing_ok=True)
        elif any(self.path.iterdir()):
            raise ValueError(
                f"{self.path} is not empty and holds no fersk run ({MANIFEST}); give an empty or new output folder"
            )
        else:
            write_text(written, json.dumps(manifest, indent=1, sort_keys=True))

    def table(self, index, suffix):
        return self.path / f"part-{index:05d}.{suffix}"

    def marker(self, index):
        return self.path / f"part-{index:05d}.json"

    def done(self, index):
        """The marker's content when partition ``index`` is done, else None."""
        marker = self.marker(index)
        if not marker.exists():
            return None
        return json.loads(marker.read_text(encoding="utf-8"))


def fingerprint(items):
    """A SHA-256 of the inputs' names, in order: a run resumes only over the same list."""
    digest = hashlib.sha256()
    for item in items:
        digest.update(str(item).encode("utf-8", "surrogateescape") + b"\0")
    return digest.hexdigest()


def write_partition(records, table_path, marker_path, summary, column=None):
    """Write a partition's records (Parquet or CSV), then its marker: whole or not at all, in that order.

    ``column``, a ``(name, value)`` pair, is put first in every row (a video's path).
    """
    if table_path.suffix == ".parquet":
        frame = records.to_frame()
        if column is not None:
            frame.insert(0, *column)
        with atomic_path(table_path) as tmp:
            frame.to_parquet(tmp, index=False)
    elif column is None:
        records.to_csv(table_path)
    else:
        name, value = column
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=[name, *records.fields()], lineterminator="\n")
        writer.writeheader()
        writer.writerows({name: value, **row} for row in records.to_dict())
        write_text(table_path, text.getvalue())
    write_text(marker_path, json.dumps(summary, sort_keys=True))
