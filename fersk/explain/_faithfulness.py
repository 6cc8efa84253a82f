"""Faithfulness of attribution maps as numbers: deletion and insertion against a random order."""

import numpy as np
import torch
from matplotlib.figure import Figure
from sklearn.utils import Bunch

from ._attribution import model_inputs


def faithfulness(estimator, X, attributions, *, target=None, steps=16, baseline="blur", random_state=0, batch_size=256):
    """Score attribution maps by deletion and insertion, each against a random order.

    The pixels of each face are ranked by their attribution, most positive first (ties in a
    random order). *Deletion* replaces them, in that order, with ``baseline`` and follows the
    probability of the explained class: a faithful map makes it fall at once, so the area
    under that curve is small. *Insertion* starts from ``baseline`` and puts the pixels back
    in the same order: a faithful map makes the probability rise at once, so the area is
    large. The same curves for a random order of the pixels are the chance level (Petsiuk et
    al., "RISE", 2018). The probabilities are those the explanations are of: the network's own
    (one view, without test-time augmentation) for a neural estimator, ``predict_proba`` for
    anything else.

    Parameters
    ----------
    estimator : fitted fersk estimator, or Pipeline ending in one
        As for :func:`fersk.explain.explain`.
    X : array-like
        The images the maps are of, as the estimator takes them (pixel values 0-255).
    attributions : array of shape (n_samples, height, width), or dict of such arrays
        Maps as :func:`fersk.explain.explain` returns them. A dict (method -> maps) scores
        each against one and the same random order.
    target : label, array-like of labels, or None
        The class each map explains: None is the predicted class, as for ``explain``.
    steps : int, default=16
        Points on each curve after the first: the pixels are removed or revealed in
        ``steps`` equal parts.
    baseline : "blur", float or array-like, default="blur"
        What a removed pixel becomes: ``"blur"``, the face blurred (a Gaussian of a
        twelfth of its side), which removes detail without adding the edges of a grey
        patch; a number, a constant in [0, 1] (0 is black, 0.5 the grey of occlusion,
        LIME and Kernel SHAP); or images of the shape of ``X`` (pixel values 0-255).
    random_state : int, default=0
        The random order, and the order of ties.
    batch_size : int, default=256
        Images per forward pass.

    Returns
    -------
    Bunch, or dict of Bunch for a dict of maps
        ``deletion``, ``insertion``, ``random_deletion``, ``random_insertion``: the area
        under each curve per image, shape (n_samples,), on a pixel-fraction axis from 0 to
        1. ``deletion_gain`` (random minus map) and ``insertion_gain`` (map minus random):
        above 0 where the map is better than chance. ``fractions``, shape (steps + 1,), and
        ``curves``: each curve per image, shape (n_samples, steps + 1).

    Examples
    --------
    >>> from fersk import CNNClassifier, make_faces
    >>> from fersk.explain import explain
    >>> X, y = make_faces(60, image_size=24, random_state=0)
    >>> clf = CNNClassifier(max_epochs=1, module__channels=(4, 8), random_state=0).fit(X, y)
    >>> maps = explain(clf, X[:4], method="integrated_gradients")
    >>> score = faithfulness(clf, X[:4], maps, steps=8)
    >>> score.deletion.shape, score.curves["insertion"].shape
    ((4,), (4, 9))
    """
    steps = int(steps)
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    estimator, X, images, targets, forward, device = model_inputs(estimator, X, target)
    n, c, h, w = images.shape
    named = isinstance(attributions, dict)
    maps = attributions if named else {None: attributions}
    for name, value in maps.items():
        if np.shape(value) != (n, h, w):
            what = "attributions" if name is None else f"attributions[{name!r}]"
            raise ValueError(
                f"{what} has shape {np.shape(value)}; it should be one map per image, ({n}, {h}, {w}), "
                "as fersk.explain.explain returns for the same X"
            )
    fill = _baseline(images, baseline)
    rng = np.random.default_rng(random_state)
    ties = rng.random((n, h * w))  # one tie order per image, shared by every map
    random_order = np.argsort(rng.random((n, h * w)), axis=1)
    counts = np.linspace(0, h * w, steps + 1).round().astype(int)
    fractions = counts / (h * w)
    score = _Scorer(forward, images, fill, targets, counts, device, batch_size)
    random_deletion, random_insertion = score(random_order)
    results = {}
    for name, value in maps.items():
        value = np.asarray(value, dtype=np.float64).reshape(n, h * w)
        order = np.lexsort((ties, -value), axis=1) if n else np.zeros((0, h * w), dtype=int)
        deletion, insertion = score(order)
        curves = {
            "deletion": deletion,
            "insertion": insertion,
            "random_deletion": random_deletion,
            "random_insertion": random_insertion,
        }
        areas = {key: _area(curve, fractions) for key, curve in curves.items()}
        results[name] = Bunch(
            **areas,
            deletion_gain=areas["random_deletion"] - areas["deletion"],
            insertion_gain=areas["insertion"] - areas["random_insertion"],
            fractions=fractions,
            curves=curves,
        )
    return results if named else results[None]


class _Scorer:
    """The class probability along the deletion and insertion curves of given pixel orders."""

    def __init__(self, forward, images, fill, targets, counts, device, batch_size):
        self.forward, self.device, self.batch_size = forward, device, int(batch_size)
        n, c, h, w = images.shape
        self.side = (h, w)
        self.images, self.fill = images.reshape(n, c, h * w), fill.reshape(n, c, h * w)
        self.targets, self.counts = torch.as_tensor(targets), torch.as_tensor(counts)

    def __call__(self, order):
        n, c, pixels = self.images.shape
        k = len(self.counts)
        deletion, insertion = np.zeros((n, k)), np.zeros((n, k))
        per_batch = max(1, self.batch_size // (2 * k))  # faces per forward pass, both curves each
        for start in range(0, n, per_batch):
            index = slice(start, start + per_batch)
            rank = torch.empty((len(range(n)[index]), pixels), dtype=torch.long)
            rank.scatter_(1, torch.as_tensor(order[index]), torch.arange(pixels).expand(len(rank), -1))
            gone = (rank[:, None, :] < self.counts[None, :, None])[:, :, None, :]  # (faces, k, 1, pixels)
            image, fill = self.images[index][:, None], self.fill[index][:, None]
            batch = torch.cat([torch.where(gone, fill, image), torch.where(gone, image, fill)], dim=1)
            batch = batch.reshape(-1, c, *self.side).to(self.device)
            with torch.no_grad():
                proba = self.forward(batch).reshape(len(rank), 2 * k, -1).cpu()
            chosen = proba[torch.arange(len(rank)), :, self.targets[index]].numpy()
            deletion[index], insertion[index] = chosen[:, :k], chosen[:, k:]
        return deletion, insertion


def _area(curves, fractions):
    """The trapezoidal area under each curve (numpy's trapezoid, which numpy < 2 names otherwise)."""
    return ((curves[:, 1:] + curves[:, :-1]) / 2 * np.diff(fractions)).sum(axis=1)


def _baseline(images, baseline):
    """What removed pixels become, as images in [0, 1] of the shape of ``images``."""
    if isinstance(baseline, str):
        if baseline != "blur":
            raise ValueError(f"baseline must be 'blur', a number in [0, 1] or images; got {baseline!r}")
        from scipy.ndimage import gaussian_filter

        sigma = min(images.shape[-2:]) / 12
        blurred = gaussian_filter(images.numpy(), sigma=(0, 0, sigma, sigma), mode="nearest")
        return torch.as_tensor(blurred, dtype=images.dtype)
    value = np.asarray(baseline, dtype=np.float32)
    if value.ndim == 0:
        if not 0 <= value <= 1:
            raise ValueError(f"a constant baseline is a pixel value in [0, 1] (0.5 is grey); got {float(value)}")
        return torch.full_like(images, float(value))
    n, c, h, w = images.shape
    if value.size != images.numel():
        raise ValueError(f"baseline images hold {value.size} values; X holds {images.numel()} ({n} images)")
    return torch.as_tensor(value.reshape(n, h, w, c).transpose(0, 3, 1, 2) / 255.0, dtype=images.dtype)


def plot_faithfulness(results, *, title=None):
    """Mean deletion and insertion curves per method, with the random order's.

    Parameters
    ----------
    results : dict of Bunch, or Bunch
        As :func:`faithfulness` returns them (a dict for several methods).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    results = results if isinstance(results, dict) else {"map": results}
    fig = Figure(figsize=(8, 3.2))
    axes = fig.subplots(1, 2)
    for ax, curve, better in zip(axes, ("deletion", "insertion"), ("lower", "higher")):
        for name, result in results.items():
            mean = result.curves[curve].mean(axis=0)
            ax.plot(result.fractions, mean, label=f"{name} ({getattr(result, curve).mean():.3f})")
        first = next(iter(results.values()))
        chance = first.curves["random_" + curve].mean(axis=0)
        ax.plot(first.fractions, chance, "k--", label=f"random ({first['random_' + curve].mean():.3f})")
        ax.set_xlabel("share of pixels " + ("removed" if curve == "deletion" else "revealed"))
        ax.set_ylabel("probability of the explained class")
        ax.set_title(f"{curve}: area, {better} is better", fontsize=9)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
