"""A CNN trained from scratch."""

from ..backbones import FERNet
from ._neural import NeuralImageClassifier
from ._neural._docs import compose_doc


class CNNClassifier(NeuralImageClassifier):
    __doc__ = compose_doc(
        """A convolutional network trained from scratch, as a scikit-learn classifier.

        Built on skorch's ``NeuralNetClassifier``: the network is ``module`` (default
        :class:`fersk.backbones.FERNet`) and its choices are ``module__*`` parameters
        (``module__channels``, ``module__dropout``, ``module__hidden``), grid-searchable
        like any other. ``n_classes`` and ``in_chans`` are filled in at fit.
        """,
        own="""
        module : torch.nn.Module class, default=FERNet
            The network; it is called with ``n_classes``, ``in_chans`` and the
            ``module__*`` parameters, and takes (n, c, h, w) images in [0, 1].
        """,
        examples="""
        >>> from fersk import make_faces
        >>> X, y = make_faces(140, image_size=32, random_state=0)
        >>> clf = CNNClassifier(max_epochs=2, module__channels=(8, 16), random_state=0)
        >>> clf.fit(X, y).predict_proba(X[:3]).shape
        (3, 7)
        >>> clf.predict(X[:1])[0] in clf.classes_
        True
        """,
    )

    def __init__(self, module=FERNet, **kwargs):
        super().__init__(module, **kwargs)
