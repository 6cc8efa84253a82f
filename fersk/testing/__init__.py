"""Property-based tests for your own emotion models: hypothesis strategies and ready properties.

``fersk.testing`` needs `hypothesis <https://hypothesis.readthedocs.io>`_, which plain fersk
does not: ``pip install fersk[testing]``. ``import fersk`` never imports it.

Strategies draw what a facial-expression model takes in, in fersk's data convention (one
flattened image per row, pixel values 0-255):

- :func:`images`: arbitrary pixel rows, mirror-symmetric on request;
- :func:`faces`: synthetic faces (:func:`fersk.make_faces`) of a given size and class set, with labels;
- :func:`photos`: photos holding a known number of faces at known boxes, for detectors;
- :func:`emotion_labels` and :func:`label_vocabularies`: the spellings of emotion names that
  :func:`fersk.canonical_emotion` maps.

Properties are plain functions that raise ``AssertionError`` saying what failed and on how many
images; call them inside a ``@given`` test, or on your own data without hypothesis:

- :func:`assert_mirror_consistent`: labels kept under a left-right mirror, at least as often as asked;
- :func:`assert_batch_size_independent`: the same answers whatever the batch size and batch mates;
- :func:`assert_order_independent`: permuting the rows permutes the answers.

Examples
--------
>>> from hypothesis import given, settings
>>> from fersk import HOGSVMClassifier, make_faces
>>> from fersk.testing import assert_order_independent, faces
>>> model = HOGSVMClassifier(pixels_per_cell=(6, 6)).fit(*make_faces(40, image_size=24, random_state=0))
>>> @settings(max_examples=5, deadline=None)
... @given(data=faces(image_size=24))
... def test_order(data):
...     X, y = data
...     assert_order_independent(model, X)
>>> test_order()
"""

try:
    import hypothesis  # noqa: F401
except ImportError as error:  # pragma: no cover - the test environment has hypothesis
    raise ImportError(
        "fersk.testing needs hypothesis, which plain fersk does not install: pip install fersk[testing]"
    ) from error

from ._photos import Photo, make_photo
from ._properties import assert_batch_size_independent, assert_mirror_consistent, assert_order_independent
from ._strategies import emotion_labels, faces, images, label_vocabularies, photos

__all__ = [
    "Photo",
    "assert_batch_size_independent",
    "assert_mirror_consistent",
    "assert_order_independent",
    "emotion_labels",
    "faces",
    "images",
    "label_vocabularies",
    "make_photo",
    "photos",
]
