"""Cut a face out of a photo: level the eyes, then frame it as FER2013 frames its faces."""

import numpy as np
from skimage.transform import AffineTransform, warp

from ._face import Face
from ._image import as_image

# Where FER2013's faces have their landmarks, as fractions of the 48x48 frame (x, y): the
# median of MTCNN's landmarks over 3,000 random FER2013 training faces (it found one in 91%),
# made symmetric about the vertical midline (python benchmarks/bench_landmarks.py).
FER2013_LANDMARKS = np.array(
    [
        [0.312, 0.388],  # left eye
        [0.688, 0.388],  # right eye
        [0.500, 0.594],  # nose
        [0.342, 0.783],  # left mouth corner
        [0.658, 0.783],  # right mouth corner
    ]
)
FER2013_LANDMARKS.flags.writeable = False

# Where MTCNN's landmarks sit in the LBP cascade's square box, as fractions of its side (x, y):
# the median over the 770 muxspace val photos where both found one face, made symmetric
# (python benchmarks/bench_landmarks.py). A face without landmarks is framed from its box with these.
BOX_LANDMARKS = np.array([[0.266, 0.379], [0.734, 0.379], [0.500, 0.658], [0.289, 0.904], [0.711, 0.904]])
BOX_LANDMARKS.flags.writeable = False


def extract_face(image, face, output_shape=48, *, align=True, margin=0.1, fill="edge"):
    """The face cut out of the image and resized, rotated so that its eyes are level.

    Parameters
    ----------
    image : path, or array of shape (h, w), (h, w, 1), (h, w, 3) or (h, w, 4)
        The image the face was found in (pixel values 0-255).
    face : Face
        As :func:`detect_faces` returns it.
    output_shape : int or (int, int), default=48
        ``(height, width)`` of the crop.
    align : bool, default=True
        True: the face is rotated so that its eyes are level (from its landmarks; a face
        without landmarks is not rotated), scaled and placed so that its eyes, nose and
        mouth fall where FER2013's faces have theirs (:data:`FER2013_LANDMARKS`): the
        tight framing the models were trained on. False: the crop is the face's box made
        square (its longer side, about its centre), resized.
    margin : float, default=0.1
        Context added on each side, as a fraction of the framed face's side: 0 is
        FER2013's framing; 0.25 shows 1.5 times as much around the face, which is then
        smaller in the crop. The default, 0.1 with ``align=True``, is the framing that
        scored best with the shipped FER2013 model on the muxspace val photos
        (``benchmarks/bench_detection.py``).
    fill : {"edge", "constant", "reflect", "symmetric", "wrap"}, default="edge"
        What fills the parts of the crop beyond the image's edge (``skimage.transform.warp``'s
        ``mode``; "constant" is black).

    Returns
    -------
    ndarray of uint8, shape (height, width) or (height, width, 3)
        Grayscale when the image is, RGB when it is colour.

    Examples
    --------
    >>> from skimage.data import astronaut
    >>> from fersk.faces import detect_faces
    >>> photo = astronaut()
    >>> face = detect_faces(photo)[0]
    >>> extract_face(photo, face).shape
    (48, 48, 3)
    >>> extract_face(photo, face, (64, 48), align=False, margin=0.2).shape
    (64, 48, 3)
    """
    if not isinstance(face, Face):
        raise TypeError(f"face must be a fersk.faces.Face, got {type(face).__name__}")
    image = as_image(image)
    height, width = _shape(output_shape)
    if not margin >= 0:
        raise ValueError(f"margin must be >= 0, got {margin!r}")
    matrix = _frame_matrix(face, height, width, align, margin)  # output (x, y) -> image (x, y)
    return _warp(image, matrix, (height, width), fill)


def _shape(output_shape):
    if isinstance(output_shape, (int, np.integer)):
        output_shape = (output_shape, output_shape)
    height, width = (int(v) for v in output_shape)
    if height < 1 or width < 1:
        raise ValueError(f"output_shape must be positive, got {output_shape!r}")
    return height, width


def face_landmarks(face):
    """The face's landmarks, or where they typically sit in its box when it has none."""
    if face.landmarks is not None:
        return np.asarray(face.landmarks, dtype=np.float64)
    left, top = face.box[:2]
    side = max(face.width, face.height)
    return np.array([left, top]) + BOX_LANDMARKS * side


def _frame_matrix(face, height, width, align, margin):
    """3x3 matrix from crop coordinates to image coordinates (continuous, pixel i spans [i, i+1))."""
    side = min(height, width)  # FER2013's square frame, centred in the crop
    centre = np.array([width / 2, height / 2])
    zoom = 1 + 2 * margin
    if align:
        source = face_landmarks(face)
        target = centre + (FER2013_LANDMARKS - 0.5) * side / zoom
        angle = 0.0
        if face.landmarks is not None:
            dx, dy = source[1] - source[0]
            angle = np.arctan2(dy, dx)  # the eye line's tilt in the image
        # image -> crop: rotate by -angle, then the scale and shift that best fit the landmarks
        rotation = np.array([[np.cos(-angle), -np.sin(-angle)], [np.sin(-angle), np.cos(-angle)]])
        rotated = source @ rotation.T
        src_c, dst_c = rotated - rotated.mean(0), target - target.mean(0)
        scale = (src_c * dst_c).sum() / (src_c**2).sum()
        shift = target.mean(0) - scale * rotated.mean(0)
        forward = np.eye(3)
        forward[:2, :2] = scale * rotation
        forward[:2, 2] = shift
        return np.linalg.inv(forward)
    box_side = max(face.width, face.height) * zoom
    scale = box_side / side  # image pixels per crop pixel
    cx, cy = face.center
    matrix = np.eye(3)
    matrix[0, 0] = matrix[1, 1] = scale
    matrix[:2, 2] = [cx - scale * centre[0], cy - scale * centre[1]]
    return matrix


def _warp(image, matrix, shape, fill):
    """Sample ``image`` at ``matrix @ (x, y, 1)`` for each crop pixel, as the mean over the pixel's area.

    Shrinking a face (most photos) averages ``k x k`` bilinear samples per crop pixel, with
    ``k`` the image pixels per crop pixel rounded up: an area filter, so no aliasing and no
    blur from beyond the crop's edge.
    """
    height, width = shape
    step = np.sqrt(abs(np.linalg.det(matrix[:2, :2])))  # image pixels per crop pixel
    k = max(1, int(np.ceil(step - 1e-6)))
    # the part of the image the crop sees, with a pixel of room for the interpolation
    corners = matrix @ np.array([[0, width, 0, width], [0, 0, height, height], [1, 1, 1, 1]], dtype=float)
    x0 = int(np.clip(np.floor(corners[0].min()) - 1, 0, image.shape[1] - 1))
    y0 = int(np.clip(np.floor(corners[1].min()) - 1, 0, image.shape[0] - 1))
    x1 = int(np.clip(np.ceil(corners[0].max()) + 1, x0 + 1, image.shape[1]))
    y1 = int(np.clip(np.ceil(corners[1].max()) + 1, y0 + 1, image.shape[0]))
    region = image[y0:y1, x0:x1]
    # crop sample (u, v) on the k-times finer grid -> region pixel; skimage puts pixel centres at integers
    to_region = np.array([[1, 0, -x0 - 0.5], [0, 1, -y0 - 0.5], [0, 0, 1]]) @ matrix
    to_region = to_region @ np.array([[1 / k, 0, 0.5 / k], [0, 1 / k, 0.5 / k], [0, 0, 1]])
    out = warp(
        region.astype(np.float32, copy=False),
        AffineTransform(matrix=to_region),
        output_shape=(height * k, width * k),
        order=1,
        mode=fill,
        cval=0.0,
        preserve_range=True,
    )
    if k > 1:
        out = out.reshape(height, k, width, k, *out.shape[2:]).mean(axis=(1, 3))
    return np.clip(np.round(out), 0, 255).astype(np.uint8)
