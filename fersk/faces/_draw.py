"""Faces drawn on photos and video frames: a box and a label (emotion, probability) per face."""

import math
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .._atomic import atomic_path
from ._image import as_image, read_image

# one colour per emotion (RGB), so a face's label reads at a glance and stays the same across frames
COLOURS = {
    "angry": (230, 57, 70),
    "disgust": (106, 153, 78),
    "fear": (155, 93, 229),
    "happy": (255, 190, 11),
    "sad": (58, 134, 255),
    "surprise": (0, 200, 200),
    "neutral": (220, 220, 220),
    "contempt": (251, 133, 0),
}
MAX_DRAWN = 4096  # draw_faces enlarges a small image's longer side to this at most
_PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75)]


def draw_faces(image, records, *, min_size=256):
    """The image with each face's box and label (emotion and probability) drawn on it.

    A face whose record holds a prediction set of several classes is labelled with them
    (``sad or neutral``), and one the model abstains on is labelled ``unsure (...)``, in grey
    (:func:`analyze_faces` with ``coverage`` and ``abstain_precision``). Line width and font
    size follow the image's size, so labels read on 128-pixel photos and on large ones alike.
    An image whose record says no face was found gets its label ("no face", and the whole
    image's prediction when it was classified) in its top-left corner.

    Parameters
    ----------
    image : path or array
        The image the records were made from (pixel values 0-255).
    records : list of FaceRecord
        The image's records from :func:`analyze_faces`: for image ``i`` of several,
        ``[r for r in records if r.image == i]`` (the records of several images are refused).
    min_size : int, default=256
        Images whose shorter side is smaller are enlarged by a whole factor first (boxes
        with them), so that labels stay readable, as far as a longer side of 4096 pixels; 0
        keeps every image's size.

    Returns
    -------
    ndarray of uint8, shape (H, W, 3)
        RGB; ``(H, W)`` is the image's size times the enlargement factor (1 for most photos).

    Examples
    --------
    >>> import numpy as np
    >>> from fersk.faces import FaceRecord
    >>> record = FaceRecord(0, None, 0, True, (40, 30, 90, 95), 0.99, {"happy": 0.9, "sad": 0.1}, "happy")
    >>> drawn = draw_faces(np.zeros((128, 160, 3)), [record])
    >>> drawn.shape, drawn.dtype  # enlarged twice, to a shorter side of at least 256
    ((256, 320, 3), dtype('uint8'))
    >>> drawn[60:190, 80].max(axis=0).tolist()  # the box's left edge, in happy's colour
    [255, 190, 11]
    """
    shown = {r.source for r in records}
    if len(shown) > 1:
        raise ValueError(
            f"records of {len(shown)} images (or frames) given to draw one image: pass the image's own, "
            "[r for r in records if r.image == i], or draw them all with write_annotated"
        )
    photo = read_image(image) if isinstance(image, (str, Path)) else as_image(image)
    picture = Image.fromarray(np.clip(np.round(photo), 0, 255).astype(np.uint8)).convert("RGB")
    factor = max(1, math.ceil(min_size / min(picture.size))) if min_size else 1
    factor = max(1, min(factor, MAX_DRAWN // max(picture.size)))  # a 500x2 banner: not 64000 pixels wide
    if factor > 1:
        picture = picture.resize((picture.width * factor, picture.height * factor), Image.Resampling.BICUBIC)
    side = min(picture.size)
    line = max(2, round(side / 200))
    font = _font(max(11, round(side / 24)))
    draw = ImageDraw.Draw(picture)
    for record in records:
        colour = _colour(record)
        if record.box is None:
            text = "no face" if record.predicted is None else f"no face: {_label(record)}"
            _draw_label(draw, text, (0, 0), colour, font, picture.size, line)
            continue
        left, top, right, bottom = (v * factor for v in record.box)
        draw.rectangle((left, top, right - 1, bottom - 1), outline=colour, width=line)
        if record.predicted is not None:
            _draw_label(draw, _label(record), (left, top), colour, font, picture.size, line)
    return np.asarray(picture)


def write_annotated(images, records, folder):
    """Write each image with its faces drawn (:func:`draw_faces`) as ``folder/<name>.png``.

    Parameters
    ----------
    images : list of paths or arrays
        The images the records were made from, in order.
    records : list of FaceRecord
        From :func:`analyze_faces` on ``images``.
    folder : str or Path
        Created when missing. A file is named after its image (``image-<i>`` for arrays, and
        ``<name>-<i>`` when two images share a name); a folder where that would overwrite
        one of the images (a PNG's own folder) is refused before anything is written.

    Returns
    -------
    list of Path
        The files written, one per image that has records (an image :func:`analyze_faces`
        skipped as unreadable has none).

    Examples
    --------
    >>> import tempfile
    >>> from fersk.faces import FaceRecord
    >>> import numpy as np
    >>> record = FaceRecord(0, None, None, False, None, None, None)
    >>> [p.name for p in write_annotated([np.zeros((64, 64))], [record], tempfile.mkdtemp())]
    ['image-0.png']
    """
    folder = Path(folder)
    by_image = defaultdict(list)
    for record in records:
        by_image[record.image].append(record)
    targets, used = {}, set()
    for i, image in enumerate(images):
        if i not in by_image:  # not analysed: a file analyze_faces skipped (on_error="skip")
            continue
        name = Path(image).stem if isinstance(image, (str, Path)) else f"image-{i}"
        if name in used:  # two photos of one name from different folders
            name = f"{name}-{i}"
        used.add(name)
        targets[i] = folder / f"{name}.png"
    photos = {Path(image).resolve() for image in images if isinstance(image, (str, Path))}
    overwritten = [str(path) for path in targets.values() if path.resolve() in photos]
    if overwritten:
        raise ValueError(
            f"the annotated photos would overwrite the photos {', '.join(overwritten)}: choose another folder"
        )
    folder.mkdir(parents=True, exist_ok=True)
    for i, path in targets.items():
        with atomic_path(path) as tmp:  # whole or not at all
            Image.fromarray(draw_faces(images[i], by_image[i])).save(tmp, format="PNG")
    return list(targets.values())


UNSURE_COLOUR = (128, 128, 128)  # a face the model abstains on: mid grey (neutral is light grey), whatever its guess


def _label(record):
    """``happy 93%``; a prediction set of several classes, ``sad or neutral``; abstaining, ``unsure (sad 41%)``."""
    labels = getattr(record, "prediction_set", None)
    text = f"{record.predicted} {record.probability:.0%}"
    if labels is not None and len(labels) > 1:
        text = " or ".join(map(str, labels))
    return f"unsure ({text})" if getattr(record, "unsure", None) else text


def _colour(record):
    return UNSURE_COLOUR if getattr(record, "unsure", None) else emotion_colour(record.predicted)


def emotion_colour(label):
    """The RGB colour fersk draws a class in: one per emotion (the same in photos, videos and the
    timeline), a stable one from a small palette for other labels, grey for none.

    Examples
    --------
    >>> emotion_colour("happy"), emotion_colour(None)
    ((255, 190, 11), (200, 200, 200))
    """
    if label is None:
        return (200, 200, 200)
    return COLOURS.get(str(label).lower(), _PALETTE[sum(map(ord, str(label))) % len(_PALETTE)])


def _font(size):
    try:
        return ImageFont.load_default(size=size)  # Pillow's bundled scalable font (needs FreeType)
    except (TypeError, OSError, ImportError):  # pragma: no cover - Pillow without FreeType
        return ImageFont.load_default()


def _draw_label(draw, text, corner, colour, font, size, line):
    """Text on a filled band in the box's colour: above the box's top-left corner, inside it when there is no room."""
    left, top = corner
    x0, y0, x1, y1 = draw.textbbox((0, 0), text, font=font)
    pad = max(1, line // 2)
    width, height = x1 - x0 + 2 * pad, y1 - y0 + 2 * pad
    x = min(max(0, left), max(0, size[0] - width))
    y = top - height if top - height >= 0 else max(0, top)
    draw.rectangle((x, y, x + width, y + height), fill=colour)
    ink = (0, 0, 0) if sum(colour) > 380 else (255, 255, 255)
    draw.text((x + pad - x0, y + pad - y0), text, fill=ink, font=font)
