"""One face id across the time segments of a long video: the segments' own ids joined where they meet.

Each segment of a video split among workers (``analyze_videos(segment_seconds=...)``) is analysed
apart, so its face ids start at 0. Once every segment is done, each face seen in the last second
before a seam (or two analysed frames, if they are further apart) is matched to a face seen as
close after it by the overlap of their boxes (the
assignment of most overlap, scipy's ``linear_sum_assignment``, each pair at ``min_iou`` or more),
and takes its id; a face not matched takes the next free id. The tables are rewritten with those
ids in ``face_id`` and the segment's own in ``segment_face_id``, from which the join is made again,
so that a run resumed after it changes nothing.
"""

import csv
import io

import numpy as np
from scipy.optimize import linear_sum_assignment

from .._atomic import atomic_path, write_text

SEAM_SECONDS = 1.0  # a face last seen this close to a segment's end (or first seen to its start) is matched
BOX = ("left", "top", "right", "bottom")


def join_segments(tables, seams, *, min_iou=0.3, seam_seconds=SEAM_SECONDS):
    """Give a face one id across the tables of one video's segments, in time order; rewrite them.

    Parameters
    ----------
    tables : list of Path
        Parquet or CSV tables of the segments, as ``analyze_videos`` writes them.
    seams : list of float
        The times where each segment ends and the next begins (one fewer than the tables).
    min_iou : float, default=0.3
        Least overlap of a face's last box in one segment and its first in the next.
    seam_seconds : float, default=1.0
        How near the seam a face must be seen to be matched (at least two analysed frames).

    Returns
    -------
    int
        The number of faces in the video.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> header = "video,frame,time,face_id,face_found,left,top,right,bottom\\n"
    >>> _ = (folder / "a.csv").write_text(header + "v,0,0.0,0,True,10,10,50,50\\nv,9,0.9,1,True,100,10,140,50\\n")
    >>> _ = (folder / "b.csv").write_text(header + "v,10,1.0,0,True,102,10,142,50\\nv,11,1.1,1,True,300,10,340,50\\n")
    >>> join_segments([folder / "a.csv", folder / "b.csv"], [1.0])  # the face at right carries on; one new face
    3
    >>> (folder / "b.csv").read_text().splitlines()[1:]
    ['v,10,1.0,1,0,True,102,10,142,50', 'v,11,1.1,2,1,True,300,10,340,50']
    """
    if len(seams) != len(tables) - 1:
        raise ValueError(f"{len(tables)} segments meet at {len(tables) - 1} seams, not {len(seams)}")
    next_id, before = 0, {}
    for k, table in enumerate(tables):
        rows = _Table(table)
        faces = rows.faces  # (time, local id, box) of every row with a face, in time order
        times = np.unique([time for time, _, _ in faces])
        near = max(seam_seconds, 2 * float(np.median(np.diff(times)))) if len(times) > 1 else seam_seconds
        mapping = {}
        if before:
            first = {}
            for time, face, box in faces:
                if time <= seams[k - 1] + near and face not in first:
                    first[face] = box
            mapping = _match(before, first, min_iou)
        for face in sorted({face for _, face, _ in faces}):
            if face not in mapping:
                mapping[face] = next_id
                next_id += 1
        rows.rewrite(mapping)
        before = {}
        if k < len(seams):
            for time, face, box in faces:
                if time >= seams[k] - near:
                    before[mapping[face]] = box  # in time order: each face's last box stays
    return next_id


def _match(last, first, min_iou):
    """``{local id: video id}`` for the faces of ``first`` that continue faces of ``last``."""
    if not last or not first:
        return {}
    old, new = list(last), list(first)
    overlap = np.array([[_iou(last[a], first[b]) for b in new] for a in old])
    rows, cols = linear_sum_assignment(-overlap)
    return {new[c]: old[r] for r, c in zip(rows, cols) if overlap[r, c] >= min_iou}


def _iou(a, b):
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class _Table:
    """A segment's table: its faces, and its rows rewritten with the video's ids."""

    def __init__(self, path):
        self.path = path
        if path.suffix == ".parquet":
            import pandas as pd

            self.frame = pd.read_parquet(path)
            self.local = self.frame["segment_face_id" if "segment_face_id" in self.frame else "face_id"]
            records = self.frame.assign(_local=self.local).to_dict("records")
        else:
            with open(path, newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle)
                self.columns, self.rows = list(reader.fieldnames or []), list(reader)
            key = "segment_face_id" if "segment_face_id" in self.columns else "face_id"
            records = [{**row, "_local": row[key]} for row in self.rows]
        self.faces = [
            (float(row["time"]), int(float(row["_local"])), tuple(float(row[k]) for k in BOX))
            for row in records
            if _present(row["_local"])
        ]

    def rewrite(self, mapping):
        if self.path.suffix == ".parquet":
            frame = self.frame.drop(columns=["segment_face_id"], errors="ignore")
            ids = self.local.map(lambda v: mapping[int(v)] if _present(v) else v).astype(self.local.dtype)
            frame["face_id"] = ids
            frame.insert(frame.columns.get_loc("face_id") + 1, "segment_face_id", self.local.to_numpy())
            with atomic_path(self.path) as tmp:
                frame.to_parquet(tmp, index=False)
            return
        columns = [c for c in self.columns if c != "segment_face_id"]
        columns.insert(columns.index("face_id") + 1, "segment_face_id")
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            local = row.get("segment_face_id", row["face_id"])
            face = str(mapping[int(float(local))]) if _present(local) else local
            writer.writerow({**row, "face_id": face, "segment_face_id": local})
        write_text(self.path, text.getvalue())


def _present(value):
    """Whether a face id is there: not None, NaN or an empty CSV field."""
    if value is None or value == "":
        return False
    try:
        return not np.isnan(float(value))
    except (TypeError, ValueError):
        return False
