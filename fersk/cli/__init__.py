"""The ``fersk`` command: compare, train, evaluate, predict, explain, video, export.

Each subcommand parses its arguments and calls the library: the models and datasets
(``_train``), photos and videos (``_photos``), ONNX export (``_export``), batches on a cluster
(``_batch``), and what they share (``_common``).
"""

import argparse
import sys
import warnings

from ..exceptions import FerskDataWarning
from . import _export, _photos, _train
from ._common import reader_left


def build_parser():
    """The argument parser of the ``fersk`` command."""
    parser = argparse.ArgumentParser(
        prog="fersk", description="Facial expression recognition in the scikit-learn style."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _train.add_parsers(commands)
    _photos.add_parsers(commands)
    _export.add_parsers(commands)
    return parser


def main(argv=None):
    """Run the ``fersk`` command; returns its exit status (2 with a one-line message on bad input, or
    when an output cannot be written)."""
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = _one_line_warnings(args.command, warnings.showwarning)
        try:
            return args.handler(args)
        except BrokenPipeError:  # whoever read the output left (fersk evaluate ... | head): stop quietly
            return reader_left()
        except (ValueError, OSError) as exc:  # bad input; a file that cannot be written (no room, no right)
            print(f"fersk {args.command}: {exc}", file=sys.stderr)
            return 2


def _one_line_warnings(command, show):
    """fersk's own warnings (what was skipped, frames without a face) as one line each, like its errors."""

    def showwarning(message, category, *args, **kwargs):
        if issubclass(category, FerskDataWarning):
            print(f"fersk {command}: {message}", file=sys.stderr)
        else:
            show(message, category, *args, **kwargs)

    return showwarning
