"""Report plots, drawn on matplotlib ``Figure`` objects (no pyplot state, any backend)."""

import numpy as np
from matplotlib.figure import Figure

CORRECT, WRONG = "#1a7f37", "#cf222e"


def _duration(seconds):
    """A duration for people to read: two significant digits under 10 s ("0.043 s"), whole seconds above.

    Results keep the seconds as measured; only what is shown is rounded.

    >>> _duration(0.0431), _duration(2.54), _duration(312.7)
    ('0.043 s', '2.5 s', '313 s')
    """
    return f"{seconds:.2g} s" if seconds < 10 else f"{seconds:.0f} s"


def plot_confusion_matrix(metrics, *, normalize=True, title=None):
    """The confusion matrix of an :func:`evaluate` result, as a heatmap with counts.

    Drawn by scikit-learn's :class:`~sklearn.metrics.ConfusionMatrixDisplay`.

    Parameters
    ----------
    metrics : dict
        From :func:`fersk.evaluation.evaluate`.
    normalize : bool, default=True
        Colour and label cells by the fraction of each true class; counts are shown too.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from fersk.evaluation import classification_metrics
    >>> fig = plot_confusion_matrix(classification_metrics(["a", "b"], ["a", "a"]))
    >>> fig.axes[0].get_xlabel(), fig.axes[0].texts[0].get_text().split()
    ('predicted', ['1.00', '(1)'])
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    classes = metrics["classes"]
    counts = np.asarray(metrics["confusion_matrix"])
    values = np.asarray(metrics["confusion_matrix_normalized"]) if normalize else counts
    size = 1.6 + 0.75 * len(classes)
    fig = Figure(figsize=(size + 1.2, size))
    ax = fig.add_subplot()
    display = ConfusionMatrixDisplay(values, display_labels=classes).plot(
        ax=ax,
        cmap="Blues",
        xticks_rotation=45,
        values_format=".2f" if normalize else "d",
        im_kw={"vmin": 0, "vmax": 1} if normalize else None,
        text_kw={"fontsize": 8},
    )
    if normalize:  # the fraction of the true class, and the count under it
        for (i, j), count in np.ndenumerate(counts):
            display.text_[i, j].set_text(f"{values[i, j]:.2f}\n({count})")
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or f"accuracy {metrics['accuracy']:.1%}, macro-F1 {metrics['macro_f1']:.3f}")
    fig.tight_layout()
    return fig


def plot_cross_dataset(result, *, metric="accuracy", title=None):
    """A :func:`cross_dataset_evaluation` result as a heatmap: models as rows, datasets as columns.

    Parameters
    ----------
    result : dict
        From :func:`fersk.evaluation.cross_dataset_evaluation`.
    metric : str, default="accuracy"
        The figure to draw: ``"accuracy"``, ``"macro_f1"`` or ``"balanced_accuracy"``.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> cell = {"accuracy": 0.5, "macro_f1": 0.25}
    >>> fig = plot_cross_dataset({"models": ["m"], "datasets": ["d"], "scores": {"m": {"d": cell}}})
    >>> [t.get_text() for t in fig.axes[0].texts]
    ['50.0%']
    """
    models, datasets = result["models"], result["datasets"]
    values = np.array([[result["scores"][m][d][metric] for d in datasets] for m in models], dtype=float)
    names = max(len(str(m)) for m in models)  # long model names (file paths) widen the figure, not crowd it
    fig = Figure(figsize=(2.2 + 1.6 * len(datasets) + 0.07 * names, 1.4 + 0.6 * len(models)), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(values, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    for (i, j), value in np.ndenumerate(values):
        text = f"{value:.1%}" if "accuracy" in metric else f"{value:.3f}"
        ax.text(j, i, text, ha="center", va="center", color="black" if value > 0.6 else "white")
    ax.set_xticks(range(len(datasets)), datasets)
    ax.set_yticks(range(len(models)), models)
    ax.set_xlabel("dataset (classes shared with the model)")
    ax.set_title(title or f"{metric.replace('_', '-')} across datasets")
    return fig


def plot_class_metrics(metrics, *, title=None):
    """Precision, recall and F1 per class, as grouped bars with the support on the axis.

    Parameters
    ----------
    metrics : dict
        From :func:`fersk.evaluation.evaluate`.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    classes = metrics["classes"]
    per_class = metrics["per_class"]
    x = np.arange(len(classes))
    fig = Figure(figsize=(1.5 + 0.9 * len(classes), 3.6))
    ax = fig.add_subplot()
    for offset, key in zip((-0.27, 0, 0.27), ("precision", "recall", "f1")):
        ax.bar(x + offset, [per_class[str(c)][key] for c in classes], width=0.27, label=key)
    ax.set_xticks(x, [f"{c}\n(n={per_class[str(c)]['support']})" for c in classes], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.legend(ncols=3, fontsize=8, loc="upper left")
    ax.set_title(title or "per-class metrics")
    fig.tight_layout()
    return fig


def plot_training_curves(history, *, title=None):
    """Loss and accuracy per epoch, train and validation, from a skorch history.

    Epochs where the learning rate changed (ReduceLROnPlateau) or where fine-tuning
    entered its second phase are marked with vertical lines.

    Parameters
    ----------
    history : skorch History or fitted neural estimator
        ``estimator.history``, or the estimator itself.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    history = getattr(history, "history", history)
    if history is None or not len(history):
        raise ValueError("the history is empty: fit the estimator first")
    epochs = np.arange(1, len(history) + 1)
    fig = Figure(figsize=(9, 3.4))
    loss_ax, acc_ax = fig.subplots(1, 2)
    for ax, keys, label in (
        (loss_ax, ("train_loss", "valid_loss"), "loss"),
        (acc_ax, ("train_acc", "valid_acc"), "accuracy"),
    ):
        for key, style in zip(keys, ("-", "--")):
            values = [row.get(key) for row in history]
            if any(v is not None for v in values):
                ax.plot(epochs, [np.nan if v is None else v for v in values], style, marker=".", label=key)
        _mark_events(ax, history)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
    fig.suptitle(title or "training curves")
    fig.tight_layout()
    return fig


def _mark_events(ax, history):
    lrs = [row.get("event_lr") for row in history]
    phases = [row.get("phase") for row in history]
    labelled = set()
    for i in range(1, len(history)):
        for name, values, colour in (("lr change", lrs, "grey"), ("fine-tuning starts", phases, "purple")):
            if values[i] is not None and values[i - 1] is not None and values[i] != values[i - 1]:
                ax.axvline(i + 0.5, color=colour, linestyle=":", label=None if name in labelled else name)
                labelled.add(name)


def plot_model_comparison(results, *, metrics=("accuracy", "macro_f1"), title=None):
    """Bars of each model's figures, with training time when the results carry it.

    Parameters
    ----------
    results : dict
        Model name -> an :func:`evaluate` result, optionally with ``fit_seconds``.
    metrics : tuple of str, default=("accuracy", "macro_f1")
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = list(results)
    x = np.arange(len(names))
    width = 0.8 / len(metrics)
    fig = Figure(figsize=(2.5 + 1.4 * len(names), 3.8))
    ax = fig.add_subplot()
    for k, metric in enumerate(metrics):
        values = [results[n][metric] for n in names]
        bars = ax.bar(x + (k - (len(metrics) - 1) / 2) * width, values, width=width, label=metric)
        ax.bar_label(bars, fmt="%.3f", fontsize=7)
    labels = [
        f"{n}\n{_duration(results[n]['fit_seconds'])} to fit" if "fit_seconds" in results[n] else n for n in names
    ]
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_ylim(0, 1.1)
    ax.legend(fontsize=8, loc="upper left", ncols=len(metrics))
    ax.set_title(title or "model comparison")
    fig.tight_layout()
    return fig


def plot_prediction_grid(images, y_true, y_pred, confidence=None, *, n_cols=8, title=None):
    """Images with their true label, predicted label and confidence; mistakes framed red.

    Parameters
    ----------
    images : array of shape (n, h, w) or (n, h, w, c)
        Pixel values 0-255.
    y_true, y_pred : array-like of shape (n,)
    confidence : array-like of shape (n,), optional
        The probability of the predicted class.
    n_cols : int, default=8
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    images = np.asarray(images)
    n = len(images)
    if n == 0:
        raise ValueError("no images to show")
    n_cols = min(n_cols, n)
    n_rows = -(-n // n_cols)
    fig = Figure(figsize=(1.35 * n_cols, 1.6 * n_rows))
    axes = np.atleast_1d(fig.subplots(n_rows, n_cols, squeeze=False)).ravel()
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i >= n:
            continue
        image = images[i].squeeze()
        ax.imshow(image.astype(np.uint8), cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255)
        right = y_true[i] == y_pred[i]
        text = f"true {y_true[i]}\npred {y_pred[i]}" + ("" if confidence is None else f" {confidence[i]:.0%}")
        ax.set_title(text, fontsize=7, color=CORRECT if right else WRONG)
        if not right:
            ax.set_axis_on()
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_edgecolor(WRONG)
                spine.set_linewidth(2.5)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
