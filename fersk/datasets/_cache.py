"""A small on-disk cache for decoded datasets.

Entries are ``.npz`` files named by a SHA-256 of the inputs that made them (paths,
modification times, sizes and the decoding parameters), so a changed file or a
changed parameter never returns stale arrays. Writes are atomic.
"""

import hashlib
import os
import warnings
from pathlib import Path

import numpy as np

from .._atomic import write_atomically

_FORMAT_VERSION = "1"


def default_cache_dir():
    """Return the directory fersk caches decoded datasets in.

    ``$FERSK_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/fersk``, else
    ``~/.cache/fersk``.

    Returns
    -------
    pathlib.Path
        The cache directory (not created until something is written).

    Examples
    --------
    >>> isinstance(default_cache_dir(), Path)
    True
    """
    if os.environ.get("FERSK_CACHE_DIR"):
        return Path(os.environ["FERSK_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fersk"


def resolve_cache_dir(cache_dir):
    """``None`` -> the default directory, ``False`` -> no caching, else the given path."""
    if cache_dir is False:
        return None
    if cache_dir is None:
        return default_cache_dir()
    return Path(cache_dir)


def file_fingerprint(paths):
    """Hash paths with their modification times and sizes."""
    digest = hashlib.sha256()
    for path in paths:
        stat = os.stat(path)
        digest.update(f"{path}\0{stat.st_mtime_ns}\0{stat.st_size}\n".encode())
    return digest.hexdigest()


def cached(cache_dir, kind, key_parts, compute):
    """Return ``compute()``'s dict of arrays, read from or written to the cache.

    Parameters
    ----------
    cache_dir : path-like, None or False
        Where to cache (see :func:`resolve_cache_dir`).
    kind : str
        A readable prefix for the file name.
    key_parts : sequence of str
        Everything the result depends on.
    compute : callable
        Returns a dict of numpy arrays.
    """
    directory = resolve_cache_dir(cache_dir)
    if directory is None:
        return compute()
    key = hashlib.sha256("\0".join([_FORMAT_VERSION, kind, *key_parts]).encode()).hexdigest()
    path = directory / f"{kind}-{key[:32]}.npz"
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as stored:
                return {name: stored[name] for name in stored.files}
        except Exception:  # noqa: BLE001 - whatever a damaged entry raises (BadZipFile, a bad CRC,
            pass  # an unsupported zip method...), the answer is to recompute it and overwrite it below
    result = compute()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        write_atomically(path, lambda f: np.savez(f, **result))  # a full disk leaves nothing behind
    except OSError as exc:  # a read-only or full cache directory must not break loading
        warnings.warn(f"fersk could not write its cache file {path}: {exc}", stacklevel=3)
    return result
