"""FER2013: the Kaggle folder layout and the original ``fer2013.csv``."""

import csv
import gzip
import re
from pathlib import Path

import numpy as np

from ._bunch import make_bunch
from ._cache import cached, file_fingerprint
from ._decode import IMAGE_EXTENSIONS, decode_entries, warn_skipped
from ._vocabulary import canonical_emotion

FER2013_EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""FER2013's integer codes 0-6, in order."""

USAGES = ("Training", "PublicTest", "PrivateTest")
_SUBSETS = {
    "training": ("Training",),
    "train": ("Training",),
    "publictest": ("PublicTest",),
    "privatetest": ("PrivateTest",),
    "test": ("PublicTest", "PrivateTest"),
}
_SIDE = 48
_DESCR = "FER2013 (ICML 2013 challenge): 48x48 grayscale faces, 7 emotions."


def _usages_for(subset):
    if subset is None:
        return USAGES
    names = [subset] if isinstance(subset, str) else list(subset)
    usages = []
    for name in names:
        key = str(name).replace("_", "").lower()
        if key not in _SUBSETS:
            raise ValueError(
                f"unknown FER2013 subset {name!r}; use one of 'Training', 'PublicTest', "
                "'PrivateTest', 'test' (PublicTest + PrivateTest) or None (all)"
            )
        usages.extend(u for u in _SUBSETS[key] if u not in usages)
    return tuple(usages)


def _find_csv(path):
    if path.is_file():
        return path
    for name in ("fer2013.csv", "fer2013.csv.gz", "icml_face_data.csv"):
        if (path / name).is_file():
            return path / name
    return None


def load_fer2013(path, subset=None, *, n_jobs=None, cache_dir=None):
    """Load FER2013 from the Kaggle folder layout or from the original CSV.

    Two forms are read, and the same data gives the same arrays and ``usage``
    from either:

    - the folder layout, ``train/<emotion>/Training_<id>.jpg`` and
      ``test/<emotion>/{PublicTest,PrivateTest}_<id>.jpg``; the usage comes from the
      file name's prefix, and images are ordered by usage, then by numeric id;
    - ``fer2013.csv`` (``emotion,pixels,Usage``, plain or ``.gz``), given as the
      file or as a folder holding it; rows are ordered by usage, then by row.

    Parameters
    ----------
    path : path-like
        The folder of either form, or the CSV file.
    subset : str, list of str or None
        ``"Training"``, ``"PublicTest"``, ``"PrivateTest"``, ``"test"``
        (PublicTest + PrivateTest, the figure most papers quote) or None for all.
    n_jobs : int or None
        Processes decoding images (folder form); None uses all cores for large folders.
    cache_dir : path-like, None or False
        Where decoded arrays are cached (default :func:`default_cache_dir`);
        False disables the cache. A second load then takes about a second.

    Returns
    -------
    sklearn.utils.Bunch
        ``data`` (n, 2304) float32 pixels 0-255, ``images`` (n, 48, 48), ``target`` (emotion
        names), ``target_names``, ``usage``, ``filenames`` (the CSV form names rows
        ``fer2013.csv:<row>``, counting the header as row 1) and ``skipped``.

    Notes
    -----
    The Kaggle folders hold two file names twice, in two class folders
    (``Training_52789098.jpg``, ``Training_8475486.jpg``). Both copies are kept, so
    the splits keep their published sizes: 28,709 / 3,589 / 3,589.

    Examples
    --------
    A two-row ``fer2013.csv``; the Kaggle folders load the same way:

    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> pixels = " ".join(["128"] * 2304)
    >>> rows = [f"3,{pixels},Training", f"6,{pixels},PrivateTest"]
    >>> _ = (folder / "fer2013.csv").write_text("emotion,pixels,Usage\\n" + "\\n".join(rows))
    >>> data = load_fer2013(folder, cache_dir=False)
    >>> data.data.shape, data.target.tolist(), data.usage.tolist()
    ((2, 2304), ['happy', 'neutral'], ['Training', 'PrivateTest'])
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"FER2013 path {str(path)!r} does not exist")
    usages = _usages_for(subset)
    csv_path = _find_csv(path)
    if csv_path is not None:
        return _from_csv(csv_path, usages, cache_dir)
    if (path / "train").is_dir() or (path / "test").is_dir():
        return _from_folders(path, usages, n_jobs, cache_dir)
    raise ValueError(
        f"{str(path)!r} holds neither fer2013.csv nor the train/ and test/ folders of "
        "the Kaggle layout; point load_fer2013 at one of them"
    )


_NAME = re.compile(r"^(Training|PublicTest|PrivateTest)_(\d+)")


def _from_folders(root, usages, n_jobs, cache_dir):
    entries, skipped = [], {"not an image file": [], "no usage prefix": []}
    for split_dir in ("train", "test"):
        for class_dir in sorted(p for p in (root / split_dir).glob("*") if p.is_dir()):
            label = canonical_emotion(class_dir.name)
            for file in sorted(class_dir.iterdir()):
                relative = str(file.relative_to(root))
                if file.suffix.lower() not in IMAGE_EXTENSIONS:
                    skipped["not an image file"].append(relative)
                    continue
                match = _NAME.match(file.name)
                if match is None:
                    skipped["no usage prefix"].append(relative)
                    continue
                usage, number = match.group(1), int(match.group(2))
                entries.append((USAGES.index(usage), number, relative, label, usage))
    entries.sort()
    entries = [e for e in entries if e[4] in usages]
    if not entries:
        raise ValueError(f"no FER2013 images for subset {usages} under {str(root)!r}")
    images, kept = decode_entries(
        root,
        entries,
        [e[2] for e in entries],
        skipped,
        image_size=(_SIDE, _SIDE),
        grayscale=True,
        n_jobs=n_jobs,
        cache_dir=cache_dir,
    )
    warn_skipped("load_fer2013", skipped)
    return make_bunch(
        images,
        [e[3] for e in kept],
        [e[2] for e in kept],
        skipped={k: v for k, v in skipped.items() if v},
        descr=_DESCR,
        usage=[e[4] for e in kept],
    )


def _read_csv(csv_path):
    opener = gzip.open if csv_path.suffix == ".gz" else open
    with opener(csv_path, "rt", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{csv_path} is empty; FER2013's CSV has the columns emotion,pixels,Usage")
        columns = {name.strip().lower(): i for i, name in enumerate(header)}
        missing = [c for c in ("emotion", "pixels", "usage") if c not in columns]
        if missing:
            raise ValueError(
                f"{csv_path} lacks the column(s) {missing}; FER2013's CSV has the columns "
                f"emotion,pixels,Usage (found {header})"
            )
        i_emotion, i_pixels, i_usage = columns["emotion"], columns["pixels"], columns["usage"]
        codes, usages, images = [], [], []
        for row_number, row in enumerate(reader, start=2):
            where = f"row {row_number} of {csv_path}"
            if len(row) < len(header):
                raise ValueError(f"{where} has {len(row)} of {len(header)} fields; is the file truncated?")
            pixels = np.array(row[i_pixels].split(), dtype=np.int64)
            if pixels.size != _SIDE * _SIDE:
                raise ValueError(
                    f"{where} has {pixels.size} pixel values; FER2013 images need "
                    f"{_SIDE}x{_SIDE} = {_SIDE * _SIDE}. Is the file truncated?"
                )
            if pixels.min() < 0 or pixels.max() > 255:
                raise ValueError(f"{where} has pixel values outside 0-255")
            code, usage = row[i_emotion].strip(), row[i_usage].strip()
            if code not in {str(i) for i in range(len(FER2013_EMOTIONS))}:
                raise ValueError(f"{where} has emotion {code!r}; FER2013 codes are 0-6")
            if usage not in USAGES:
                raise ValueError(f"{where} has Usage {usage!r}; expected one of {USAGES}")
            codes.append(int(code))
            usages.append(usage)
            images.append(pixels.astype(np.uint8).reshape(_SIDE, _SIDE))
    if not images:
        raise ValueError(f"{csv_path} has a header but no rows")
    return {
        "images": np.stack(images),
        "codes": np.array(codes),
        "usage": np.array(usages),
        "rows": np.arange(2, len(images) + 2),
    }


def _from_csv(csv_path, usages, cache_dir):
    stored = cached(cache_dir, "fer2013csv", [file_fingerprint([csv_path])], lambda: _read_csv(csv_path))
    rank = np.array([USAGES.index(u) for u in stored["usage"]])
    order = np.lexsort((stored["rows"], rank))
    order = order[np.isin(stored["usage"][order], usages)]
    if order.size == 0:
        raise ValueError(f"{csv_path} has no rows for subset {usages}")
    return make_bunch(
        stored["images"][order],
        np.array(FER2013_EMOTIONS)[stored["codes"][order]],
        [f"{csv_path.name}:{r}" for r in stored["rows"][order]],
        descr=_DESCR,
        usage=stored["usage"][order],
    )
