"""The docs of the networks' parameters, kept in one place; each class's docstring is composed of them.

As skorch builds ``NeuralNetClassifier``'s docstring from ``NeuralNet``'s, :func:`compose_doc`
builds those of :class:`NeuralImageClassifier`, :class:`fersk.CNNClassifier` and
:class:`fersk.TransferClassifier` from :data:`PARAMETERS`, so that each parameter is described
once and every class lists each of its own, in numpydoc's form.
"""

import inspect
import re
import textwrap

_PARAMETERS = """
image_shape : tuple of int, default=None
    Shape of the flattened images, ``(h, w)`` or ``(h, w, c)``, one entry possibly -1 as
    in ``numpy.reshape``. None infers it for square grayscale rows or 3-D/4-D input.
augment : {"none", "basic", "strong"}, default="basic"
    Augmentation on each training batch (see :func:`fersk.training.augment_batch`).
mixup : float, default=0.0
    Alpha of the Beta distribution the mixup weight is drawn from (two images and their
    labels blended); 0 disables it. With ``cutmix`` too, each batch takes one of them at random.
cutmix : float, default=0.0
    Alpha of the Beta distribution the CutMix weight is drawn from (a patch of another
    image pasted in, the labels weighed by its area); 0 disables it.
class_weight : {"balanced", "balanced_sqrt"}, dict or None, default=None
    Weights of the classes in the loss. ``"balanced"`` weighs each class by
    ``n_samples / (n_classes * count)``; ``"balanced_sqrt"`` by its square root, a
    milder correction for extreme imbalance. A dict maps labels to weights, 1 for
    the labels it leaves out; it may name labels that ``y`` lacks only if it names
    every label of ``y`` (a ``learning_curve`` step may lack classes), else they are
    taken for typos. None weighs every class 1.
loss : {"cross_entropy", "focal"}, default="cross_entropy"
    The loss of the default criterion (:class:`fersk.training.FocalLoss`): cross-entropy,
    or the focal loss, which weighs down the images the network already classifies well.
focal_gamma : float, default=2.0
    Focusing parameter of the focal loss; used with ``loss="focal"`` only.
label_smoothing : float in [0, 1), default=0.0
    Share of each target spread evenly over the classes, as in torch's
    ``CrossEntropyLoss``; 0 trains on one-hot targets.
optimizer : {"adam", "adamw", "sgd"} or torch optimizer class, default="adam"
    The optimizer; its options are ``optimizer__*`` parameters. SGD uses momentum 0.9
    unless ``optimizer__momentum`` says otherwise.
lr : float, default=1e-3
    Learning rate of the optimizer, changed during training by ``lr_schedule``.
weight_decay : float, default=0.0
    The optimizer's weight decay: the short name of ``optimizer__weight_decay``;
    setting both to different values is an error.
max_epochs : int, default=30
    Epochs of a fit, 1 or more (``early_stopping`` may end it sooner); each
    ``partial_fit`` call, and each ``warm_start`` fit, trains as many more.
batch_size : int, default=64
    Images per training batch, and per forward pass in prediction; -1 takes all the
    images in one batch, as in skorch. ``iterator_train__batch_size`` and
    ``iterator_valid__batch_size`` (validation and prediction) override it, as in skorch.
validation_fraction : float in [0, 1) or None, default=0.1
    Held out (stratified, seeded by ``random_state``) for early stopping and
    the learning-rate schedule; 0 trains on everything and monitors train loss.
    Used while ``train_split="auto"``.
train_split : "auto", callable or None, default="auto"
    The validation split, skorch's parameter, as skorch documents it: None trains on
    everything, a callable (``skorch.dataset.ValidSplit(5)``) splits. ``"auto"`` holds
    out ``validation_fraction``. ``fit``'s ``X_val`` and ``y_val`` replace any split.
early_stopping : int or None, default=5
    Patience in epochs: training stops when the monitored loss (the validation loss,
    else the training loss) has not improved for this many epochs, and the best
    epoch's weights are restored. None or 0 trains for ``max_epochs``.
lr_schedule : {"plateau", "cosine"}, default="plateau"
    ``"plateau"`` halves the learning rate when the monitored loss has not
    improved for ``lr_patience`` epochs (``ReduceLROnPlateau``). ``"cosine"``
    anneals it from ``lr`` towards 0 over ``max_epochs`` (``CosineAnnealingLR``,
    a step per epoch), whatever the losses do: give it the epochs the time
    allows, and ``early_stopping=None`` so that its last, low learning rates
    are not cut off. ``partial_fit`` continues the curve, back up towards
    ``lr`` after ``max_epochs``, as a warm restart.
lr_patience : int or None, default=2
    ReduceLROnPlateau patience (factor 0.5); None or 0 disables it. Used by
    ``lr_schedule="plateau"`` only.
ema : float in (0, 1) or None, default=None
    Decay of an exponential moving average of the weights, updated after every
    batch (e.g. 0.995: about the last 200 batches). Validation, early stopping and
    the fitted model use the average, which does not jump with the last batches
    (see :class:`fersk.training.WeightAveraging`). Keep ``1 / (1 - ema)`` well
    below the number of batches in the whole fit, or the average stays close to
    the early weights. None trains without it.
tta : {"flip", "crops"} or None, default=None
    Test-time augmentation in ``predict_proba``, ``predict`` and ``transform``: their
    outputs are averaged over the views of each image (see :func:`fersk.training.tta_views`).
    None predicts from the image alone.
prior_shift : float or "auto", default=0.0
    Post-hoc logit adjustment, 0 or more: ``predict_proba`` divides the probabilities by the
    training class frequencies to this power and renormalises, so that ``predict``
    favours rare classes (1: every class equally likely a priori). ``"auto"``
    chooses from 0, 0.1, ..., 1 the shift with the best macro-F1 on the validation
    set, after training.
checkpoint : str or path-like, default=None
    A file to which the whole training state is written, atomically, after
    every epoch. When ``fit`` finds the file, it resumes: a run killed or
    interrupted (Ctrl-C) mid-way continues from its last epoch to its
    ``max_epochs`` and, seeded, ends as an uninterrupted run would; a finished
    run is restored without training. A ``warm_start`` fit's file records the
    epochs done before it, so that it resumes to its own end.
    The file is tied to its training data: other data is an error. Give
    each fit its own file (not one shared by a grid search). None writes none.
random_state : int or None, default=None
    Seeds weights, batches, augmentation, dropout and the validation split: two
    fits with the same seed give identical predictions, on a GPU too (a seeded fit
    trains with cuDNN's deterministic algorithms). The draws come from generators
    of the fit's own, seeded for each epoch from ``(random_state, epoch)``, so
    ``partial_fit`` and ``warm_start`` go on reproducibly; the global random
    generators of torch, numpy and Python are left as they were. None draws from
    torch's global generators, as scikit-learn's estimators draw from numpy's.
device : str, torch.device or None, default="auto"
    Where the network trains and predicts: ``"auto"`` picks CUDA when torch
    finds a GPU, else the CPU. It stays as given; the device chosen is
    ``device_``.
progress : bool, default=False
    Show a progress bar per epoch.
verbose : int, default=0
    1 prints skorch's table of epochs.
criterion : torch loss class or instance, default=FocalLoss
    The loss, skorch's parameter. fersk's :class:`fersk.training.FocalLoss` is given the
    class weights, ``focal_gamma`` (0, cross-entropy, unless ``loss="focal"``) and
    ``label_smoothing``; ``criterion__*`` parameters override them. ``fit``'s
    ``sample_weight`` needs it.
warm_start : bool, default=False
    With True, ``fit`` continues the fitted network, on labels of the classes it was
    fitted on, for ``max_epochs`` more epochs, instead of building a new one (skorch's
    parameter).
classes : array-like or None, default=None
    All the labels, when ``y`` may lack some (``partial_fit``'s first batch); they are
    then ``classes_``. None: the labels of ``y`` (skorch's parameter).
callbacks : list of (name, callback) tuples or None, default=None
    skorch callbacks, run besides the default ones (the losses and accuracies,
    ``ema``, the learning-rate schedule, early stopping, the progress bar and the
    checkpoint, as the parameters above set them). Their parameters, and the default
    callbacks', are ``callbacks__<name>__<parameter>`` parameters.
iterator_train : DataLoader class, default=torch.utils.data.DataLoader
    The iterator over the training images (skorch's parameter), with the options
    ``iterator_train__*`` (``iterator_train__shuffle=True`` shuffles the batches, which are
    taken in order otherwise, as in skorch; ``iterator_train__num_workers``, ...).
iterator_valid : DataLoader class, default=torch.utils.data.DataLoader
    The iterator over the validation images (skorch's parameter), with the options
    ``iterator_valid__*``; ``iterator_valid__batch_size`` is the batch size of prediction too.
dataset : torch Dataset class, default=skorch.dataset.Dataset
    What wraps the images and labels for the iterators (skorch's parameter), with the
    options ``dataset__*``.
predict_nonlinearity : callable, "auto" or None, default="auto"
    Unused: skorch's parameter, while ``predict_proba`` applies a softmax to the
    network's outputs itself (then the prior shift).
compile : bool, default=False
    True compiles the network with ``torch.compile`` when it is built, with the options
    ``compile__*`` (skorch's parameter).
use_caching : bool or "auto", default="auto"
    Whether scoring callbacks reuse the predictions made on each epoch's batches
    (``"auto"``: each callback's choice) instead of predicting again (skorch's parameter).
torch_load_kwargs : dict or None, default=None
    Options of ``torch.load`` when parameters are loaded (``load_params``, unpickling);
    None takes skorch's (skorch's parameter).
**kwargs
    Parameters routed by prefix, as in skorch, each of them a parameter that
    ``get_params``, ``set_params`` and grid searches know: ``module__*`` (the network's),
    ``optimizer__*``, ``criterion__*``, ``callbacks__*``, ``iterator_train__*``,
    ``iterator_valid__*``, ``dataset__*``, ``compile__*``. skorch refuses a name it does not
    know once the network is built, suggesting the route meant for a missing double
    underscore (``iterator_train_shuffle``).
"""


def _entries(text):
    """The numpydoc entries of ``text``, by the parameter's name: each begins at column 0."""
    blocks = re.split(r"\n(?=\S)", text.strip("\n"))
    return {block.split(" : ", 1)[0]: block for block in blocks}


# every parameter fersk's networks share, in the order of NeuralImageClassifier's signature, then
# skorch's own, then the routes
PARAMETERS = _entries(_PARAMETERS)

ATTRIBUTES = """
classes_ : ndarray of shape (n_classes,)
    The labels, sorted.
image_shape_ : tuple of int
    ``(h, w, c)`` of the images.
class_weight_ : ndarray of shape (n_classes,)
    Loss weight of each class.
class_prior_ : ndarray of shape (n_classes,)
    Frequency of each class in the training labels.
prior_shift_ : float
    The prior shift in use: ``prior_shift``, or the one ``"auto"`` chose.
temperature_ : float
    Set by :func:`fersk.calibrate` (absent before): the temperature ``predict_proba`` applies,
    ``softmax(log(p) / temperature_)``, fitted on validation images. ``fit`` drops it.
conformal_scores_ : ndarray of shape (n_validation,)
    Set by :func:`fersk.calibrate`: the split conformal scores of the validation images, sorted,
    from which :meth:`predict_sets` gives sets of any coverage. ``fit`` drops them.
expert_conformal_scores_ : list of ndarray
    Set by :func:`fersk.calibrate` on a network of gated experts: the scores of the validation
    faces each expert's gate chose, from which each face's set is drawn. ``fit`` drops them.
confidence_right_, confidence_wrong_ : ndarray
    Set by :func:`fersk.calibrate`: the top probability of the validation images answered right
    and wrong, from which :meth:`predict_unsure` chooses its threshold. ``fit`` drops them.
history_ : skorch.History
    Losses, accuracy and timing per epoch.
device_ : str
    The device the network is on: ``device``, with ``"auto"`` resolved to
    ``"cuda"`` or ``"cpu"`` by ``initialize`` (which ``fit`` calls). A network
    fitted on a GPU and unpickled where there is none is put on the CPU, as
    skorch does, and ``device_`` says so.
module_ : torch.nn.Module
    The network, trained.
"""


def compose_doc(summary, *, own, shared=tuple(PARAMETERS), attributes=ATTRIBUTES, examples=""):
    """A class docstring: ``summary``, then a Parameters section of the class's ``own`` entries
    followed by the ``shared`` entries of :data:`PARAMETERS`, then Attributes and Examples.

    Parameters
    ----------
    summary : str
        The summary line and extended description, as a docstring begins.
    own : str
        The entries of the parameters the class adds or describes its own way, in numpydoc's form;
        an entry of :data:`PARAMETERS` of the same name is replaced by it.
    shared : sequence of str, default=all of them
        The names of the entries of :data:`PARAMETERS` to list after ``own``.
    attributes : str, default=ATTRIBUTES
        The entries of the Attributes section.
    examples : str, default=""
        The doctests of the Examples section; none when empty.

    Returns
    -------
    str
        The docstring, indented as one written in a class body.
    """
    own_entries = _entries(inspect.cleandoc(own))
    entries = [*own_entries.values(), *(PARAMETERS[name] for name in shared if name not in own_entries)]
    sections = [
        inspect.cleandoc(summary),
        "Parameters\n----------\n" + "\n".join(entries),
        "Attributes\n----------\n" + inspect.cleandoc(attributes),
    ]
    if examples:
        sections.append("Examples\n--------\n" + inspect.cleandoc(examples))
    doc = "\n\n".join(sections)
    first, _, rest = doc.partition("\n")
    return first + "\n" + textwrap.indent(rest, "    ") + "\n    "
