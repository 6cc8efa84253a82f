"""What the subcommands share: a model given as a file or a shipped name, face detection, argument types."""

import argparse
import os
import sys
from pathlib import Path

from .. import io
from .._pretrained import DEFAULT_MODEL, PRETRAINED, shipped_name
from ..faces import list_detectors

MODEL_HELP = "a fersk model file, or the name of a pretrained model fersk ships (fer2013, fer2013-muxspace)"
DEFAULT_HELP = f"{MODEL_HELP}; default: {DEFAULT_MODEL}"

# exit statuses besides 0 and fersk.cli.main's 2 (bad input, or an output that cannot be written)
SKIPPED = 1  # some files could not be read; the others' results were written
READER_LEFT = 141  # whoever read standard output left early (| head): 128 + SIGPIPE, as a shell reports it


def load_model(spec):
    """A fersk model file, or the name of a pretrained model fersk ships ("fer2013")."""
    if shipped_name(spec):
        return io.load_pretrained(spec)
    if not Path(spec).is_file():
        raise ValueError(
            f"no model file at {spec}; pass a .fersk file (fersk train writes one) or the name of a "
            f"pretrained model fersk ships: {', '.join(sorted(PRETRAINED))}"
        )
    return io.load(spec)


def add_detector_option(parser, what):
    """``--detector``: a registered face detector, or none; ``what`` says what is done with the faces."""
    parser.add_argument(
        "--detector",
        choices=(*list_detectors(), "none"),
        default="mtcnn",
        help=f"face detector (default: mtcnn); {what}",
    )


def output_folder(path, option):
    """The folder an option names, made before the work starts; a ValueError when it is a file."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{option} {path} is a file, not a folder: give a folder to write into")
    path.mkdir(parents=True, exist_ok=True)
    return path


def output_file(path, option):
    """The file an option names, its folder made before the work starts; a ValueError when it is a folder."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{option} {path} is a folder: give the name of the file to write in it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):  # a file where a folder of the path must be
        raise ValueError(f"{option} {path}: a file is in the way of {path.parent}, which must be a folder") from None
    return path


def print_rows(write):
    """Call ``write()``, which prints rows on standard output, and flush them; returns None, or
    :data:`READER_LEFT` when whoever read them left early (``fersk predict photos/ | head``).

    Standard output is then pointed at os.devnull, so that Python's flush at exit does not hit the
    closed pipe again (and print "Exception ignored ... BrokenPipeError", exiting 120).
    """
    try:
        write()
        sys.stdout.flush()  # a reader that left is found here, not in Python's flush at exit
    except BrokenPipeError:
        return reader_left()
    return None


def reader_left():
    """Point standard output at os.devnull, so that Python's flush at exit does not hit the closed pipe
    again; returns :data:`READER_LEFT`, the exit status for a reader that left."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # a stdout with no file descriptor (a test's capture) has nothing to flush there
        pass
    return READER_LEFT


def whole_number(least, what="a whole number"):
    """An argparse type: a whole number, ``least`` or more."""

    def parse(value):
        try:
            number = int(value)
        except ValueError:
            number = least - 1
        if number < least:
            raise argparse.ArgumentTypeError(f"takes {what}, {least} or more, got {value!r}")
        return number

    return parse
