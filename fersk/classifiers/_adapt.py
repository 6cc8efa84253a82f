"""Adapting a shipped (or any fitted) fersk network to a user's own labelled faces."""

import copy
import difflib
import os
from pathlib import Path

from sklearn.utils.multiclass import unique_labels

from .._pretrained import PRETRAINED, shipped_name
from ._base import check_labels
from ._neural import NeuralImageClassifier
from ._transfer import TransferClassifier

# Fewer faces than this are refused. A floor, not a measured threshold (the benchmark's smallest draw is
# 100 faces): below it every training batch is a handful of faces, and the network, in train mode, moves
# its BatchNorm statistics towards those of a handful.
MIN_IMAGES = 10

# The kept head's recipe: every layer fine-tuned from the trained weights, at a learning rate
# well below the 1e-3 the shipped model was trained at, on every image (no validation split: a
# tenth of a few hundred faces is too few to stop on), for a fixed number of epochs. Chosen on
# FER2013 Training draws of 100 and 300 faces scored on PublicTest faces that
# benchmarks/bench_adapt.py does not report (its --tune mode); see that script for the figures.
KEEP_LR = 1e-4
KEEP_EPOCHS = 8
KEEP_SETTINGS = dict(
    warm_start=True,
    validation_fraction=0.0,
    early_stopping=None,
    lr_patience=None,
    fine_tune_layers="all",
)

# A new head's recipe: the trained body frozen (its BatchNorm statistics too) while a new head learns,
# at the 1e-3 the shipped model was trained at, for 15 epochs. On a three-class relabelling of 300 FER2013
# Training faces (positive / negative / neutral), scored on the tuning faces, it reached 79.3%, against
# 78.0% for the body unfrozen after 3 epochs at a tenth of the rate (fine_tune_layers="all", which these
# settings then follow), 78.4% for a linear head and 77.7% for the shipped model's seven classes mapped
# onto the three; in half the time.
NEW_LR = 1e-3
NEW_EPOCHS = 15
NEW_SETTINGS = dict(
    fine_tune_layers=0,
    head_epochs=3,
    backbone_lr_scale=0.1,
    validation_fraction=0.0,
    early_stopping=None,
    lr_patience=None,
)

# what adapt_pretrained decides itself: set through its own arguments, or not at all
_RESERVED = {"warm_start", "classes", "weights", "backbone", "module"}
# parameters that build the network anew, refused when the trained one is kept (module__* too)
_REBUILDING = {"head", "input_size", "image_shape"}


def adapt_pretrained(X, y, model="fer2013", *, keep_head="auto", max_epochs=None, lr=None, random_state=None, **params):
    """Fine-tune a shipped model (or any fitted fersk network) on your own labelled faces.

    The model is loaded (or copied) and trained on; the shipped file, and a model you pass,
    are left as they were. What is kept depends on the labels of ``y``:

    - **Labels among the model's classes** (``model.classes_``: for the shipped ``"fer2013"``,
      ``angry``, ``disgust``, ``fear``, ``happy``, ``neutral``, ``sad``, ``surprise``): the
      whole trained network, its head included, is trained on with ``warm_start=True``, every
      layer at ``lr`` (default 1e-4, a tenth of the rate the shipped model was trained at) for
      ``max_epochs`` (default 8) on all the images, with no validation split. ``y`` may lack
      some of the classes (a hundred FER2013 faces hold one or two ``disgust``): the network
      keeps an output for each, with what it had learnt of the missing ones, and ``classes_``
      stays the model's. On photos unlike FER2013's crops (muxspace's, resized whole), 100, 300
      and 900 faces lifted the shipped model's accuracy from 52.9% to 65.2%, 68.9% and 81.9%; on
      FER2013's own faces, which it was trained on, it stays within a point of the shipped model
      (``benchmarks/bench_adapt.py``). ``TransferClassifier("fernet", weights="fer2013")``
      starts a new head instead, and on so few faces does far worse than the model it started from.
    - **Labels the model does not know** (other classes: ``"positive"``, ``"negative"``,
      ``"neutral"``; or an eighth class beside the seven): the trained body is kept and a new
      head trained on it, a :class:`TransferClassifier` of the model's backbone with
      ``weights=model`` and the model's kind of head. The body stays frozen, BatchNorm
      statistics included, while the head learns at ``lr`` (default 1e-3) for ``max_epochs``
      (default 15); ``fine_tune_layers="all"`` unfreezes it after 3 epochs, at a tenth of ``lr``.
    - **A label that names one of the model's classes otherwise** (``"anger"``, ``"Happy"``,
      ``"suprise"``): refused, saying which class it seems to mean, as a new head would throw
      the trained one away for a spelling. Rename the labels, or give ``keep_head=False``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_pixels), or (n, h, w) / (n, h, w, c)
        Your faces, pixel values 0-255, cropped and sized as the model takes them (48x48
        grayscale for the shipped models; ``fersk.FaceCropper`` crops photos).
    y : array-like of shape (n_samples,)
        Their labels, spelled as the model's ``classes_`` to keep its head
        (:func:`fersk.canonical_emotion` maps ``"anger"``, ``"HAPPINESS"``, ... onto them).
    model : str, path or fitted estimator, default="fer2013"
        The name of a model fersk ships (:func:`fersk.load_pretrained`), a fersk model file
        (:func:`fersk.save`), or a fitted fersk neural network (:class:`TransferClassifier`,
        :class:`CNNClassifier`), which is copied, not changed. A new head (``keep_head=False``, or
        labels the model does not know) needs a registered backbone's weights: a name or
        a file.
    keep_head : "auto" or bool, default="auto"
        ``"auto"`` keeps the trained head when every label of ``y`` is among the model's
        classes, and trains a new one when some are not (refusing labels that look like
        misspellings of its classes); True or False says which.
    max_epochs : int, optional
        Epochs of training: 8 when the head is kept, 15 for a new head.
    lr : float, optional
        Learning rate: 1e-4 for every layer when the head is kept; 1e-3 for a new head.
    random_state : int, optional
        Seeds the training (batches, augmentation, dropout, a new head's weights), as the
        estimators' ``random_state``.
    **params
        Any other parameter of the estimator (``batch_size``, ``augment``, ``tta``,
        ``validation_fraction`` with ``early_stopping``, ``fine_tune_layers``, ``verbose``, ...),
        set before training. ``device`` places a model loaded by name or file.

    Returns
    -------
    estimator
        The fitted network: a copy of the model (its class, its ``tta``) trained on, or a
        new :class:`TransferClassifier`. With the head kept, it has ``warm_start=True``, so
        that ``fit`` trains it on further. It is a fitted model, not a recipe: scikit-learn's
        ``clone`` gives back its parameters, not the shipped weights, so cross-validate the
        adapting by calling ``adapt_pretrained`` on each training fold.

    Raises
    ------
    ValueError
        Fewer than 10 faces; labels that seem to misspell the model's classes (with
        ``keep_head="auto"``), or that it does not know (with ``keep_head=True``); a model that is not
        a fitted fersk network; a new head asked of a model given as an estimator.

    See Also
    --------
    fersk.load_pretrained : the shipped models, as they are.
    TransferClassifier : a backbone with a new head, from ImageNet, FER2013 or your own weights.

    Examples
    --------
    Twenty synthetic faces labelled with the shipped model's classes keep its head:

    >>> from fersk import make_faces
    >>> X, y = make_faces(20, image_size=48, random_state=0)
    >>> model = adapt_pretrained(X, y, max_epochs=1, random_state=0)
    >>> model.classes_.tolist() == sorted(set(y))
    True
    >>> model.predict(X[:2]).shape
    (2,)

    Other labels get a new head on the shipped body:

    >>> mood = ["positive" if label in ("happy", "surprise") else "other" for label in y]
    >>> model = adapt_pretrained(X, mood, max_epochs=1, random_state=0)
    >>> model.classes_.tolist()
    ['other', 'positive']
    """
    check_labels(y)
    labels = unique_labels(y)
    if len(y) < MIN_IMAGES:
        raise ValueError(
            f"adapt_pretrained needs at least {MIN_IMAGES} labelled faces, and y holds {len(y)}; "
            "with fewer, use the model as it is (fersk.load_pretrained)"
        )
    if not (keep_head == "auto" or isinstance(keep_head, bool)):
        raise ValueError(f"keep_head must be 'auto', True or False, got {keep_head!r}")
    reserved = sorted(_RESERVED & set(params))
    if reserved:
        raise ValueError(
            f"adapt_pretrained sets {reserved} itself: it trains on the model's network (warm_start), or builds a "
            "new head on the model's weights; choose which with keep_head=, or build a TransferClassifier yourself"
        )
    device = params.pop("device", None)
    fitted, source = _fitted_model(model, device)
    known = fitted.classes_.tolist()
    unknown = [label for label in labels.tolist() if label not in known]
    misspelt = _misspellings(unknown, known)
    if keep_head == "auto" and misspelt:  # a new head would throw the trained one away for a spelling
        raise ValueError(
            f"y spells label(s) {list(misspelt)} otherwise than the model, whose classes are {known}; to keep its "
            f"trained head, {_renaming_advice(misspelt)}; or give keep_head=False to train a new head over your labels"
        )
    if keep_head == "auto":
        keep_head = not unknown
    elif keep_head and unknown:
        advice = _renaming_advice(misspelt) if misspelt else "drop the images of those labels"
        raise ValueError(
            f"keep_head=True trains the model's head, whose classes are {known}, and y holds label(s) {unknown} "
            f"it has no output for: {advice}; or give keep_head=False to train a new head over your labels"
        )
    if keep_head:
        rebuilding = sorted(k for k in params if k in _REBUILDING or k.startswith("module__"))
        if rebuilding:
            raise ValueError(
                f"{rebuilding} would build a new network, and keep_head=True trains on the model's own; "
                "give keep_head=False for a new head of your choosing"
            )
        fitted = copy.deepcopy(fitted) if source is None else fitted  # a model the caller holds stays as it was
        settings = {
            **KEEP_SETTINGS,
            "classes": fitted.classes_.tolist(),  # y may lack some: the head keeps an output for each (a list: saves)
            "max_epochs": KEEP_EPOCHS if max_epochs is None else max_epochs,
            "lr": KEEP_LR if lr is None else lr,
            "random_state": random_state,
            **params,  # yours win, but for those refused above
        }
        fitted.set_params(**settings)
        return fitted.fit(X, y)
    if source is None:
        raise ValueError(
            "a new head is built on a backbone's weights from a file, and this model was given as an estimator; "
            "save it with fersk.save(model, path) and pass the path as model="
        )
    settings = {
        **NEW_SETTINGS,
        "head": getattr(fitted, "head", "linear"),
        "tta": fitted.tta,
        "max_epochs": NEW_EPOCHS if max_epochs is None else max_epochs,
        "lr": NEW_LR if lr is None else lr,
        "random_state": random_state,
        **({} if device is None else {"device": device}),
        **params,
    }
    return TransferClassifier(_backbone_name(fitted), weights=source, **settings).fit(X, y)


def _fitted_model(model, device):
    """The model to adapt, and where its weights come from: a shipped model's name or a file (None for an
    estimator, which the caller holds and must not see changed)."""
    from ..io import load, load_pretrained  # fersk.io imports the classifiers: here, not at the top

    if isinstance(model, (str, os.PathLike)):
        name = shipped_name(model)
        if name is not None:
            fitted, source = load_pretrained(name, device=device), name
        elif Path(model).is_file():
            fitted, source = load(model, device=device), os.fspath(model)
        else:
            raise ValueError(
                f"model={os.fspath(model)!r} is neither a model fersk ships ({', '.join(sorted(PRETRAINED))}) "
                "nor an existing file"
            )
    else:
        if device is not None:
            raise ValueError(
                "device= places a model loaded by name or from a file; a model given as an estimator stays on "
                "its device (fersk.save it, and load it with fersk.load(path, device=...))"
            )
        fitted, source = model, None
    if not isinstance(fitted, NeuralImageClassifier):
        raise ValueError(
            "adapt_pretrained trains on a fitted fersk neural network (a shipped model's name, a fersk model "
            f"file, or a fitted TransferClassifier or CNNClassifier); got a {type(fitted).__name__}"
        )
    if not hasattr(fitted, "classes_"):  # skorch nets are "initialized" before fit: the classes come with fit
        raise ValueError(
            f"the {type(fitted).__name__} given as model is not fitted: adapt_pretrained trains on from trained "
            "weights; fit it first, or give the name of a model fersk ships"
        )
    return fitted, source


def _backbone_name(fitted):
    """The registered backbone whose weights the model holds: a TransferClassifier's, or the last
    expert's of gated experts (the one ``weights=`` takes from such a file)."""
    network = fitted.module_
    experts = getattr(network, "experts", None)
    if experts is not None:
        network = experts[-1]
    name = getattr(fitted, "backbone", None) if experts is None else None
    name = name or getattr(network, "name", None)
    if name is None:
        raise ValueError(
            f"a new head is built on a registered backbone (fersk.list_backbones()), and this model's network is a "
            f"{type(network).__name__}; adapt a TransferClassifier's model, or keep the head (keep_head=True)"
        )
    return name


def _misspellings(unknown, known):
    """The labels of ``unknown`` that name one of the ``known`` classes otherwise (``"anger"``, ``"Happy"``,
    ``"suprise"``), each with the class it names: fersk's vocabulary of emotion names, then a close spelling."""
    from ..datasets import canonical_emotion  # the vocabulary of emotion names

    meant = {}
    for label in unknown:
        if not isinstance(label, str):
            continue
        close = difflib.get_close_matches(label.strip().lower(), known, n=1, cutoff=0.8)
        name = canonical_emotion(label)
        if name in known or close:
            meant[label] = name if name in known else close[0]
    return meant


def _renaming_advice(misspelt):
    pairs = ", ".join(f"{a!r} -> {b!r}" for a, b in misspelt.items())
    return f"spell them as it does ({pairs}; fersk.canonical_emotion maps the usual synonyms)"
