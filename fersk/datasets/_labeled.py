"""Images in a folder, labels in a CSV (the muxspace ``legend.csv`` layout)."""

import csv
from collections import Counter
from pathlib import Path

from ._bunch import make_bunch
from ._decode import IMAGE_EXTENSIONS, decode_entries, warn_skipped
from ._vocabulary import canonical_emotion

_IMAGE_COLUMNS = ("image", "filename", "file", "file_name", "path", "image_path", "img")
_LABEL_COLUMNS = ("emotion", "label", "expression", "class", "target")
_SPLIT_COLUMNS = ("split", "usage", "subset", "set")


def _read_table(csv_path):
    with open(csv_path, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        raise ValueError(f"{csv_path} is empty")
    header = [name.strip() for name in rows[0]]
    return header, rows[1:]


def _column(header, given, candidates, csv_path, parameter):
    lowered = [name.lower() for name in header]
    if given is not None:
        if given.lower() not in lowered:
            raise ValueError(f"{csv_path} has no column {given!r}; its columns are {header}")
        return lowered.index(given.lower())
    for name in candidates:
        if name in lowered:
            return lowered.index(name)
    raise ValueError(
        f"cannot tell which column of {csv_path} holds the {parameter.split('_')[0]}: "
        f"its columns are {header}; pass {parameter}=<name>"
    )


def _safe_relative(images_dir, name, where):
    resolved = (images_dir / name).resolve()
    if not resolved.is_relative_to(images_dir):
        raise ValueError(
            f"{where} names {name!r}, which lies outside the image folder {str(images_dir)!r}; "
            "fersk refuses such paths. Fix the CSV so every file is inside the folder."
        )
    return str(resolved.relative_to(images_dir))


def load_labeled_images(
    images_dir,
    labels_csv,
    *,
    image_column=None,
    label_column=None,
    split_csv=None,
    classes=None,
    min_count=None,
    image_size=48,
    grayscale=True,
    canonical_labels=True,
    n_jobs=None,
    cache_dir=None,
):
    """Load a folder of images labelled by a CSV file.

    This is the layout of the muxspace ``facial_expressions`` dataset
    (``images/`` and ``data/legend.csv`` with ``user.id,image,emotion``), and it
    survives what such files hold in practice: labels in mixed case, duplicate rows,
    one image given two different labels, images with no label, a class too rare to
    learn. Nothing is dropped silently: each skipped item is counted in one
    :class:`FerskDataWarning` and listed in the Bunch's ``skipped``.

    Parameters
    ----------
    images_dir : path-like
        The folder of images.
    labels_csv : path-like
        A CSV with a header, one row per image.
    image_column, label_column : str, optional
        The CSV's columns; found by name (``image``, ``filename``, ... and
        ``emotion``, ``label``, ...) when not given.
    split_csv : path-like, optional
        A CSV mapping image to split (``image,...,split``); the Bunch then has
        ``split``, and images it does not list are skipped.
    classes : list of str, optional
        Keep only these labels (after canonical mapping).
    min_count : int, optional
        Drop labels with fewer images than this.
    image_size : int, (int, int) or None, default=48
        Resize every image to this ``(height, width)``.
    grayscale : bool, default=True
        One channel, or RGB when False.
    canonical_labels : bool, default=True
        Map labels onto :data:`EMOTIONS` with :func:`canonical_emotion`; False keeps
        them as written, only stripped of surrounding spaces.
    n_jobs : int or None
        Processes decoding images; None uses all cores for large folders.
    cache_dir : path-like, None or False
        Where decoded arrays are cached; False disables the cache.

    Returns
    -------
    sklearn.utils.Bunch
        ``data``, ``images``, ``target``, ``target_names``, ``filenames`` (as the CSV
        names them), ``skipped`` (reason -> files) and ``split`` when ``split_csv`` is given.

    Raises
    ------
    ValueError
        When a column is missing, a CSV row names a file outside ``images_dir``, or
        nothing is left to load.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> root = Path(tempfile.mkdtemp())
    >>> for name in ["a.png", "b.png", "c.png"]:
    ...     Image.fromarray(np.zeros((20, 20), np.uint8)).save(root / name)
    >>> _ = (root / "labels.csv").write_text("image,emotion\\na.png,HAPPINESS\\nb.png,anger\\n")
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     data = load_labeled_images(root, root / "labels.csv", cache_dir=False)
    >>> data.target.tolist(), data.skipped
    (['happy', 'angry'], {'unlabeled image': ['c.png']})
    >>> print(caught[0].message)
    load_labeled_images skipped 1 item(s): 1 unlabeled image. The Bunch's 'skipped' lists them.
    """
    images_dir = Path(images_dir).resolve()
    if not images_dir.is_dir():
        raise ValueError(f"{str(images_dir)!r} is not a folder")
    labels_csv = Path(labels_csv)
    header, rows = _read_table(labels_csv)
    i_image = _column(header, image_column, _IMAGE_COLUMNS, labels_csv, "image_column")
    i_label = _column(header, label_column, _LABEL_COLUMNS, labels_csv, "label_column")

    skipped = {}

    def skip(reason, name):
        skipped.setdefault(reason, []).append(name)

    labels_of = {}  # relative file name -> set of labels, in CSV order
    for row_number, row in enumerate(rows, start=2):
        if not any(field.strip() for field in row):
            continue
        where = f"row {row_number} of {labels_csv}"
        if len(row) <= max(i_image, i_label):
            raise ValueError(f"{where} has {len(row)} fields, fewer than the header; is the file truncated?")
        name = _safe_relative(images_dir, row[i_image].strip(), where)
        raw = row[i_label].strip()
        label = canonical_emotion(raw) if canonical_labels else raw
        if name in labels_of:
            skip("duplicate row (one copy kept)" if label in labels_of[name] else "conflicting labels", name)
            labels_of[name].add(label)
        else:
            labels_of[name] = {label}

    entries = []
    for name, labels in labels_of.items():
        if len(labels) > 1:
            continue  # already listed under "conflicting labels"
        if not (images_dir / name).is_file():
            skip("missing file", name)
            continue
        entries.append((name, next(iter(labels))))
    on_disk = {
        str(p.relative_to(images_dir))
        for p in images_dir.rglob("*")
        if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
    }
    for name in sorted(on_disk - set(labels_of)):
        skip("unlabeled image", name)

    split_of = None
    if split_csv is not None:
        split_header, split_rows = _read_table(split_csv)
        j_image = _column(split_header, None, _IMAGE_COLUMNS, split_csv, "image_column")
        j_split = _column(split_header, None, _SPLIT_COLUMNS, split_csv, "split_column")
        split_of = {
            _safe_relative(images_dir, r[j_image].strip(), f"a row of {split_csv}"): r[j_split].strip()
            for r in split_rows
            if len(r) > max(j_image, j_split)
        }
        for name, _ in entries:
            if name not in split_of:
                skip("not in split file", name)
        entries = [e for e in entries if e[0] in split_of]

    counts = Counter(label for _, label in entries)
    keep = set(counts)
    if classes is not None:
        keep &= {canonical_emotion(c) if canonical_labels else c for c in classes}
    if min_count is not None:
        keep = {c for c in keep if counts[c] >= min_count}
    for name, label in entries:
        if label not in keep:
            skip(f"class '{label}' left out (classes=/min_count=)", name)
    entries = [e for e in entries if e[1] in keep]
    if not entries:
        raise ValueError(f"no labelled images are left to load from {str(images_dir)!r}")

    images, kept = decode_entries(
        images_dir,
        entries,
        [name for name, _ in entries],
        skipped,
        image_size=image_size,
        grayscale=grayscale,
        n_jobs=n_jobs,
        cache_dir=cache_dir,
    )
    warn_skipped("load_labeled_images", skipped)
    extra = {"split": [split_of[name] for name, _ in kept]} if split_of is not None else {}
    return make_bunch(
        images,
        [label for _, label in kept],
        [name for name, _ in kept],
        skipped=skipped,
        descr=f"Images in {images_dir} labelled by {labels_csv}",
        **extra,
    )
