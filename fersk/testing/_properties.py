"""Ready properties of a fitted model: mirror consistency, batch-size independence, order independence.

Each is a plain function: call it inside a hypothesis test, or on your own data without one. Each
raises ``AssertionError`` saying what failed and on how many images.
"""

from numbers import Integral, Real

import numpy as np

from ..preprocessing import infer_image_shape, to_images


def _method(estimator):
    """The answers compared: probabilities where the estimator gives them, else labels, else features."""
    for method in ("predict_proba", "predict", "transform"):
        if hasattr(estimator, method):
            return method
    raise TypeError(f"{type(estimator).__name__} has none of predict_proba, predict or transform")


def _show(value):
    """A label as its repr, numpy scalars as the Python values they hold (``'happy'``, not ``np.str_('happy')``)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _rows(X):
    X = np.asarray(X)
    if X.ndim < 2 or len(X) == 0:
        raise ValueError(f"X must hold at least one image, as rows or an (n, h, w[, c]) array; got shape {X.shape}")
    return X


def _changed(before, after, rtol, atol):
    """One bool per image: whether its answer changed (probabilities beyond the tolerance, labels at all)."""
    before, after = np.asarray(before), np.asarray(after)
    if before.shape != after.shape:
        raise AssertionError(f"the answers changed shape, from {before.shape} to {after.shape}")
    if np.issubdtype(before.dtype, np.floating) or np.issubdtype(after.dtype, np.floating):
        return ~np.isclose(after, before, rtol=rtol, atol=atol).reshape(len(before), -1).all(axis=1)
    return (after != before).reshape(len(before), -1).any(axis=1)


def _check(method, before, after, when, rtol, atol, index=None):
    """Raise, saying on how many images (numbered as in X: ``index`` maps a position to its row) answers changed."""
    changed = _changed(before, after, rtol, atol)
    if not changed.any():
        return
    index = np.arange(len(changed)) if index is None else np.asarray(index)
    which = np.flatnonzero(changed)
    listed = ", ".join(map(str, index[which[:10]])) + (", ..." if len(which) > 10 else "")
    if not np.issubdtype(np.asarray(before).dtype, np.floating):
        first = which[0]
        detail = f"image {index[first]}: {_show(before[first])} became {_show(after[first])}"
    else:
        gap = np.abs(np.asarray(after, float) - np.asarray(before, float)).reshape(len(before), -1).max(axis=1)
        worst = int(np.argmax(gap))
        detail = f"largest difference {gap[worst]:.3g} on image {index[worst]}, beyond rtol={rtol:g}, atol={atol:g}"
    raise AssertionError(
        f"{method} changed on {len(which)} of {len(changed)} images {when} (images {listed}); {detail}"
    )


def _fitted_image_shape(estimator):
    """The ``image_shape_`` the first step that takes the images learned (through Pipelines and searches)."""
    for _ in range(20):  # a guard against estimators that nest without end
        if hasattr(estimator, "steps"):
            estimator = estimator.steps[0][1]
        elif hasattr(estimator, "best_estimator_"):
            estimator = estimator.best_estimator_
        else:
            break
    return getattr(estimator, "image_shape_", None)


def _mirror(estimator, X, image_shape):
    if X.ndim in (3, 4):  # images, (n, h, w) or (n, h, w, c): mirror the width axis
        return X[:, :, ::-1]
    if X.ndim != 2:
        raise ValueError(f"X must be rows of pixels or (n, h, w[, c]) images; got shape {X.shape}")
    shape = infer_image_shape(image_shape or _fitted_image_shape(estimator), X.shape[1])
    return np.ascontiguousarray(to_images(X, shape)[:, :, ::-1]).reshape(X.shape)


def assert_mirror_consistent(estimator, X, *, min_agreement=1.0, image_shape=None):
    """Check that a model gives a face and its left-right mirror the same label, often enough.

    Selfie cameras mirror every frame; an expression does not change with it.

    Parameters
    ----------
    estimator : fitted classifier or Pipeline
        Anything with ``predict`` that takes images in fersk's data convention.
    X : array-like
        Images: rows of pixels ``(n, h * w * c)``, or ``(n, h, w[, c])``.
    min_agreement : float in [0, 1], default=1.0
        The share of images that must keep their label. 1.0: every one.
    image_shape : tuple, optional
        ``(h, w)`` or ``(h, w, c)`` of the rows of a 2-D ``X``; default the fitted
        ``image_shape_`` of the estimator (of a Pipeline's first step), else square grayscale.

    Returns
    -------
    float
        The agreement: the share of images whose label the mirror kept.

    Raises
    ------
    AssertionError
        If the agreement is below ``min_agreement``, saying on how many images the label changed.

    Examples
    --------
    >>> from fersk import CNNClassifier, make_faces
    >>> X, y = make_faces(40, image_size=16, random_state=0)
    >>> model = CNNClassifier(max_epochs=1, tta="flip", random_state=0).fit(X, y)
    >>> assert_mirror_consistent(model, X[:10])  # a flip view: the mirror is the same two views
    1.0
    """
    if not isinstance(min_agreement, Real) or not 0 <= min_agreement <= 1:
        raise ValueError(f"min_agreement must be a share in [0, 1], got {min_agreement!r}")
    X = _rows(X)
    labels = np.asarray(estimator.predict(X))
    mirrored = np.asarray(estimator.predict(_mirror(estimator, X, image_shape)))
    changed = (labels != mirrored).reshape(len(X), -1).any(axis=1)
    agreement = int((~changed).sum()) / len(X)  # kept / n, as the user computes a threshold (7 / 10, not 1 - 0.3)
    if agreement < min_agreement:
        first = int(np.flatnonzero(changed)[0])
        raise AssertionError(
            f"the label changed on {changed.sum()} of {len(X)} images when mirrored: agreement {agreement:.1%}, "
            f"below the {min_agreement:.1%} asked for; image {first}: "
            f"{_show(labels[first])} became {_show(mirrored[first])}"
        )
    return float(agreement)


def _predicting(estimator):
    """The estimator that predicts: a search's ``best_estimator_`` (its own parameters are the unfitted template's)."""
    while hasattr(estimator, "best_estimator_"):
        estimator = estimator.best_estimator_
    return estimator


def _batch_params(estimator):
    """Every parameter named ``batch_size`` or ``..__batch_size`` that holds a whole number, with its value."""
    return {
        name: value
        for name, value in estimator.get_params(deep=True).items()
        if (name == "batch_size" or name.endswith("__batch_size"))
        and isinstance(value, Integral)
        and not isinstance(value, bool)
    }


def assert_batch_size_independent(estimator, X, *, batch_sizes=(1, 2, 5), rtol=1e-5, atol=1e-6):
    """Check that an image's answer does not depend on the batch it comes in, nor on its batch mates.

    Each image predicted alone is the reference. X predicted in one call must give the same
    answers, and so must X with every batch-size parameter of the estimator set to each of
    ``batch_sizes``: each parameter named ``batch_size`` or ending in ``__batch_size``, as a
    Pipeline's step has it (``cnnclassifier__batch_size``; a search's ``best_estimator_``'s). An estimator without one
    (``HOGSVMClassifier``) is given X in calls of that many images instead. Parameters are set
    back afterwards, even on failure.

    Parameters
    ----------
    estimator : fitted classifier, transformer or Pipeline
    X : array-like
        Images: rows of pixels ``(n, h * w * c)``, or ``(n, h, w[, c])``.
    batch_sizes : sequence of int, default=(1, 2, 5)
        The batch sizes tried.
    rtol, atol : float, default=1e-5, 1e-6
        Tolerance on the answers compared: ``predict_proba`` where the estimator has it, else
        ``predict`` (labels must be equal), else ``transform`` (a transformer's features).

    Raises
    ------
    AssertionError
        Saying which batch size changed the answers, and on how many images.

    Examples
    --------
    >>> from fersk import CNNClassifier, make_faces
    >>> X, y = make_faces(40, image_size=16, random_state=0)
    >>> model = CNNClassifier(max_epochs=1, random_state=0).fit(X, y)
    >>> assert_batch_size_independent(model, X[:6], batch_sizes=[1, 4])
    """
    sizes = list(batch_sizes)
    if not sizes or not all(isinstance(b, Integral) and not isinstance(b, bool) and b >= 1 for b in sizes):
        raise ValueError(f"batch_sizes must be whole numbers >= 1, got {batch_sizes!r}")
    X = _rows(X)
    method = _method(estimator)
    answer = getattr(estimator, method)
    alone = np.concatenate([np.asarray(answer(X[i : i + 1])) for i in range(len(X))])
    _check(method, alone, answer(X), "predicted together rather than each alone", rtol, atol)
    predicting = _predicting(estimator)
    params = _batch_params(predicting)
    for b in sizes:
        if params:
            predicting.set_params(**dict.fromkeys(params, b))
            try:
                together = answer(X)
            finally:
                predicting.set_params(**params)
            when = f"predicted with {', '.join(params)}={b} rather than each alone"
        else:
            together = np.concatenate([np.asarray(answer(X[i : i + b])) for i in range(0, len(X), b)])
            when = f"predicted in calls of {b} rather than each alone"
        _check(method, alone, together, when, rtol, atol)


def assert_order_independent(estimator, X, *, order=None, random_state=0, rtol=1e-5, atol=1e-6):
    """Check that permuting the rows of X permutes the answers, and changes nothing else.

    Parameters
    ----------
    estimator : fitted classifier, transformer or Pipeline
    X : array-like
        Images: rows of pixels ``(n, h * w * c)``, or ``(n, h, w[, c])``.
    order : sequence of int, optional
        The permutation of ``range(len(X))`` tried (hypothesis's ``st.permutations`` draws
        one that shrinks); default a random one from ``random_state``.
    random_state : int or None, default=0
        Seed of the default permutation.
    rtol, atol : float, default=1e-5, 1e-6
        Tolerance on the answers compared: ``predict_proba`` where the estimator has it, else
        ``predict`` (labels must be equal), else ``transform`` (a transformer's features).

    Raises
    ------
    AssertionError
        Saying on how many images the answer changed.

    Examples
    --------
    >>> from fersk import HOGSVMClassifier, make_faces
    >>> X, y = make_faces(40, image_size=24, random_state=0)
    >>> model = HOGSVMClassifier(pixels_per_cell=(6, 6)).fit(X, y)
    >>> assert_order_independent(model, X[:8], order=[7, 6, 5, 4, 3, 2, 1, 0])
    """
    X = _rows(X)
    n = len(X)
    if order is None:
        order = np.random.default_rng(random_state).permutation(n)
        if n > 1 and (order == np.arange(n)).all():
            order = np.roll(order, 1)
    order = np.asarray(order)
    if order.shape != (n,) or not np.issubdtype(order.dtype, np.integer) or set(order.tolist()) != set(range(n)):
        raise ValueError(f"order must be a permutation of range({n}), got {order.tolist()!r}")
    method = _method(estimator)
    answer = getattr(estimator, method)
    whole = np.asarray(answer(X))
    _check(method, whole[order], answer(X[order]), "when the rows were permuted", rtol, atol, index=order)
