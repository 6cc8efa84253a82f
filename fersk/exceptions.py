"""What fersk raises and warns, in one place: each room raises these, and a traceback names them here.

Every error is a ``ValueError`` (bad input is a bad value), so ``except ValueError`` catches
them all; those for a path with no file behind it are also ``FileNotFoundError``.
"""

__all__ = ["FerskDataWarning", "ImageReadError", "MissingImageError", "MissingVideoError", "VideoReadError"]


class FerskDataWarning(UserWarning):
    """Warns that items were skipped (unreadable files, unlabelled images, frames without a face);
    what was skipped is listed where the result is (a loader's Bunch, the records' ``unreadable``)."""


class ImageReadError(ValueError):
    """An image file that cannot be used; ``path`` names it and ``reason`` says why (a
    decompression bomb, not an image, corrupt, missing).

    Examples
    --------
    >>> error = ImageReadError("a.jpg", "corrupt image")
    >>> str(error), error.reason
    ('cannot read image a.jpg: corrupt image', 'corrupt image')
    """

    def __init__(self, path, reason):
        super().__init__(f"cannot read image {path}: {reason}")
        self.path, self.reason = str(path), reason


class MissingImageError(ImageReadError, FileNotFoundError):
    """A path with no file behind it: both a ``ValueError`` and a ``FileNotFoundError``."""


class VideoReadError(ValueError):
    """A file that cannot be read as a video (not a video, corrupt, truncated, no frames)."""


class MissingVideoError(VideoReadError, FileNotFoundError):
    """No file at the path given."""
