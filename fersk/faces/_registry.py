"""The face detectors by name, and the base class every detector builds on."""

import os

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, clone

from ._image import as_image

_DETECTORS = {}


def register_detector(name):
    """Class decorator: make a :class:`FaceDetector` subclass available as ``detector=name``.

    Examples
    --------
    >>> from fersk.faces import Face, FaceDetector
    >>> @register_detector("whole_image")
    ... class WholeImage(FaceDetector):
    ...     '''Every image is one face.'''
    ...     def _detect(self, image):
    ...         return [Face((0, 0, image.shape[1], image.shape[0]), 1.0)]
    >>> from fersk.faces import detect_faces
    >>> detect_faces(np.zeros((30, 40)), detector="whole_image")
    [Face(box=(0.0, 0.0, 40.0, 30.0), score=1.000)]
    >>> _ = _DETECTORS.pop("whole_image")  # (keep the registry as it was)
    """

    def decorate(cls):
        if not (isinstance(cls, type) and issubclass(cls, FaceDetector)):
            raise TypeError(f"register_detector needs a FaceDetector subclass, got {cls!r}")
        _DETECTORS[name] = cls
        cls.name = name
        return cls

    return decorate


def list_detectors():
    """Names of the registered face detectors.

    >>> list_detectors()
    ['lbp', 'mtcnn']
    """
    return sorted(_DETECTORS)


def get_detector(detector="mtcnn", **params):
    """A face detector from its name (with ``params``) or a detector object (a copy, with ``params`` set).

    Parameters
    ----------
    detector : str or FaceDetector, default="mtcnn"
        A name from :func:`list_detectors`, or a configured detector such as
        ``MTCNNDetector(min_face_size=40)``.
    **params
        The detector's parameters, e.g. ``min_face_size=40`` for MTCNN.

    Examples
    --------
    >>> get_detector("mtcnn", min_face_size=40)
    MTCNNDetector(min_face_size=40)
    """
    if isinstance(detector, FaceDetector):
        return clone(detector).set_params(**params) if params else detector
    if isinstance(detector, str) and detector in _DETECTORS:
        try:
            return _DETECTORS[detector](**params)
        except TypeError as error:
            raise TypeError(f"detector {detector!r}: {error}") from None
    raise ValueError(f"unknown face detector {detector!r}; choose from {list_detectors()} or pass a FaceDetector")


class FaceDetector(BaseEstimator):
    """Base of the face detectors: subclasses write ``_detect`` (one image) or ``_detect_many``.

    A detector is a scikit-learn-style object: its ``__init__`` stores parameters, so
    ``get_params``, ``set_params`` and ``clone`` work, and a :class:`FaceCropper`'s
    ``detector__min_face_size`` can be grid-searched.

    ``n_jobs`` sets the processes of :meth:`detect_batch` (joblib; None: one, -1: all cores).
    """

    name = None

    def detect(self, image):
        """Every face in one image, largest first.

        Parameters
        ----------
        image : path, or array of shape (h, w), (h, w, 1), (h, w, 3) or (h, w, 4)
            Pixel values 0-255.

        Returns
        -------
        list of Face
        """
        return _largest_first(self._detect_many([as_image(image)])[0])

    def detect_batch(self, images, n_jobs=None):
        """Every face in each image, largest first; a list per image.

        Parameters
        ----------
        images : sequence of paths or arrays
        n_jobs : int, optional
            Processes (joblib); None takes the detector's ``n_jobs`` parameter, if it has one.
            A detector on a GPU searches in this process whatever ``n_jobs`` says.

        Returns
        -------
        list of list of Face
        """
        images = list(images)
        if n_jobs is None:
            n_jobs = getattr(self, "n_jobs", None)
        n_workers = _n_workers(n_jobs, len(images))
        if n_workers <= 1 or self._in_this_process():
            return _detect_chunk(self, images)
        chunks = np.array_split(np.arange(len(images)), min(len(images), 4 * n_workers))
        results = Parallel(n_jobs=n_workers)(
            delayed(_detect_chunk)(self, [images[i] for i in chunk], in_worker=True) for chunk in chunks if len(chunk)
        )
        return [faces for chunk in results for faces in chunk]

    def _detect_many(self, images):
        """Faces of several float images (``as_image`` output); override to batch."""
        return [self._detect(image) for image in images]

    def _detect(self, image):
        raise NotImplementedError

    def _start_worker(self):
        """Called in each worker process of :meth:`detect_batch` before it detects."""

    def _in_this_process(self):
        """True where :meth:`detect_batch` must not start worker processes (a detector on a GPU)."""
        return False


def _largest_first(faces):
    return sorted(faces, key=lambda face: face.area, reverse=True)


def _n_workers(n_jobs, n_items):
    if n_jobs is None or n_items < 2:
        return 1
    cores = os.cpu_count() or 1
    workers = n_jobs if n_jobs > 0 else max(1, cores + 1 + n_jobs)
    return max(1, min(workers, n_items))


def _detect_chunk(detector, items, in_worker=False):
    if in_worker:
        detector._start_worker()
    return [_largest_first(faces) for faces in detector._detect_many([as_image(item) for item in items])]
