"""The models fersk ships, trained by its benchmarks: names, files and model cards.

Kept apart from :mod:`fersk.io` so that the backbones can resolve ``weights="fer2013"``
without importing the classifiers.
"""

from pathlib import Path

PRETRAINED_DIR = Path(__file__).parent / "pretrained"
PRETRAINED = {
    "fer2013": "a TransferClassifier('fernet') trained on FER2013 by benchmarks/bench_fer2013.py",
    "fer2013-muxspace": "the fer2013 model and a photos expert (fer2013 trained on with the muxspace photos), "
    "gated per image, by benchmarks/train_fer2013_muxspace.py --ship",
}
DEFAULT_MODEL = "fer2013-muxspace"  # what `fersk predict` and `fersk video` use when no model is given


def pretrained_path(name="fer2013"):
    """The file of a pretrained model shipped with fersk.

    ``TransferClassifier("fernet", weights="fer2013")`` takes the name itself.

    Parameters
    ----------
    name : str, default="fer2013"
        One of the shipped models; each has a model card (``<name>.md``) beside it.

    Returns
    -------
    Path

    Examples
    --------
    >>> pretrained_path("fer2013").name
    'fer2013.fersk'
    """
    if name not in PRETRAINED:
        raise ValueError(f"no pretrained model {name!r}; fersk ships {sorted(PRETRAINED)}")
    return PRETRAINED_DIR / f"{name}.fersk"


def shipped_name(spec):
    """``spec`` when it names a model fersk ships and no file of that name exists, else None.

    A file always comes first, so a user's own ``fer2013`` file is never shadowed.

    Examples
    --------
    >>> shipped_name("fer2013"), shipped_name("my_model.fersk")
    ('fer2013', None)
    """
    return str(spec) if str(spec) in PRETRAINED and not Path(spec).exists() else None
