"""The Bunch every fersk loader returns."""

import numpy as np
from sklearn.utils import Bunch


def make_bunch(images, target, filenames, *, skipped=None, descr="", **extra):
    """Assemble a loader's Bunch.

    ``data`` is a flattened view of ``images`` (no copy); ``target`` holds string
    labels and ``target_names`` their sorted unique values, as ``classes_`` will.
    """
    images = np.asarray(images)
    target = np.asarray(target, dtype=str)
    bunch = Bunch(
        data=images.reshape(len(images), -1),
        images=images,
        target=target,
        target_names=np.unique(target),
        filenames=np.asarray(filenames, dtype=str),
        skipped=dict(skipped or {}),
        DESCR=descr,
    )
    bunch.update({key: np.asarray(value, dtype=str) for key, value in extra.items()})
    return bunch
