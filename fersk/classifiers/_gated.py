"""One classifier from networks trained on different kinds of faces: :func:`gate_experts`."""

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from ..backbones import GatedExperts
from ._cnn import CNNClassifier
from ._transfer import TransferClassifier


def gate_experts(experts, images, *, C=1.0, tta=None):
    """One classifier from networks trained on different kinds of faces, mixed per image by a gate.

    Datasets disagree on labels (faces FER2013 calls sad, the muxspace photos call
    neutral), so one network trained on both trades one for the other. Here each
    expert keeps what it learned on its own data, and a gate learns which expert's
    kind of face each image is: a logistic regression on the first expert's features
    (:meth:`~fersk.TransferClassifier.transform`), fit to tell ``images[k]`` as
    expert ``k``'s, class-balanced. The result predicts the gate-weighted mean of the
    experts' probabilities (:class:`fersk.backbones.GatedExperts`). It is an ordinary
    fitted :class:`CNNClassifier`: it saves with :func:`fersk.save`, exports with
    :func:`fersk.export_onnx`, is explained with Grad-CAM, and further ``fit`` calls
    (``warm_start=True``) train experts and gate together, with :class:`CNNClassifier`'s
    settings (``lr=1e-3`` on every layer, 30 epochs): set a low ``lr`` (the experts'
    fine-tuning rate, such as 1e-4) and the epochs before, or they undo what the
    experts learned.

    Parameters
    ----------
    experts : sequence of fitted TransferClassifier
        Two or more, with the same classes and image shape; a registered backbone
        each, with the same kind of head (their ``input_size`` and ``module__hidden``
        may differ). An expert's prior shift (``prior_shift_``) is folded into the
        bias of its head, so that the mixture mixes the probabilities the experts'
        ``predict_proba`` gives (without their ``tta``).
    images : sequence of array-like
        For each expert, images like those it was trained on (its training images, or
        a sample of them), as the estimators take them.
    C : float, default=1.0
        Inverse regularisation strength of the gate's logistic regression.
    tta : {None, "flip", "crops"}, default=None
        Test-time augmentation of the returned classifier. Each view costs one pass
        through every expert.

    Returns
    -------
    CNNClassifier
        Fitted, with ``module=GatedExperts``; ``module_.gate_weights(x)`` says how much
        each image goes to each expert. Its ``class_prior_`` (for ``prior_shift``) is
        the mean of the experts', uniform when one of them lacks it.

    Examples
    --------
    >>> from fersk import TransferClassifier, make_faces
    >>> X, y = make_faces(140, image_size=48, random_state=0)
    >>> settings = dict(weights=None, max_epochs=1, head_epochs=0, random_state=0)
    >>> posed = TransferClassifier("fernet", **settings).fit(X[:70], y[:70])
    >>> photos = TransferClassifier("fernet", **settings).fit(255 - X[70:], y[70:])
    >>> model = gate_experts([posed, photos], [X[:70], 255 - X[70:]])
    >>> model.predict_proba(X[:3]).shape
    (3, 7)
    """
    experts, images = list(experts), list(images)
    if len(experts) < 2 or len(experts) != len(images):
        raise ValueError(
            f"gate_experts needs two or more experts and, for each, images like its training images; "
            f"got {len(experts)} experts and {len(images)} sets of images"
        )
    for expert in experts:
        if not isinstance(expert, TransferClassifier):
            raise ValueError(f"each expert must be a TransferClassifier, got {type(expert).__name__}")
        check_is_fitted(expert)
    first = experts[0]
    for expert in experts[1:]:
        if not np.array_equal(expert.classes_, first.classes_) or expert.image_shape_ != first.image_shape_:
            raise ValueError(
                "the experts must share classes and image shape: "
                f"{list(first.classes_)} {first.image_shape_} against {list(expert.classes_)} {expert.image_shape_}"
            )
        if expert.head != first.head:
            raise ValueError(f"the experts must have the same head, got {first.head!r} and {expert.head!r}")

    features = [_features(first, X) for X in images]
    which = np.concatenate([np.full(len(f), k) for k, f in enumerate(features)])
    gate = make_pipeline(StandardScaler(), LogisticRegression(C=C, class_weight="balanced", max_iter=2000))
    gate.fit(np.concatenate(features), which)

    model = CNNClassifier(
        module=GatedExperts,
        module__backbones=tuple(expert.backbone for expert in experts),
        module__head=first.head,
        module__dropout=next(m.p for m in first.module_.head if isinstance(m, torch.nn.Dropout)),
        module__hidden=_one_or_each([_hidden(expert.module_) for expert in experts]),
        module__input_size=_one_or_each([expert.module_.input_size for expert in experts]),
        image_shape=first.image_shape_,
        tta=tta,
        device=first.device,
    )
    model.classes_ = first.classes_
    model.image_shape_ = first.image_shape_
    model.n_features_in_ = first.n_features_in_
    model.class_weight_ = np.ones(len(first.classes_))
    priors = [getattr(expert, "class_prior_", None) for expert in experts]  # files from before it lack it
    n_classes = len(first.classes_)
    model.class_prior_ = (
        np.full(n_classes, 1 / n_classes) if any(p is None for p in priors) else np.mean(priors, axis=0)
    )
    model.prior_shift_ = 0.0
    model.initialize()
    for target, expert in zip(model.module_.experts, experts):
        target.load_state_dict(expert.module_.state_dict())
        shift = getattr(expert, "prior_shift_", 0.0)
        if shift:  # softmax(logits - shift * log(prior)) is predict_proba's shifted probabilities
            last = [m for m in target.head if isinstance(m, torch.nn.Linear)][-1]
            with torch.no_grad():
                last.bias -= torch.as_tensor(shift * np.log(expert.class_prior_), dtype=last.bias.dtype).to(
                    last.bias.device
                )
    _set_linear(model.module_.gate, gate)
    model.module_.eval()
    return model


def _hidden(net):
    """The width of an MLP head's hidden layer (the default for a linear head, which has none)."""
    linears = [m for m in net.head if isinstance(m, torch.nn.Linear)]
    return linears[0].out_features if len(linears) > 1 else 256


def _one_or_each(values):
    """One value when all experts share it, else a tuple of one per expert (as GatedExperts takes them)."""
    return values[0] if all(v == values[0] for v in values) else tuple(values)


def _features(expert, X):
    tta = expert.tta
    try:
        return expert.set_params(tta=None).transform(X)
    finally:
        expert.set_params(tta=tta)


def _set_linear(layer, gate):
    """The scaler and logistic regression of ``gate`` as one linear layer with a logit per expert."""
    scaler, logistic = gate[0], gate[-1]
    weight, bias = logistic.coef_ / scaler.scale_, logistic.intercept_ - logistic.coef_ @ (scaler.mean_ / scaler.scale_)
    if len(weight) == 1:  # a binary logistic regression gives the second expert's logit against the first's
        weight, bias = np.vstack([np.zeros_like(weight), weight]), np.concatenate([[0.0], bias])
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(weight, dtype=layer.weight.dtype))
        layer.bias.copy_(torch.as_tensor(bias, dtype=layer.bias.dtype))
