"""``fersk predict PHOTOS --out DIR [--scheduler ADDRESS]`` and ``fersk video VIDEOS --scheduler ADDRESS``:
many files, partition by partition, through fersk.batch."""

import sys

from ._common import SKIPPED

SCHEDULER_HELP = (
    "run on this Dask cluster: a scheduler address (tcp://head:8786), or 'local' for one worker per core of this "
    "machine; the results go partition by partition into --out, and the same command after an interruption "
    "writes only what is missing (pip install fersk[dask])"
)


def add_batch_options(parser, videos=False):
    """``--scheduler`` and ``--format``; for videos, ``--segment-seconds``."""
    parser.add_argument("--scheduler", metavar="ADDRESS", help=SCHEDULER_HELP)
    if videos:
        parser.add_argument(
            "--segment-seconds",
            type=float,
            metavar="S",
            help="with --scheduler: split videos longer than S seconds into segments of S, a task and a table each, "
            "so that the workers share a long video; face ids are joined where the segments meet",
        )
    parser.add_argument(
        "--format",
        choices=["auto", "parquet", "csv"],
        default="auto",
        help="with --scheduler: the partitions' tables (default: auto, Parquet where pyarrow is installed)",
    )


def predict_batch(args, detector, asked):
    """The photos partition by partition into ``args.out``; unreadable files named on stderr."""
    from ..batch import analyze_photos

    refused = [option for option, value in (("--csv", args.csv), ("--annotate", args.annotate)) if value]
    if refused:
        raise ValueError(
            f"--out writes the rows partition by partition; {' and '.join(refused)} belong to a run in this "
            "process: leave them out, or leave out --out and --scheduler"
        )
    if args.out is None:
        raise ValueError("--scheduler runs the photos into an output folder, partition by partition: give --out DIR")
    settings = {"detector": detector, **{k: v for k, v in asked.items() if v is not None}}
    run = analyze_photos(args.model, args.images, args.out, scheduler=args.scheduler, format=args.format, **settings)
    return _said(run, "photos", "predict")


def video_batch(args, asked):
    """The videos, one task each, into ``args.out``; unreadable files named on stderr."""
    from ..batch import analyze_videos

    if args.annotate:
        raise ValueError("--annotate draws one video in this process; leave it out with --scheduler or several videos")
    settings = dict(every=args.every, fps=args.fps, detect_every=args.detect_every)
    settings.update({k: v for k, v in asked.items() if v is not None})
    run = analyze_videos(
        args.model,
        args.video,
        args.out,
        scheduler=args.scheduler,
        segment_seconds=args.segment_seconds,
        format=args.format,
        **settings,
    )
    return _said(run, "videos", "video")


def _said(run, what, command):
    for path, reason in run.unreadable.items():
        print(f"fersk {command}: could not read {path} (to its end): {reason}", file=sys.stderr)
    print(
        f"{what}: {run.n_inputs}, partitions written: {len(run.written)}, done before: {len(run.resumed)}, "
        f"unreadable: {len(run.unreadable)}; tables in {run.out}"
    )
    return SKIPPED if run.unreadable else 0
