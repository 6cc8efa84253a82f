"""Attribution maps through captum: Grad-CAM, occlusion and integrated gradients."""

import numpy as np
import torch
from torch import nn

METHODS = ("gradcam", "occlusion", "integrated_gradients")


def default_target_layer(module):
    """The layer Grad-CAM explains by default: a backbone's ``cam_layer``, else the last convolution.

    Parameters
    ----------
    module : torch.nn.Module

    Returns
    -------
    torch.nn.Module

    Examples
    --------
    >>> from fersk.backbones import FERNet
    >>> default_target_layer(FERNet(n_classes=7, channels=(8, 16)))
    Conv2d(16, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)
    """
    layer = getattr(module, "cam_layer", None)
    if layer is not None:
        return layer
    convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError(f"{type(module).__name__} has no Conv2d layer for Grad-CAM; pass layer=")
    return convs[-1]


def classifier_and_rows(estimator, X):
    """The classifier that an explanation is of, and ``X`` as it reaches it.

    A Pipeline (scikit-learn's or imbalanced-learn's, as :func:`fersk.load` returns a saved
    one) is explained through its last step, on ``X`` passed through the steps before it as
    ``predict`` passes it (a resampler does nothing then; a :class:`fersk.FaceCropper` cuts
    out each photo's face, so the maps are of the faces). Anything else is its own classifier.

    Parameters
    ----------
    estimator : fitted classifier or Pipeline
    X : array-like or list of images

    Returns
    -------
    classifier : estimator
    rows : array-like

    Examples
    --------
    >>> from imblearn.over_sampling import RandomOverSampler
    >>> from imblearn.pipeline import make_pipeline
    >>> from fersk import HOGSVMClassifier, make_faces
    >>> X, y = make_faces(70, image_size=24, random_state=0)
    >>> pipe = make_pipeline(RandomOverSampler(random_state=0), HOGSVMClassifier(pixels_per_cell=(6, 6))).fit(X, y)
    >>> classifier, rows = classifier_and_rows(pipe, X[:2])
    >>> type(classifier).__name__, rows.shape
    ('HOGSVMClassifier', (2, 576))
    """
    steps = getattr(estimator, "steps", None)
    if not steps:
        return estimator, X
    classifier = steps[-1][1]
    before = [step for _, step in steps[:-1] if step not in (None, "passthrough") and not hasattr(step, "fit_resample")]
    for step in before:
        X = step.transform(X)
    return classifier, X


def explain(estimator, X, *, method="gradcam", target=None, layer=None, batch_size=32):
    """Attribution maps: where in each face the estimator looks for a class.

    Parameters
    ----------
    estimator : fitted fersk estimator, or Pipeline ending in one
        ``CNNClassifier`` or ``TransferClassifier`` for every method; any classifier with
        ``predict_proba`` (HOG+SVM included) for ``"occlusion"``. A Pipeline is explained
        through its last step (:func:`classifier_and_rows`).
    X : array-like
        Images, as the estimator takes them (pixel values 0-255).
    method : {"gradcam", "occlusion", "integrated_gradients"}, default="gradcam"
        - ``"gradcam"``: captum's ``LayerGradCam`` on ``layer``, upsampled to the image.
        - ``"occlusion"``: the drop in the class probability when a patch is greyed out.
        - ``"integrated_gradients"``: gradients integrated from a black image; pixels
          equal to the black baseline get exactly zero.
    target : label, array-like of labels, or None
        The class to explain per image: None explains the predicted class.
    layer : torch.nn.Module, optional
        For Grad-CAM; default :func:`default_target_layer` of ``estimator.module_``.
    batch_size : int, default=32

    Returns
    -------
    ndarray of shape (n_samples, height, width)
        Signed attributions (Grad-CAM keeps only positive evidence).

    Examples
    --------
    >>> from fersk import CNNClassifier, make_faces
    >>> X, y = make_faces(60, image_size=24, random_state=0)
    >>> clf = CNNClassifier(max_epochs=1, module__channels=(4, 8), random_state=0).fit(X, y)
    >>> explain(clf, X[:3]).shape
    (3, 24, 24)
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    estimator, X = classifier_and_rows(estimator, X)
    X = estimator._validate_predict(X)
    h, w, c = estimator.image_shape_
    if target is None:
        targets = np.argmax(estimator.predict_proba(X), axis=1)
    else:
        targets = estimator._encode(np.broadcast_to(np.asarray(target), (len(X),)))
    neural = hasattr(estimator, "module_")
    if method != "occlusion" and not neural:
        raise ValueError(
            f"method={method!r} needs a neural network; use method='occlusion' for {type(estimator).__name__}"
        )
    # each batch and its targets go where the network is (a GPU, when it was fitted on one)
    device = next(estimator.module_.parameters()).device if neural else torch.device("cpu")
    images = (
        torch.as_tensor(estimator._to_tensors(X))
        if neural
        else torch.as_tensor(np.asarray(X, dtype=np.float32).reshape(len(X), h, w, c).transpose(0, 3, 1, 2) / 255.0)
    )
    forward = _neural_forward(estimator) if neural else _proba_forward(estimator)
    maps = []
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size].to(device)
        batch_targets = torch.as_tensor(targets[start : start + batch_size], device=device)
        maps.append(_attribute(method, forward, estimator, batch, batch_targets, layer))
    return np.concatenate(maps)


def _neural_forward(estimator):
    module = estimator.module_
    module.eval()

    def forward(x):
        return torch.softmax(module(x), dim=1)

    return forward


def _proba_forward(estimator):
    h, w, c = estimator.image_shape_

    def forward(x):
        rows = (x.detach().permute(0, 2, 3, 1).reshape(len(x), -1) * 255.0).numpy()
        return torch.as_tensor(estimator.predict_proba(rows), dtype=torch.float32)

    return forward


def _attribute(method, forward, estimator, batch, targets, layer):
    from captum.attr import IntegratedGradients, LayerAttribution, LayerGradCam, Occlusion

    h, w = batch.shape[-2:]
    if method == "gradcam":
        layer = layer if layer is not None else default_target_layer(estimator.module_)
        batch = batch.clone().requires_grad_(True)  # frozen backbones still pass gradients to the layer
        cam = LayerGradCam(forward, layer).attribute(batch, target=targets, relu_attributions=True)
        cam = LayerAttribution.interpolate(cam.detach().cpu(), (h, w), interpolate_mode="bilinear")
        return cam[:, 0].numpy()
    if method == "integrated_gradients":
        attributions = IntegratedGradients(forward).attribute(batch, target=targets, n_steps=32)
        return attributions.detach().cpu().sum(dim=1).numpy()
    window = max(2, min(h, w) // 6)
    attributions = Occlusion(forward).attribute(
        batch,
        target=targets,
        sliding_window_shapes=(batch.shape[1], window, window),
        strides=(batch.shape[1], max(1, window // 2), max(1, window // 2)),
        baselines=0.5,
    )
    return attributions.detach().cpu().sum(dim=1).numpy()
