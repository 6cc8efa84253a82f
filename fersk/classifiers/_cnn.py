"""A CNN trained from scratch."""

from ..backbones import FERNet
from ._neural import NeuralImageClassifier


class CNNClassifier(NeuralImageClassifier):
    """A convolutional network trained from scratch, as a scikit-learn classifier.

    Built on skorch's ``NeuralNetClassifier``: the network is ``module`` (default
    :class:`fersk.backbones.FERNet`) and its choices are ``module__*`` parameters
    (``module__channels``, ``module__dropout``, ``module__hidden``), grid-searchable
    like any other. ``n_classes`` and ``in_chans`` are filled in at fit.

    Parameters
    ----------
    module : torch.nn.Module class, default=FERNet
        The network; it is called with ``n_classes``, ``in_chans`` and the
        ``module__*`` parameters, and takes (n, c, h, w) images in [0, 1].
    image_shape : (h, w) or (h, w, c), optional
        Shape of the flattened images, one entry possibly -1 as in ``numpy.reshape``;
        inferred for square grayscale or 3-D/4-D input.
    augment : {"none", "basic", "strong"}, default="basic"
        Augmentation on each training batch (see :func:`fersk.training.augment_batch`).
    mixup, cutmix : float, default=0.0
        Beta-distribution alpha for mixup / CutMix; 0 disables.
    class_weight : None, "balanced", "balanced_sqrt" or dict
        Weights of the classes in the loss. ``"balanced"`` weighs each class by
        ``n_samples / (n_classes * count)``; ``"balanced_sqrt"`` by its square root, a
        milder correction for extreme imbalance. A dict maps labels to weights, 1 for
        the labels it leaves out; it may name labels that ``y`` lacks only if it names
        every label of ``y`` (a ``learning_curve`` step may lack classes), else they are
        taken for typos.
    loss : {"cross_entropy", "focal"}, default="cross_entropy"
    focal_gamma : float, default=2.0
        Focusing parameter of the focal loss.
    label_smoothing : float, default=0.0
    optimizer : {"adam", "adamw", "sgd"} or torch optimizer class, default="adam"
        SGD uses momentum 0.9 unless ``optimizer__momentum`` says otherwise.
    lr : float, default=1e-3
    weight_decay : float, default=0.0
        The optimizer's weight decay: the short name of ``optimizer__weight_decay``;
        setting both to different values is an error.
    max_epochs : int >= 1, default=30
    batch_size : int, default=64
        Images per training batch, and per forward pass in prediction; -1 takes all the
        images in one batch, as in skorch. ``iterator_train__batch_size`` and
        ``iterator_valid__batch_size`` (validation and prediction) override it, as in skorch.
    validation_fraction : float, default=0.1
        Held out (stratified, seeded by ``random_state``) for early stopping and
        the learning-rate schedule; 0 trains on everything and monitors train loss.
        Used while ``train_split="auto"``.
    train_split : "auto", None or callable, default="auto"
        skorch's parameter, as skorch documents it: None trains on everything, a
        callable (``skorch.dataset.ValidSplit(5)``) splits. ``"auto"`` holds out
        ``validation_fraction``. ``fit``'s ``X_val`` and ``y_val`` replace any split.
    early_stopping : int or None, default=5
        Patience in epochs; training stops and the best epoch's weights are restored.
    lr_schedule : {"plateau", "cosine"}, default="plateau"
        ``"plateau"`` halves the learning rate when the monitored loss has not
        improved for ``lr_patience`` epochs (``ReduceLROnPlateau``). ``"cosine"``
        anneals it from ``lr`` towards 0 over ``max_epochs`` (``CosineAnnealingLR``,
        a step per epoch), whatever the losses do: give it the epochs the time
        allows, and ``early_stopping=None`` so that its last, low learning rates
        are not cut off. ``partial_fit`` continues the curve, back up towards
        ``lr`` after ``max_epochs``, as a warm restart.
    lr_patience : int or None, default=2
        ReduceLROnPlateau patience (factor 0.5); None disables it. Used by
        ``lr_schedule="plateau"`` only.
    ema : float, optional
        Decay of an exponential moving average of the weights, updated after every
        batch (e.g. 0.995: about the last 200 batches). Validation, early stopping and
        the fitted model use the average, which does not jump with the last batches
        (see :class:`fersk.training.WeightAveraging`). Keep ``1 / (1 - ema)`` well
        below the number of batches in the whole fit, or the average stays close to
        the early weights. None trains without it.
    tta : {None, "flip", "crops"}, default=None
        Test-time augmentation in ``predict_proba`` and ``predict``.
    prior_shift : float >= 0 or "auto", default=0.0
        Post-hoc logit adjustment: ``predict_proba`` divides the probabilities by the
        training class frequencies to this power and renormalises, so that ``predict``
        favours rare classes (1: every class equally likely a priori). ``"auto"``
        chooses from 0, 0.1, ..., 1 the shift with the best macro-F1 on the validation
        set, after training.
    checkpoint : str or Path, optional
        A file to which the whole training state is written, atomically, after
        every epoch. When ``fit`` finds the file, it resumes: a run killed or
        interrupted (Ctrl-C) mid-way continues from its last epoch to its
        ``max_epochs`` and, seeded, ends as an uninterrupted run would; a finished
        run is restored without training. A ``warm_start`` fit's file records the
        epochs done before it, so that it resumes to its own end.
        The file is tied to its training data: other data is an error. Give
        each fit its own file (not one shared by a grid search).
    random_state : int, optional
        Seeds weights, batches, augmentation, dropout and the validation split: two
        fits with the same seed give identical predictions, on a GPU too (a seeded fit
        trains with cuDNN's deterministic algorithms). The draws come from generators
        of the fit's own, seeded for each epoch from ``(random_state, epoch)``, so
        ``partial_fit`` and ``warm_start`` go on reproducibly; the global random
        generators of torch, numpy and Python are left as they were. None draws from
        torch's global generators, as scikit-learn's estimators draw from numpy's.
    device : str, default="auto"
        Where the network trains and predicts: ``"auto"`` picks CUDA when torch
        finds a GPU, else the CPU. It stays as given; the device chosen is
        ``device_``.
    progress : bool, default=False
        Show a progress bar per epoch.
    verbose : int, default=0
        1 prints skorch's table of epochs.
    **kwargs
        Any other skorch ``NeuralNet`` parameter (``module__*``, ``optimizer__*``,
        ``callbacks``, ``iterator_train__*``, ``warm_start``, ...). With
        ``warm_start=True``, ``fit`` continues the fitted network, on labels of the
        classes it was fitted on. ``classes`` lists all the labels, when ``y`` may
        lack some; they are then ``classes_``.

    Attributes
    ----------
    classes_ : ndarray
        The labels, sorted.
    image_shape_ : tuple
        ``(h, w, c)`` of the images.
    class_weight_ : ndarray
        Loss weight of each class.
    class_prior_ : ndarray
        Frequency of each class in the training labels.
    prior_shift_ : float
        The prior shift in use: ``prior_shift``, or the one ``"auto"`` chose.
    history_ : skorch.History
        Losses, accuracy and timing per epoch.
    device_ : str
        The device the network is on: ``device``, with ``"auto"`` resolved to
        ``"cuda"`` or ``"cpu"`` by ``initialize`` (which ``fit`` calls). A network
        fitted on a GPU and unpickled where there is none is put on the CPU, as
        skorch does, and ``device_`` says so.

    Examples
    --------
    >>> from fersk import make_faces
    >>> X, y = make_faces(140, image_size=32, random_state=0)
    >>> clf = CNNClassifier(max_epochs=2, module__channels=(8, 16), random_state=0)
    >>> clf.fit(X, y).predict_proba(X[:3]).shape
    (3, 7)
    >>> clf.predict(X[:1])[0] in clf.classes_
    True
    """

    def __init__(self, module=FERNet, **kwargs):
        super().__init__(module, **kwargs)
