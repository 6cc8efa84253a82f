"""The one way fersk writes a file a user keeps: whole or not at all.

Torch-free, so that the dataset cache can use it without loading torch.
"""

import contextlib
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path):
    """A new file's path beside ``path``, to write; put in ``path``'s place when the block ends well.

    A reader, or a process killed mid-write, only ever sees the old file or the new one; a
    block that raises leaves the old file as it was and nothing beside it. The new file
    gets the permissions the umask gives a new file (``mkstemp`` makes it private), and its
    bytes are on disk before the name points at them. The temporary name keeps ``path``'s
    suffix, for writers that choose a format by it (FFmpeg's muxers).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> target = Path(tempfile.mkdtemp()) / "notes.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("whole")
    >>> target.read_text(), sorted(p.name for p in target.parent.iterdir())
    ('whole', ['notes.txt'])
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # a file written to share
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomically(path, write):
    """Call ``write(file)`` on a new binary file beside ``path``, then put it in ``path``'s place
    (:func:`atomic_path`). Returns ``path``."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        write(f)
    return path


def write_text(path, text):
    """Write ``text`` (UTF-8) to ``path``, whole or not at all (:func:`atomic_path`). Returns ``path``."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def save_figure(figure, path, **kwargs):
    """``figure.savefig(path, **kwargs)``, whole or not at all (:func:`atomic_path`); the format is
    ``path``'s suffix (PNG when it has none, as matplotlib's default). Returns ``path``."""
    path = Path(path)
    kwargs.setdefault("format", path.suffix.lstrip(".").lower() or "png")
    with atomic_path(path) as tmp:
        figure.savefig(tmp, **kwargs)
    return path
