"""The Markdown tables of a report: models side by side, per class, calibration, consistency, across datasets."""

from ._plots import _duration


def comparison_table(results):
    """The models side by side, as a Markdown table: accuracy, balanced accuracy, macro-F1, training time.

    Parameters
    ----------
    results : dict of str to dict
        :func:`fersk.evaluation.evaluate`'s result per model name.

    Returns
    -------
    str

    Examples
    --------
    >>> results = {"m": {"accuracy": 0.5, "balanced_accuracy": 0.4, "macro_f1": 0.3}}
    >>> results["timed"] = {**results["m"], "fit_seconds": 0.0431}  # kept as measured, shown to two digits
    >>> print(comparison_table(results))
    | model | accuracy | balanced accuracy | macro-F1 | training time |
    |---|---:|---:|---:|---:|
    | m | 50.00% | 40.00% | 0.300 |  |
    | timed | 50.00% | 40.00% | 0.300 | 0.043 s |
    """
    rows = [
        "| model | accuracy | balanced accuracy | macro-F1 | training time |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        seconds = _duration(r["fit_seconds"]) if "fit_seconds" in r else ""
        rows.append(
            f"| {name} | {r['accuracy']:.2%} | {r['balanced_accuracy']:.2%} | {r['macro_f1']:.3f} | {seconds} |"
        )
    return "\n".join(rows)


def calibration_table(results):
    """Each model's calibration, as a Markdown table: ECE, mean confidence and accuracy.

    A calibrated model's mean confidence is its accuracy, and its ECE
    (:func:`~fersk.evaluation.expected_calibration_error`) is near 0.

    Parameters
    ----------
    results : dict of str to dict
        :func:`fersk.evaluation.evaluate`'s result per model name; models without
        probabilities (no ``reliability`` entry) are shown as such.

    Returns
    -------
    str

    Examples
    --------
    >>> bins = {"ece": 0.125, "n_bins": 15, "bins": [{"count": 4, "confidence": 0.875, "accuracy": 0.75}]}
    >>> print(calibration_table({"m": {"accuracy": 0.75, "ece": 0.125, "reliability": bins}}))
    | model | ECE | mean confidence | accuracy |
    |---|---:|---:|---:|
    | m | 0.125 | 87.50% | 75.00% |
    """
    rows = ["| model | ECE | mean confidence | accuracy |", "|---|---:|---:|---:|"]
    for name, r in results.items():
        if "reliability" not in r:
            rows.append(f"| {name} | no probabilities | | {r['accuracy']:.2%} |")
            continue
        bins = r["reliability"]["bins"]
        confidence = sum(b["count"] * b["confidence"] for b in bins) / sum(b["count"] for b in bins)
        rows.append(f"| {name} | {r['ece']:.3f} | {confidence:.2%} | {r['accuracy']:.2%} |")
    return "\n".join(rows)


def consistency_table(results):
    """How often each model keeps its label under each change, as a Markdown table.

    Parameters
    ----------
    results : dict of str to dict
        Per model name, :func:`fersk.evaluation.evaluate`'s result (with its
        ``consistency``) or :func:`fersk.evaluation.consistency`'s; all measured on the
        same changes.

    Returns
    -------
    str
        One row per change: the share of images that keep their label and, where labels
        were given, the accuracy on the changed images (the header gives it unchanged).

    Examples
    --------
    >>> result = {"n_samples": 100, "accuracy": 0.68, "changes": {
    ...     "mirror": {"description": "mirrored", "agreement": 0.873, "accuracy": 0.675}}}
    >>> print(consistency_table({"fer2013-muxspace": result}))
    | change | same label | accuracy, from 68.00% |
    |---|---:|---:|
    | mirrored | 87.30% | 67.50% |
    """
    if not results:
        raise ValueError("results is empty: give evaluate()'s or consistency()'s result per model name")
    measured = {name: r.get("consistency", r) for name, r in results.items()}
    missing = [name for name, r in measured.items() if "changes" not in r]
    if missing:
        raise ValueError(f"no consistency measured for {missing}: evaluate them with consistency=True")
    names = list(measured)
    heads = []
    for name in names:
        prefix = "" if len(names) == 1 else f"{name} "
        heads.append(f"{prefix}same label")
        if "accuracy" in measured[name]:
            heads.append(f"{prefix}accuracy, from {measured[name]['accuracy']:.2%}")
    rows = ["| change | " + " | ".join(heads) + " |", "|---|" + "---:|" * len(heads)]
    for change, first in measured[names[0]]["changes"].items():
        cells = []
        for name in names:
            row = measured[name]["changes"][change]
            cells.append(f"{row['agreement']:.2%}")
            if "accuracy" in measured[name]:
                cells.append(f"{row['accuracy']:.2%}")
        rows.append(f"| {first['description']} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _trust_sections(results):
    """The report's Markdown on calibration and consistency, for the results that carry them."""
    lines = []
    if any("reliability" in r for r in results.values()):
        lines += [
            "## Calibration",
            "",
            "Expected calibration error (top-label confidence, 15 equal-width bins; 0 is calibrated):",
            "",
            calibration_table(results),
            "",
        ]
    measured = {name: r for name, r in results.items() if "consistency" in r}
    if measured:
        lines += [
            "## Consistency",
            "",
            "The share of images that keep their label when changed in a way that should not matter, "
            "and the accuracy on the changed images:",
            "",
            consistency_table(measured),
            "",
        ]
    return lines


def per_class_table(results, *, metrics=("f1",)):
    """Per-class figures of one or more models, as a Markdown table: one row per class.

    Parameters
    ----------
    results : dict of str to dict
        :func:`fersk.evaluation.evaluate`'s result per model name (the same classes).
    metrics : str or tuple of {"precision", "recall", "f1"}, default=("f1",)
        The columns of each model, after the class's support.

    Returns
    -------
    str

    Examples
    --------
    >>> result = {"per_class": {"happy": {"precision": 0.9, "recall": 0.8, "f1": 0.847, "support": 10}}}
    >>> print(per_class_table({"m": result}, metrics=("precision", "f1")))
    | class | support | precision | F1 |
    |---|---:|---:|---:|
    | happy | 10 | 0.900 | 0.847 |
    """
    metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    if not metrics or set(metrics) - {"precision", "recall", "f1"}:
        raise ValueError(f"metrics must be some of precision, recall, f1; got {metrics!r}")
    if not results:
        raise ValueError("results is empty: give evaluate()'s result per model name")
    names = list(results)
    label = {"precision": "precision", "recall": "recall", "f1": "F1"}
    heads = [label[m] if len(names) == 1 else f"{n} {label[m]}" for n in names for m in metrics]
    rows = ["| class | support | " + " | ".join(heads) + " |", "|---|---:|" + "---:|" * len(heads)]
    for c, first in results[names[0]]["per_class"].items():
        cells = " | ".join(f"{results[n]['per_class'][c][m]:.3f}" for n in names for m in metrics)
        rows.append(f"| {c} | {first['support']} | {cells} |")
    return "\n".join(rows)


def cross_dataset_table(result, *, metrics=("accuracy", "macro_f1")):
    """A :func:`cross_dataset_evaluation` result as a Markdown table: models as rows, datasets as columns.

    Each cell gives the figures on the classes the model and dataset share; a footnote
    names, per pair, the images left out and the classes not scored.

    Parameters
    ----------
    result : dict
        From :func:`fersk.evaluation.cross_dataset_evaluation`.
    metrics : tuple of str, default=("accuracy", "macro_f1")
        Which figures each cell shows; accuracies are shown as percentages.

    Returns
    -------
    str

    Examples
    --------
    >>> cell = {"accuracy": 0.5, "macro_f1": 0.25, "excluded": {"contempt": 3}, "not_in_dataset": []}
    >>> print(cross_dataset_table({"models": ["m"], "datasets": ["d"], "scores": {"m": {"d": cell}}}))
    | model | d |
    |---|---:|
    | m | 50.00% / 0.250 |
    <BLANKLINE>
    m on d: left out 3 images labelled contempt (the model does not know it).
    """
    rows = ["| model | " + " | ".join(result["datasets"]) + " |", "|---|" + "---:|" * len(result["datasets"])]
    notes = []
    for model in result["models"]:
        cells = []
        for dataset in result["datasets"]:
            score = result["scores"][model][dataset]
            cells.append(" / ".join(_figure(m, score[m]) for m in metrics))
            for label, count in score["excluded"].items():
                notes.append(
                    f"{model} on {dataset}: left out {count} images labelled {label} (the model does not know it)."
                )
            if score["not_in_dataset"]:
                missing = ", ".join(score["not_in_dataset"])
                notes.append(f"{model} on {dataset}: never predicts {missing} (the dataset does not have it).")
        rows.append(f"| {model} | " + " | ".join(cells) + " |")
    return "\n".join(rows + ([""] + notes if notes else []))


def _figure(metric, value):
    return f"{value:.2%}" if "accuracy" in metric else f"{value:.3f}"
