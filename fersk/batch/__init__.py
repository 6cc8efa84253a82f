"""Folders of photos and videos, analysed partition by partition on a Dask cluster (or in this process).

``analyze_photos(model, "photos/", "out/", scheduler="tcp://head:8786")`` splits the photos
into partitions, analyses each on a worker with :func:`fersk.analyze_faces`, and writes each
partition's records whole (Parquet, or CSV without pyarrow) as it is done; the same call
after an interruption writes only what is missing. ``analyze_videos`` does the same with
one task per video. Dask is the engine (``pip install fersk[dask]``); with ``scheduler=None``
the partitions run in this process, and resume the same way.
"""

from ._analyze import analyze_photos, analyze_videos
from ._run import BatchResult

__all__ = ["BatchResult", "analyze_photos", "analyze_videos"]
