"""Heatmaps over faces: overlays, grids of right and wrong predictions, class means."""

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from ._attribution import classifier_and_rows, explain


def overlay(image, heatmap, *, alpha=0.45, cmap="jet"):
    """Blend a heatmap over a face.

    Parameters
    ----------
    image : array of shape (h, w) or (h, w, c)
        Pixel values 0-255.
    heatmap : array of shape (h, w)
        Any scale; negative values are clipped, the rest scaled to [0, 1].
    alpha : float, default=0.45
        Weight of the heatmap.
    cmap : str, default="jet"

    Returns
    -------
    ndarray of shape (h, w, 3), uint8

    Examples
    --------
    >>> import numpy as np
    >>> overlay(np.zeros((4, 4)), np.eye(4)).shape
    (4, 4, 3)
    """
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    rgb = np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image[..., :3]
    heat = np.clip(np.asarray(heatmap, dtype=np.float32), 0, None)
    if heat.shape != rgb.shape[:2]:
        raise ValueError(f"heatmap of shape {heat.shape} does not match the image's {rgb.shape[:2]}")
    peak = heat.max()
    heat = heat / peak if peak > 0 else heat
    coloured = colormaps[cmap](heat)[..., :3] * 255.0
    return ((1 - alpha) * rgb + alpha * coloured).clip(0, 255).astype(np.uint8)


def plot_explanation(estimator, x, *, method="gradcam", target=None, layer=None):
    """One face beside its attribution heatmap, titled with the prediction: what ``fersk explain`` draws.

    Parameters
    ----------
    estimator : fitted fersk estimator
    x : array-like of shape (n_pixels,) or (1, n_pixels), or image-shaped
        One image, as the estimator takes it.
    method : str, default="gradcam"
        See :func:`fersk.explain.explain`.
    target : label, optional
        The class to explain; default the predicted one.
    layer : torch.nn.Module, optional
        Grad-CAM's layer.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from fersk import CNNClassifier, make_faces
    >>> X, y = make_faces(40, image_size=24, random_state=0)
    >>> model = CNNClassifier(max_epochs=1, module__channels=(4, 8), random_state=0).fit(X, y)
    >>> fig = plot_explanation(model, X[0], target="happy")
    >>> fig.axes[1].get_title()
    'gradcam for happy'
    """
    one = [x] if hasattr(estimator, "steps") and np.ndim(x) in (2, 3) else x  # a photo for a FaceCropper
    estimator, X = classifier_and_rows(estimator, one)
    X = np.asarray(X)
    X = estimator._validate_predict(X.reshape(1, -1) if X.ndim == 1 or X.shape == estimator.image_shape_ else X)
    if len(X) != 1:
        raise ValueError(f"plot_explanation draws one image; got {len(X)}")
    proba = estimator.predict_proba(X)[0]
    predicted = estimator.classes_[int(np.argmax(proba))]
    target = predicted if target is None else target
    heat = explain(estimator, X, method=method, target=target, layer=layer)[0]
    image = X[0].reshape(estimator.image_shape_)
    fig = Figure(figsize=(5, 2.8))
    left, right = fig.subplots(1, 2)
    left.imshow(image.squeeze().astype(np.uint8), cmap="gray" if image.shape[2] == 1 else None, vmin=0, vmax=255)
    left.set_title(f"predicted {predicted} {proba.max():.0%}", fontsize=9)
    right.imshow(overlay(image, heat))
    right.set_title(f"{method} for {target}", fontsize=9)
    for ax in (left, right):
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def plot_explanations(estimator, X, y, *, method="gradcam", n=8, layer=None, random_state=0):
    """Grids of heatmaps over correctly and wrongly classified faces.

    Parameters
    ----------
    estimator : fitted fersk estimator
    X : array-like
        Images, as the estimator takes them.
    y : array-like of shape (n_samples,)
        True labels.
    method : str, default="gradcam"
        See :func:`fersk.explain.explain`.
    n : int, default=8
        Faces per row: one row of correct predictions, one of mistakes.
    layer : torch.nn.Module, optional
        Grad-CAM's layer.
    random_state : int, default=0
        Which faces are drawn.

    Returns
    -------
    matplotlib.figure.Figure
    """
    estimator, X = classifier_and_rows(estimator, X)
    X = estimator._validate_predict(X)
    y = np.asarray(y)
    proba = estimator.predict_proba(X)
    y_pred = estimator.classes_[proba.argmax(axis=1)]
    rng = np.random.default_rng(random_state)
    rows = []
    for name, mask in (("correct", y_pred == y), ("wrong", y_pred != y)):
        index = np.flatnonzero(mask)
        if len(index):
            rows.append((name, rng.choice(index, size=min(n, len(index)), replace=False)))
    if not rows:
        raise ValueError("no images to explain")
    chosen = np.concatenate([index for _, index in rows])
    # the predicted class, as explain's default, without predicting again
    heat = explain(estimator, X[chosen], method=method, target=y_pred[chosen], layer=layer)
    maps = dict(zip(chosen.tolist(), heat))
    images = X.reshape(len(X), *estimator.image_shape_)
    fig = Figure(figsize=(1.35 * n, 2.0 * len(rows)))
    axes = fig.subplots(len(rows), n, squeeze=False)
    for (name, index), row_axes in zip(rows, axes):
        for ax in row_axes:
            ax.set_axis_off()
        for i, ax in zip(index, row_axes):
            ax.imshow(overlay(images[i], maps[int(i)]))
            colour = "#1a7f37" if name == "correct" else "#cf222e"
            ax.set_title(f"{y[i]}\n→ {y_pred[i]} {proba[i].max():.0%}", fontsize=7, color=colour)
    fig.suptitle(f"{method}: correct (top) and wrong (bottom) predictions" if len(rows) == 2 else method)
    fig.tight_layout()
    return fig


def class_heatmaps(estimator, X, y, *, method="gradcam", max_per_class=64, layer=None, random_state=0):
    """The mean attribution map per true class, each map scaled to a peak of 1.

    Parameters
    ----------
    estimator : fitted fersk estimator
    X : array-like
    y : array-like of shape (n_samples,)
    method : str, default="gradcam"
    max_per_class : int, default=64
        Faces averaged per class, drawn at random.
    layer : torch.nn.Module, optional
    random_state : int, default=0

    Returns
    -------
    dict
        Class -> ndarray (h, w).
    """
    estimator, X = classifier_and_rows(estimator, X)
    X = estimator._validate_predict(X)
    y = np.asarray(y)
    rng = np.random.default_rng(random_state)
    means = {}
    for label in estimator.classes_:
        index = np.flatnonzero(y == label)
        if len(index) == 0:
            continue
        index = rng.choice(index, size=min(max_per_class, len(index)), replace=False)
        heat = np.clip(explain(estimator, X[index], method=method, target=label, layer=layer), 0, None)
        peaks = heat.reshape(len(heat), -1).max(axis=1)
        heat = heat / np.where(peaks > 0, peaks, 1)[:, None, None]
        mean = heat.mean(axis=0)
        means[label] = mean / mean.max() if mean.max() > 0 else mean
    return means


def plot_class_heatmaps(estimator, X, y, *, method="gradcam", max_per_class=64, layer=None, random_state=0):
    """The mean heatmap per class over that class's mean face.

    Parameters are those of :func:`class_heatmaps`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    means = class_heatmaps(
        estimator, X, y, method=method, max_per_class=max_per_class, layer=layer, random_state=random_state
    )
    estimator, X = classifier_and_rows(estimator, X)
    X = estimator._validate_predict(X)
    images = X.reshape(len(X), *estimator.image_shape_)
    y = np.asarray(y)
    fig = Figure(figsize=(1.6 * len(means), 2.0))
    axes = np.atleast_1d(fig.subplots(1, len(means), squeeze=False)).ravel()
    for ax, (label, heat) in zip(axes, means.items()):
        ax.imshow(overlay(images[y == label].mean(axis=0), heat))
        ax.set_title(str(label), fontsize=8)
        ax.set_axis_off()
    fig.suptitle(f"mean {method} per class")
    fig.tight_layout()
    return fig
