"""The Bunch every fersk loader returns."""

import numpy as np
from sklearn.utils import Bunch


def make_bunch(images, target, filenames, *, skipped=None, descr="", **extra):
    """Assemble a loader's Bunch.

    ``data`` is a flattened view of ``images`` (no copy), pixel values 0-255 in
    float32 as scikit-learn's ``load_digits`` gives floats: imbalanced-learn's SMOTE
    interpolates in the input's dtype, and in uint8 its differences wrap around.
    ``target`` holds string labels and ``target_names`` their sorted unique values,
    as ``classes_`` will.
    """
    images = np.asarray(images, dtype=np.float32)
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
