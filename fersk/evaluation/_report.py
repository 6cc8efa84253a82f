"""A report folder comparing fitted models: report.md, metrics.json and every plot.

Grad-CAM figures come from :mod:`fersk.explain`, imported when a network is reported.
"""

import os
import platform
import re
from datetime import date
from pathlib import Path

from .._atomic import save_figure, write_text
from ._calibration import plot_reliability
from ._metrics import write_json
from ._plots import (
    plot_class_metrics,
    plot_confusion_matrix,
    plot_model_comparison,
    plot_prediction_grid,
    plot_training_curves,
)
from ._tables import _trust_sections, comparison_table, per_class_table


def write_report(out, models, results, X_test, y_test, *, description="", n_train=None):
    """Write a comparison of fitted models to the folder ``out``, as ``fersk compare`` does.

    The folder gets ``report.md``, ``metrics.json``, a comparison chart, a confusion
    matrix and per-class metrics for each model, training curves and Grad-CAM grids for
    each network, and a grid of the best model's predictions.

    Parameters
    ----------
    out : str or Path
        The report folder; made if missing.
    models : dict of str to fitted estimator
        The models, by the name the report gives them.
    results : dict of str to dict
        Each model's :func:`fersk.evaluation.evaluate` on ``(X_test, y_test)``, by the
        same names; a ``fit_seconds`` entry, where present, goes into the table (rounded for
        reading there; ``metrics.json`` keeps it as given).
    X_test, y_test : array-like
        The test images and labels.
    description : str, optional
        What the data is, for the report's first line.
    n_train : int, optional
        How many images the models were trained on.

    Returns
    -------
    str
        The comparison table, in Markdown.

    Examples
    --------
    >>> import tempfile
    >>> from fersk import HOGSVMClassifier, make_faces
    >>> from fersk.evaluation import evaluate
    >>> X, y = make_faces(140, random_state=0)
    >>> model = HOGSVMClassifier(random_state=0).fit(X[:100], y[:100])
    >>> out = tempfile.mkdtemp()
    >>> table = write_report(out, {"HOG+SVM": model}, {"HOG+SVM": evaluate(model, X[100:], y[100:])},
    ...                      X[100:], y[100:], description="synthetic faces", n_train=100)
    >>> sorted(p.name for p in Path(out).iterdir())[:3]
    ['class-metrics-hog-svm.png', 'comparison.png', 'confusion-hog-svm.png']
    """
    if set(models) != set(results):
        raise ValueError(f"models and results must name the same models; got {sorted(models)} and {sorted(results)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sections = _write_plots(out, models, results, X_test, y_test)
    metrics = {"data": description, "n_train": n_train, "n_test": len(y_test), "models": results}
    write_json(metrics, out / "metrics.json")
    table = comparison_table(results)
    write_text(out / "report.md", _markdown(description, n_train, len(y_test), table, results, sections))
    return table


def write_evaluation(out, estimator, result, **info):
    """Write one model's evaluation to the folder ``out``, as ``fersk evaluate`` does.

    The folder gets ``metrics.json`` (``info`` and ``result``), ``report.md`` (the
    figures, calibration and consistency as tables), ``confusion.png``,
    ``class-metrics.png``, ``reliability.png`` (for a result with calibration) and, for a
    network with a training history, ``curves.png``.

    Parameters
    ----------
    out : str or Path
        The folder; made if missing.
    estimator : fitted estimator
    result : dict
        :func:`fersk.evaluation.evaluate`'s result for ``estimator``.
    **info
        What else ``metrics.json`` records (the model's name, the data).

    Returns
    -------
    Path
        The folder.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_json({**info, **result}, out / "metrics.json")
    _save(plot_confusion_matrix(result), out / "confusion.png")
    _save(plot_class_metrics(result), out / "class-metrics.png")
    figures = ["![confusion matrix](confusion.png) ![per-class metrics](class-metrics.png)"]
    if "reliability" in result:
        _save(plot_reliability(result), out / "reliability.png")
        figures.append("![reliability diagram](reliability.png)")
    if hasattr(estimator, "module_") and len(estimator.history):
        _save(plot_training_curves(estimator), out / "curves.png")
        figures.append("![training curves](curves.png)")
    name = str(info.get("model", type(estimator).__name__))
    lines = ["# fersk evaluate", ""]
    lines += [f"{key.capitalize()}: {value}." for key, value in info.items() if key not in ("model",)]
    lines += [f"Model: {name}.", "", comparison_table({name: result}), ""]
    lines += ["## Per class", "", per_class_table({name: result}, metrics=("precision", "recall", "f1")), ""]
    lines += _trust_sections({name: result}) + ["## Figures", "", "\n\n".join(figures), ""]
    write_text(out / "report.md", "\n".join(lines))
    return out


def _slug(name):
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _save(fig, path):
    save_figure(fig, path, dpi=110)


def _write_plots(out, models, results, X_test, y_test):
    """Save every plot; returns the report's per-model sections (Markdown)."""
    _save(plot_model_comparison(results), out / "comparison.png")
    sections = []
    for name, model in models.items():
        slug = _slug(name)
        lines = [f"### {name}", ""]
        _save(plot_confusion_matrix(results[name], title=name), out / f"confusion-{slug}.png")
        _save(plot_class_metrics(results[name], title=name), out / f"class-metrics-{slug}.png")
        figures = f"![confusion matrix](confusion-{slug}.png) ![per-class metrics](class-metrics-{slug}.png)"
        if "reliability" in results[name]:
            _save(plot_reliability(results[name], title=name), out / f"reliability-{slug}.png")
            figures += f" ![reliability diagram](reliability-{slug}.png)"
        lines.append(figures)
        if hasattr(model, "module_"):
            from ..explain import plot_class_heatmaps, plot_explanations

            _save(plot_training_curves(model, title=name), out / f"curves-{slug}.png")
            _save(plot_explanations(model, X_test, y_test), out / f"gradcam-{slug}.png")
            _save(plot_class_heatmaps(model, X_test, y_test, max_per_class=32), out / f"gradcam-classes-{slug}.png")
            lines += [
                "",
                f"![training curves](curves-{slug}.png)",
                "",
                "Grad-CAM on correct (top) and wrong (bottom) predictions, then the mean map per class:",
                "",
                f"![Grad-CAM](gradcam-{slug}.png)",
                "",
                f"![Grad-CAM per class](gradcam-classes-{slug}.png)",
            ]
        sections.append("\n".join(lines))
    best = max(results, key=lambda n: results[n]["macro_f1"])
    model = models[best]
    proba = model.predict_proba(X_test[:32])
    images = X_test[:32].reshape(-1, *model.image_shape_)
    grid = plot_prediction_grid(
        images, y_test[:32], model.classes_[proba.argmax(1)], proba.max(1), title=f"{best}: the first 32 test images"
    )
    _save(grid, out / "predictions.png")
    sections.append(f"### Predictions of the best model, {best}\n\n![predictions](predictions.png)")
    return sections


def _markdown(description, n_train, n_test, table, results, sections):
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    sizes = f"{n_train} training and {n_test} test images" if n_train is not None else f"{n_test} test images"
    return "\n".join(
        [
            "# fersk compare",
            "",
            f"Data: {description}; {sizes}.",
            f"Run on {date.today().isoformat()}, {machine}. Training time includes validation-based early stopping.",
            "",
            "## Comparison",
            "",
            table,
            "",
            "![model comparison](comparison.png)",
            "",
            "## Per-class F1",
            "",
            per_class_table(results),
            "",
            *_trust_sections(results),
            "## Each model",
            "",
            "\n\n".join(sections),
            "",
        ]
    )
