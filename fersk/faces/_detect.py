"""Find every face: one image or many, with any registered detector."""

from ._image import as_photo, refuse_0_1
from ._registry import get_detector


def detect_faces(image, detector="mtcnn", **params):
    """Every face in an image, largest first.

    Parameters
    ----------
    image : path, PIL image, or array of shape (h, w), (h, w, 1), (h, w, 3) or (h, w, 4)
        Pixel values 0-255 (RGB for colour; a floating-point array from 0 to 1 is refused).
        Paths are read upright with :func:`read_image`.
    detector : str or FaceDetector, default="mtcnn"
        ``"mtcnn"`` (a CNN with landmarks, the default), ``"lbp"`` (scikit-image's cascade,
        light, no landmarks), another name from :func:`list_detectors`, or a detector object.
    **params
        The detector's parameters, e.g. ``min_face_size=40`` (see :class:`MTCNNDetector`
        and :class:`LBPDetector`).

    Returns
    -------
    list of Face
        ``box`` (left, top, right, bottom), ``score`` and ``landmarks`` of each face,
        largest box first; empty when no face is found.

    Examples
    --------
    >>> import numpy as np
    >>> from skimage.data import astronaut
    >>> two = np.concatenate([astronaut()[:, :300], astronaut()[::2, :300].repeat(2, axis=0) // 2], axis=1)
    >>> faces = detect_faces(two)
    >>> len(faces), faces[0].box[0] < 300 < faces[1].box[0]
    (2, True)
    >>> faces[0].landmarks.shape
    (5, 2)
    """
    return get_detector(detector, **params).detect(as_photo(image))


def detect_faces_batch(images, detector="mtcnn", n_jobs=None, **params):
    """Every face in each of many images: a list of faces per image, largest first.

    Parameters
    ----------
    images : sequence of paths or arrays
        As in :func:`detect_faces` (a floating-point array running from 0 to 1 is refused).
    detector : str or FaceDetector, default="mtcnn"
        As in :func:`detect_faces`.
    n_jobs : int, optional
        Worker processes (joblib), each running the detector on a share of the images
        with one thread; -1 uses every core. None runs in this process: MTCNN then
        batches images of one size through its networks with PyTorch's threads.
    **params
        The detector's parameters.

    Returns
    -------
    list of list of Face

    Raises
    ------
    ValueError
        When an image is a floating-point array with values from 0 to 1, before any is searched.

    Examples
    --------
    >>> import numpy as np
    >>> from skimage.data import astronaut
    >>> [len(faces) for faces in detect_faces_batch([astronaut(), np.zeros((60, 80))])]
    [1, 0]
    """
    images = list(images)
    for image in images:
        refuse_0_1(image)
    return get_detector(detector, **params).detect_batch(images, n_jobs=n_jobs)
