"""Attribution maps through captum: Grad-CAM, occlusion, integrated gradients, GradientSHAP, LIME, Kernel SHAP."""

import numpy as np
import torch
from torch import nn

from ._perturbation import attribute_gradient_shap, attribute_superpixels

METHODS = ("gradcam", "occlusion", "integrated_gradients", "gradient_shap", "lime", "kernel_shap")
# the methods that only call the model, so they explain any classifier with predict_proba (HOG+SVM too)
MODEL_AGNOSTIC = ("occlusion", "lime", "kernel_shap")


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


def explain(
    estimator,
    X,
    *,
    method="gradcam",
    target=None,
    layer=None,
    batch_size=32,
    n_samples=None,
    cell_size=None,
    random_state=0,
):
    """Attribution maps: where in each face the estimator looks for a class.

    Parameters
    ----------
    estimator : fitted fersk estimator, or Pipeline ending in one
        ``CNNClassifier`` or ``TransferClassifier`` for every method; any classifier with
        ``predict_proba`` (HOG+SVM included) for the model-agnostic methods ``"occlusion"``,
        ``"lime"`` and ``"kernel_shap"``. A Pipeline is explained through its last step
        (:func:`classifier_and_rows`).
    X : array-like
        Images, as the estimator takes them (pixel values 0-255).
    method : {"gradcam", "occlusion", "integrated_gradients", "gradient_shap", "lime", \
            "kernel_shap"}, default="gradcam"
        - ``"gradcam"``: captum's ``LayerGradCam`` on ``layer``, upsampled to the image.
        - ``"occlusion"``: the drop in the class probability when a patch is greyed out.
        - ``"integrated_gradients"``: gradients integrated from a black image; pixels
          equal to the black baseline get exactly zero.
        - ``"gradient_shap"``: captum's ``GradientShap``, expected gradients from baselines
          drawn among constant images, black to white, with a little noise.
        - ``"lime"``: captum's ``Lime``: a ridge regression of the class probability on
          which superpixels are kept (the others greyed out), weighted by closeness to the
          face. One value per superpixel (:func:`superpixel_grid`).
        - ``"kernel_shap"``: captum's ``KernelShap``: Shapley values of the superpixels,
          from the same greyed-out coalitions.
    target : label, array-like of labels, or None
        The class to explain per image: None explains the predicted class.
    layer : torch.nn.Module, optional
        For Grad-CAM; default :func:`default_target_layer` of ``estimator.module_``.
    batch_size : int, default=32
        Images per batch for the gradient methods and occlusion.
    n_samples : int, optional
        Perturbed faces per image for ``"lime"`` and ``"kernel_shap"`` (default 256), random
        baselines per image for ``"gradient_shap"`` (default 16). Other methods ignore it.
    cell_size : int, optional
        Side in pixels of the square superpixels of ``"lime"`` and ``"kernel_shap"``;
        default an 8x8 grid (6 pixels at 48x48). See :func:`superpixel_grid`.
    random_state : int or None, default=0
        Seeds the sampling of ``"lime"``, ``"kernel_shap"`` and ``"gradient_shap"``
        (captum draws from torch's and numpy's global generators; their states are restored
        afterwards). None draws unseeded.

    Returns
    -------
    ndarray of shape (n_samples, height, width)
        Signed attributions (Grad-CAM keeps only positive evidence).

    Examples
    --------
    >>> from fersk import CNNClassifier, HOGSVMClassifier, make_faces
    >>> X, y = make_faces(60, image_size=24, random_state=0)
    >>> clf = CNNClassifier(max_epochs=1, module__channels=(4, 8), random_state=0).fit(X, y)
    >>> explain(clf, X[:3]).shape
    (3, 24, 24)

    LIME and Kernel SHAP call only ``predict_proba``, so they explain HOG+SVM too:

    >>> hog = HOGSVMClassifier(pixels_per_cell=(6, 6)).fit(X, y)
    >>> explain(hog, X[:2], method="lime", n_samples=64).shape
    (2, 24, 24)
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    estimator, X, images, targets, forward, device = model_inputs(estimator, X, target)
    neural = hasattr(estimator, "module_")
    if method not in MODEL_AGNOSTIC and not neural:
        raise ValueError(
            f"method={method!r} needs a neural network; use a model-agnostic method "
            f"({', '.join(repr(m) for m in MODEL_AGNOSTIC)}) for {type(estimator).__name__}"
        )
    if method in ("lime", "kernel_shap"):
        return attribute_superpixels(
            method, forward, images, targets, device, n_samples=n_samples, cell_size=cell_size, seed=random_state
        )
    maps = []
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size].to(device)
        batch_targets = torch.as_tensor(targets[start : start + batch_size], device=device)
        if method == "gradient_shap":
            maps.append(attribute_gradient_shap(forward, batch, batch_targets, n_samples=n_samples, seed=random_state))
        else:
            maps.append(_attribute(method, forward, estimator, batch, batch_targets, layer))
    return np.concatenate(maps)


def model_inputs(estimator, X, target=None):
    """What an explanation or a faithfulness score works on: the classifier, its validated rows,
    the images as a (n, c, h, w) tensor in [0, 1], the target class indices, the forward function
    (images -> class probabilities) and the device. A network is called directly (one view, no
    test-time augmentation); anything else through ``predict_proba``."""
    estimator, X = classifier_and_rows(estimator, X)
    X = estimator._validate_predict(X)
    h, w, c = estimator.image_shape_
    if target is None:
        targets = np.argmax(estimator.predict_proba(X), axis=1)
    else:
        targets = estimator._encode(np.broadcast_to(np.asarray(target), (len(X),)))
    neural = hasattr(estimator, "module_")
    # each batch and its targets go where the network is (a GPU, when it was fitted on one)
    device = next(estimator.module_.parameters()).device if neural else torch.device("cpu")
    images = (
        torch.as_tensor(estimator._to_tensors(X))
        if neural
        else torch.as_tensor(np.asarray(X, dtype=np.float32).reshape(len(X), h, w, c).transpose(0, 3, 1, 2) / 255.0)
    )
    forward = _neural_forward(estimator) if neural else _proba_forward(estimator)
    return estimator, X, images, targets, forward, device


def _neural_forward(estimator):
    module = estimator.module_
    module.eval()

    def forward(x):
        return torch.softmax(module(x), dim=1)

    return forward


def _proba_forward(estimator):
    h, w, c = estimator.image_shape_

    def forward(x):
        rows = (x.detach().cpu().permute(0, 2, 3, 1).reshape(len(x), -1) * 255.0).numpy()
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
        # several windows per forward pass: one window per pass, occlusion took four times LIME's
        # time for about as many images (benchmarks/bench_explain.py)
        perturbations_per_eval=max(1, 128 // len(batch)),
    )
    return attributions.detach().cpu().sum(dim=1).numpy()
