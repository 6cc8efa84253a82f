"""One call for any dataset format fersk reads, and the train/test parts its source defines."""

import csv
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from ._fer2013 import load_fer2013
from ._folders import load_image_folder
from ._labeled import _IMAGE_COLUMNS, _LABEL_COLUMNS, load_labeled_images

FORMATS = ("auto", "fer2013", "folder", "labeled")


def _looks_like_fer2013(path):
    return path.name.startswith("fer2013") or (path / "train").is_dir() or (path / "fer2013.csv").is_file()


def _fer2013_options(kwargs):
    """The loader options FER2013 takes: its images are 48x48 grey, and asking for that is allowed."""
    size, grayscale = kwargs.pop("image_size", 48), kwargs.pop("grayscale", True)
    if size not in (48, (48, 48)) or not grayscale:
        raise ValueError(
            f"FER2013's images are 48x48 grayscale; image_size={size!r}, grayscale={grayscale!r} asks for "
            "others. Load it as it is and resize the arrays, or use a model that takes 48x48 grey faces."
        )
    return kwargs


def _labeled_layout(path):
    """``(images_dir, labels_csv, split_csv)`` of a folder holding ``images/`` and the CSVs that label them.

    The label CSV is one with an image and a label column and no ``split`` column (muxspace's
    ``data/legend.csv``); a CSV that also has ``split`` is the split CSV. None when the folder
    is not laid out so.
    """
    if not (path / "images").is_dir():
        return None
    labels = splits = None
    for csv_path in sorted([*path.glob("*.csv"), *path.glob("*/*.csv")]):
        with open(csv_path, newline="", encoding="utf-8-sig") as handle:
            header = {name.strip().lower() for name in next(csv.reader(handle), [])}
        if header & set(_IMAGE_COLUMNS) and header & set(_LABEL_COLUMNS):
            if "split" in header:
                splits = splits or csv_path
            else:
                labels = labels or csv_path
    if labels is None and splits is None:
        return None
    return path / "images", labels or splits, splits


def load_dataset(path, format="auto", *, labels=None, split_csv=None, **kwargs):
    """Load a facial-expression dataset in any format fersk reads.

    Parameters
    ----------
    path : str or Path
        FER2013 (its Kaggle folders, or ``fer2013.csv``), a folder of class folders,
        a folder of images labelled by ``labels``, or a folder holding ``images/`` and
        the CSVs that label and split them (muxspace's layout: ``images/``,
        ``data/legend.csv``, ``data/split.csv``).
    format : {"auto", "fer2013", "folder", "labeled"}, default="auto"
        ``"auto"`` reads FER2013 when the path looks like it (named ``fer2013*``, or
        holding ``train/`` or ``fer2013.csv``), a labelled folder when ``labels`` is
        given or the folder holds ``images/`` and a CSV with an image and a label
        column (one that also has a ``split`` column is the split CSV), and class
        folders otherwise.
    labels : str or Path, optional
        The label CSV of a labelled folder (see :func:`load_labeled_images`).
    split_csv : str or Path, optional
        A split CSV for a labelled folder.
    **kwargs
        Passed to the loader (``cache_dir``, ``image_size``, ...).

    Returns
    -------
    sklearn.utils.Bunch
        The loader's Bunch, with ``format`` set to the format read and, for image
        folders, ``paths``: each row's image file, for cropping faces from the
        full-size photos (:func:`fersk.preprocessing.crop_faces`).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> root = Path(tempfile.mkdtemp())
    >>> for label in ("happy", "sad"):
    ...     (root / label).mkdir()
    ...     Image.new("L", (48, 48)).save(root / label / "a.png")
    >>> data = load_dataset(root, cache_dir=False)
    >>> data.format, data.data.shape
    ('folder', (2, 2304))
    """
    path = Path(path)
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    if not path.exists():
        raise ValueError(f"no dataset at {path}: the path does not exist")
    layout = _labeled_layout(path) if labels is None and format in ("auto", "labeled") else None
    if format == "fer2013" or (format == "auto" and labels is None and layout is None and _looks_like_fer2013(path)):
        data, format = load_fer2013(path, **_fer2013_options(kwargs)), "fer2013"
    elif format == "labeled" or labels is not None or layout is not None:
        if layout is not None:
            path, labels, split_csv = layout[0], layout[1], split_csv or layout[2]
        if labels is None:
            raise ValueError("format='labeled' needs labels=, the CSV that names each image's label")
        data, format = load_labeled_images(path, labels, split_csv=split_csv, **kwargs), "labeled"
        data.paths = np.array([str(path / name) for name in data.filenames])
    else:
        data, format = load_image_folder(path, **kwargs), "folder"
        data.paths = np.array([str(path / name) for name in data.filenames])
    data.format = format
    return data


def train_test_parts(data, *, test_size=0.2, random_state=None):
    """The training and test images of a dataset, by its own split where it has one.

    FER2013 gives Training and PrivateTest (its stricter test set), a labelled folder
    with a split CSV its ``test`` rows for testing and the others for training; any other dataset is split
    ``test_size`` at random, stratified by label.

    Parameters
    ----------
    data : sklearn.utils.Bunch
        What a fersk loader returns.
    test_size : float, default=0.2
        The test fraction of a random split.
    random_state : int, optional
        Seeds the random split.

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarrays
    how : str
        Which split was used, in words.

    Examples
    --------
    >>> from sklearn.utils import Bunch
    >>> data = Bunch(data=np.zeros((10, 4)), target=np.array(["a", "b"] * 5))
    >>> *parts, how = train_test_parts(data, random_state=0)
    >>> [len(p) for p in parts], how
    ([8, 8, 2, 2], 'a stratified 80/20 split')
    """
    if "usage" in data:
        train, test = data.usage == "Training", data.usage == "PrivateTest"
        how = "Training / PrivateTest"
    elif "split" in data:
        test = np.asarray(data.split) == "test"
        train = ~test
        how = "the split CSV's test rows, the rest for training"
    else:
        X_train, X_test, y_train, y_test = train_test_split(
            data.data, data.target, test_size=test_size, stratify=data.target, random_state=random_state
        )
        return (
            X_train,
            y_train,
            X_test,
            y_test,
            f"a stratified {round(100 * (1 - test_size))}/{round(100 * test_size)} split",
        )
    if not train.any() or not test.any():
        raise ValueError(f"the dataset's own split ({how}) leaves no training or no test images")
    return data.data[train], data.target[train], data.data[test], data.target[test], how
