"""One emotion vocabulary across datasets."""

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral", "contempt")
"""The canonical emotion names: the seven basic expressions of FER2013, plus ``contempt``."""

_SYNONYMS = {
    "anger": "angry",
    "angry": "angry",
    "mad": "angry",
    "disgust": "disgust",
    "disgusted": "disgust",
    "fear": "fear",
    "fearful": "fear",
    "afraid": "fear",
    "scared": "fear",
    "happy": "happy",
    "happiness": "happy",
    "joy": "happy",
    "sad": "sad",
    "sadness": "sad",
    "surprise": "surprise",
    "surprised": "surprise",
    "neutral": "neutral",
    "neutrality": "neutral",
    "calm": "neutral",
    "contempt": "contempt",
    "contemptuous": "contempt",
}


def canonical_emotion(label):
    """Map a dataset's emotion label onto fersk's vocabulary.

    Case and surrounding spaces are ignored, and the synonyms real datasets use
    (``anger``, ``HAPPINESS``, ``sadness``, ``surprised``, ...) map onto
    :data:`EMOTIONS`. A label outside the vocabulary is returned stripped and
    lower-cased, so datasets with their own classes still load.

    Parameters
    ----------
    label : str
        The label as the dataset spells it.

    Returns
    -------
    str
        The canonical name.

    Examples
    --------
    >>> canonical_emotion(" HAPPINESS ")
    'happy'
    >>> canonical_emotion("anger")
    'angry'
    >>> canonical_emotion("Pain")
    'pain'
    """
    key = str(label).strip().lower()
    return _SYNONYMS.get(key, key)
