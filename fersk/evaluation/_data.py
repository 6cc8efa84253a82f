"""The test faces of a dataset, framed as ``fersk predict`` frames them."""

import numpy as np
from PIL import Image
from sklearn.utils import Bunch

from ..datasets import load_dataset, train_test_parts
from ..preprocessing import crop_faces

DETECTORS = ("auto", "mtcnn", "lbp", "none")
PHOTO_SIDE = 64  # an image folder whose images are larger than this on a side holds photos, not face crops


def load_test_faces(path, *, image_size=48, grayscale=True, detector="auto", random_state=None, **kwargs):
    """The test part of a dataset on disk, as a model that takes face crops sees it.

    Datasets of photos go through the detector and framing that ``fersk predict`` uses
    (:func:`fersk.preprocessing.crop_faces` with ``on_missing="whole"``: each photo's largest
    face, aligned, or the whole photo when none is found); datasets of face crops, such as
    FER2013, are read as they are.

    Parameters
    ----------
    path : str or Path
        Any dataset :func:`fersk.datasets.load_dataset` reads; its test part is that of
        :func:`fersk.datasets.train_test_parts`.
    image_size : int, default=48
        Side of the faces: the model's input size (FER2013 comes at 48 only).
    grayscale : bool, default=True
        Faces in one channel, or RGB (FER2013 comes grey only).
    detector : {"auto", "mtcnn", "lbp", "none"}, default="auto"
        ``"auto"`` finds faces with MTCNN in image folders whose images are larger than
        64 pixels on a side (photos), and reads smaller images (face crops) and FER2013
        whole; ``"none"`` never detects.
    random_state : int, optional
        Seeds the random split of a dataset without its own.
    **kwargs
        Passed to :func:`fersk.datasets.load_dataset` (``format``, ``labels``, ``split_csv``, ...).

    Returns
    -------
    sklearn.utils.Bunch
        ``data`` (face rows, float32), ``target``, ``how`` (the split used, in words) and
        ``detector`` (the detector used, or None).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> root = Path(tempfile.mkdtemp())
    >>> for label in ("happy", "sad"):
    ...     (root / label).mkdir()
    ...     for i in range(5):
    ...         Image.new("L", (48, 48), 40 * i).save(root / label / f"{i}.png")
    >>> faces = load_test_faces(root, random_state=0, cache_dir=False)
    >>> faces.data.shape, faces.detector
    ((2, 2304), None)
    """
    if detector not in DETECTORS:
        raise ValueError(f"detector must be one of {DETECTORS}, got {detector!r}")
    data = load_dataset(path, image_size=image_size, grayscale=grayscale, **kwargs)
    if detector == "auto":
        detector = "mtcnn" if "paths" in data and _holds_photos(data.paths) else "none"
    if detector == "none":
        *_, X, y, how = train_test_parts(data, random_state=random_state)
        return Bunch(data=X, target=y, how=how, detector=None)
    rows = Bunch(data=data.paths, target=data.target, **({"split": data.split} if "split" in data else {}))
    *_, paths, y, how = train_test_parts(rows, random_state=random_state)
    X, _ = crop_faces(
        list(paths), on_missing="whole", output_size=image_size, detector=detector, grayscale=grayscale, n_jobs=-1
    )
    return Bunch(data=X, target=np.asarray(y), how=how, detector=detector)


def _holds_photos(paths):
    with Image.open(paths[0]) as image:
        return max(image.size) > PHOTO_SIDE
