"""Class-per-folder image datasets."""

from pathlib import Path

from ._bunch import make_bunch
from ._decode import IMAGE_EXTENSIONS, decode_entries, warn_skipped
from ._vocabulary import canonical_emotion


def load_image_folder(path, *, image_size=48, grayscale=True, canonical_labels=True, n_jobs=None, cache_dir=None):
    """Load a class-per-folder dataset: ``path/<label>/<image>``.

    Parameters
    ----------
    path : path-like
        The root folder; each sub-folder is a class and may nest further.
    image_size : int, (int, int) or None, default=48
        Resize every image to this ``(height, width)``; None keeps native sizes,
        which must then agree.
    grayscale : bool, default=True
        Load one channel; False loads RGB, ``images`` then has shape (n, h, w, 3).
    canonical_labels : bool, default=True
        Map folder names onto :data:`EMOTIONS` (``Happiness`` -> ``happy``) with
        :func:`canonical_emotion`; False keeps the folder names as they are.
    n_jobs : int or None
        Processes decoding images; None uses all cores for large folders.
    cache_dir : path-like, None or False
        Where decoded arrays are cached; False disables the cache.

    Returns
    -------
    sklearn.utils.Bunch
        ``data``, ``images``, ``target``, ``target_names``, ``filenames`` (relative
        to ``path``) and ``skipped`` (reason -> files). What is skipped (files outside
        a class folder, non-images, corrupt images) is also counted in one
        :class:`FerskDataWarning`.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> root = Path(tempfile.mkdtemp())
    >>> for label in ["Happiness", "sad"]:
    ...     (root / label).mkdir()
    ...     Image.fromarray(np.zeros((64, 64), np.uint8)).save(root / label / "a.png")
    >>> data = load_image_folder(root, image_size=32, cache_dir=False)
    >>> data.images.shape, data.target.tolist()
    ((2, 32, 32), ['happy', 'sad'])
    """
    root = Path(path)
    if not root.is_dir():
        raise ValueError(f"{str(root)!r} is not a folder")
    entries, skipped = [], {"not in a class folder": [], "not an image file": []}
    for item in sorted(root.iterdir()):
        if item.is_file():
            skipped["not in a class folder"].append(item.name)
            continue
        label = canonical_emotion(item.name) if canonical_labels else item.name
        for file in sorted(p for p in item.rglob("*") if p.is_file()):
            relative = str(file.relative_to(root))
            if file.suffix.lower() in IMAGE_EXTENSIONS:
                entries.append((relative, label))
            else:
                skipped["not an image file"].append(relative)
    if not entries:
        raise ValueError(
            f"no images found in class folders under {str(root)!r}; expected the layout path/<label>/<image>"
        )
    images, kept = decode_entries(
        root,
        entries,
        [name for name, _ in entries],
        skipped,
        image_size=image_size,
        grayscale=grayscale,
        n_jobs=n_jobs,
        cache_dir=cache_dir,
    )
    warn_skipped("load_image_folder", skipped)
    return make_bunch(
        images,
        [label for _, label in kept],
        [name for name, _ in kept],
        skipped={k: v for k, v in skipped.items() if v},
        descr=f"Class-per-folder images from {root}",
    )
