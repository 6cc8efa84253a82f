"""Calibration: the expected calibration error and the reliability diagram of top-label confidence."""

import numpy as np
from matplotlib.figure import Figure

N_BINS = 15  # Guo et al. (2017) report ECE with 15 equal-width bins; so do torchmetrics and most papers since


def _top_label(y_true, proba, classes, strict=True):
    """``(confidence, correct, classes)``: the highest probability of each row and whether its class is the truth.

    Labels that are not among ``classes`` are refused, or with ``strict=False`` counted wrong (as accuracy counts
    them, for :func:`evaluate` on a dataset with a class the model does not know)."""
    y_true = np.asarray(y_true)
    proba = np.asarray(proba, dtype=float)
    if y_true.ndim != 1:
        raise ValueError(f"y_true must be one label per sample (1-D); got shape {y_true.shape}")
    if proba.ndim != 2:
        raise ValueError(
            f"proba must be 2-D, one row of class probabilities per sample (predict_proba's output); "
            f"got shape {proba.shape}"
        )
    if len(y_true) != len(proba):
        raise ValueError(f"y_true has {len(y_true)} labels but proba has {len(proba)} rows: give one row per label")
    if len(y_true) == 0:
        raise ValueError("cannot measure calibration on 0 samples")
    classes = np.unique(y_true) if classes is None else np.asarray(classes)
    if len(classes) != proba.shape[1]:
        raise ValueError(
            f"proba has {proba.shape[1]} columns but there are {len(classes)} classes; pass the model's "
            f"classes_ as classes= (by default the sorted labels of y_true are taken, and some are absent)"
        )
    unknown = np.setdiff1d(y_true, classes)
    if len(unknown) and strict:
        raise ValueError(
            f"y_true holds labels that are not among the classes: {unknown[:5].tolist()}; pass the classes "
            f"proba's columns stand for as classes=, or leave those samples out"
        )
    if not np.all(np.isfinite(proba)):
        raise ValueError("proba holds NaN or infinite values")
    top = proba.argmax(axis=1)
    return proba[np.arange(len(proba)), top], classes[top] == y_true, classes


def _check_bins(n_bins):
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer (15 is usual); got {n_bins!r}")
    return int(n_bins)


def _bin_index(confidence, n_bins):
    """The bin of each confidence: ``(k/M, (k+1)/M]``, with 0 in the first bin (Guo et al.'s convention)."""
    return np.clip(np.ceil(np.asarray(confidence) * n_bins).astype(int) - 1, 0, n_bins - 1)


def expected_calibration_error(y_true, proba, *, classes=None, n_bins=N_BINS):
    r"""The expected calibration error (ECE) of top-label confidence, with equal-width bins.

    Each sample's confidence is its highest class probability; it is right when that
    class is its true label. Confidences are put in ``n_bins`` equal-width bins
    :math:`B_m = (\frac{m-1}{M}, \frac{m}{M}]`, and

    .. math:: \mathrm{ECE} = \sum_{m=1}^{M} \frac{|B_m|}{n}\,\bigl|\mathrm{acc}(B_m) - \mathrm{conf}(B_m)\bigr|

    where :math:`\mathrm{acc}(B_m)` is the fraction right in the bin and
    :math:`\mathrm{conf}(B_m)` its mean confidence: 0 for a model whose "80%" is right 80%
    of the time, up to 1. This is the definition of Naeini, Cooper and Hauskrecht (2015)
    as used by Guo, Pleiss, Sun and Weinberger (2017), with their 15 bins by default.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    proba : array-like of shape (n_samples, n_classes)
        Class probabilities, as ``predict_proba`` gives them.
    classes : array-like of shape (n_classes,), optional
        The label each column of ``proba`` stands for: the model's ``classes_``. By default
        the sorted unique labels of ``y_true``, which is ``classes_`` when every class
        occurs in ``y_true``.
    n_bins : int, default=15
        Number of equal-width confidence bins.

    Returns
    -------
    float
        The ECE, between 0 and 1.

    See Also
    --------
    plot_reliability : the bins as a reliability diagram.
    sklearn.calibration.CalibratedClassifierCV : to calibrate a classifier.

    References
    ----------
    .. [1] M. P. Naeini, G. F. Cooper and M. Hauskrecht, "Obtaining Well Calibrated
       Probabilities Using Bayesian Binning", AAAI 2015.
    .. [2] C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On Calibration of Modern
       Neural Networks", ICML 2017, section 2 (eq. 3).

    Examples
    --------
    Two answers at 90% confidence, one right; two at 60%, both right: ``(2 * |0.5 - 0.9| +
    2 * |1 - 0.6|) / 4``.

    >>> proba = [[0.9, 0.1], [0.9, 0.1], [0.4, 0.6], [0.6, 0.4]]
    >>> round(expected_calibration_error(["a", "b", "b", "a"], proba), 4)
    0.4

    With a fitted model, pass its ``classes_``:

    >>> from fersk import HOGSVMClassifier, make_faces
    >>> X, y = make_faces(140, image_size=24, random_state=0)
    >>> clf = HOGSVMClassifier(pixels_per_cell=(6, 6)).fit(X[:100], y[:100])
    >>> ece = expected_calibration_error(y[100:], clf.predict_proba(X[100:]), classes=clf.classes_)
    >>> 0 <= ece <= 1
    True
    """
    n_bins = _check_bins(n_bins)
    confidence, correct, _ = _top_label(y_true, proba, classes)
    return _ece(confidence, correct, n_bins)


def _ece(confidence, correct, n_bins):
    index = _bin_index(confidence, n_bins)
    gap = np.bincount(index, weights=correct - confidence, minlength=n_bins)  # per bin: sum(right) - sum(conf)
    return float(np.abs(gap).sum() / len(confidence))


def reliability_bins(y_true, proba, *, classes=None, n_bins=N_BINS):
    """The bins of :func:`expected_calibration_error`, JSON-ready: what a reliability diagram draws.

    Parameters
    ----------
    y_true, proba, classes, n_bins
        As for :func:`expected_calibration_error`.

    Returns
    -------
    dict
        ``ece``, ``n_bins``, and ``bins``: one entry per non-empty bin with its edges
        (``low``, ``high``), ``count``, mean ``confidence`` and ``accuracy``.

    Examples
    --------
    >>> r = reliability_bins(["a", "b", "b", "a"], [[0.9, 0.1], [0.9, 0.1], [0.4, 0.6], [0.6, 0.4]], n_bins=5)
    >>> r["ece"], [(b["count"], b["confidence"], b["accuracy"]) for b in r["bins"]]
    (0.4, [(2, 0.6, 1.0), (2, 0.9, 0.5)])
    """
    return _reliability(y_true, proba, classes, n_bins)


def _reliability(y_true, proba, classes, n_bins, strict=True):
    n_bins = _check_bins(n_bins)
    confidence, correct, _ = _top_label(y_true, proba, classes, strict)
    index = _bin_index(confidence, n_bins)
    bins = []
    for m in np.unique(index):
        inside = index == m
        bins.append(
            {
                "low": round(m / n_bins, 6),
                "high": round((m + 1) / n_bins, 6),
                "count": int(inside.sum()),
                "confidence": round(float(confidence[inside].mean()), 4),
                "accuracy": round(float(correct[inside].mean()), 4),
            }
        )
    return {"ece": round(_ece(confidence, correct, n_bins), 4), "n_bins": n_bins, "bins": bins}


def plot_reliability(y_true, proba=None, *, classes=None, n_bins=N_BINS, title=None, ax=None):
    """A reliability diagram of top-label confidence: accuracy against confidence, per bin.

    The curve is drawn by scikit-learn's :class:`~sklearn.calibration.CalibrationDisplay`
    on "the top label is right" against its confidence, which is how a binary display
    serves a multi-class model; bars under it show the share of samples in each bin. A
    model on the diagonal is calibrated; below it, over-confident.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or dict
        True labels; or a :func:`fersk.evaluation.evaluate` result (or
        :func:`reliability_bins`'s dict), whose stored bins are drawn (then give no
        ``proba``).
    proba : array-like of shape (n_samples, n_classes), optional
        Class probabilities, as ``predict_proba`` gives them.
    classes : array-like, optional
        The label of each column of ``proba``: the model's ``classes_`` (by default the
        sorted labels of ``y_true``).
    n_bins : int, default=15
        Number of equal-width confidence bins.
    title : str, optional
        By default the ECE.
    ax : matplotlib Axes, optional
        Where to draw; by default on a new ``Figure`` (no pyplot state).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> proba = [[0.9, 0.1], [0.9, 0.1], [0.4, 0.6], [0.6, 0.4]]
    >>> fig = plot_reliability(["a", "b", "b", "a"], proba, n_bins=5)
    >>> fig.axes[0].get_title(), fig.axes[0].get_xlabel()
    ('ECE 0.400 (5 bins)', 'confidence (top-label probability)')
    """
    from sklearn.calibration import CalibrationDisplay

    if isinstance(y_true, dict):
        if proba is not None:
            raise ValueError("give either labels and proba, or an evaluate() result alone")
        summary = y_true.get("reliability", y_true)
        if "bins" not in summary:
            raise ValueError(
                "this dict has no reliability bins: give evaluate()'s result (with proba available) "
                "or reliability_bins()'s"
            )
    else:
        if proba is None:
            raise ValueError("give proba (predict_proba's output) with the labels, or an evaluate() result alone")
        summary = reliability_bins(y_true, proba, classes=classes, n_bins=n_bins)
    bins = summary["bins"]
    if ax is None:
        fig = Figure(figsize=(4.6, 4.2), layout="constrained")
        ax = fig.add_subplot()
    total = sum(b["count"] for b in bins) or 1
    width = 1 / summary["n_bins"]
    ax.bar(
        [b["low"] for b in bins],
        [b["count"] / total for b in bins],
        width=width,
        align="edge",
        color="0.85",
        edgecolor="0.6",
        label="share of samples",
        zorder=0,
    )
    display = CalibrationDisplay(
        np.array([b["accuracy"] for b in bins]), np.array([b["confidence"] for b in bins]), None
    )
    display.plot(ax=ax, name="model")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence (top-label probability)", ylabel="accuracy")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(title or f"ECE {summary['ece']:.3f} ({summary['n_bins']} bins)")
    return ax.figure
