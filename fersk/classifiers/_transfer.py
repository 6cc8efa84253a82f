"""ImageNet backbones fine-tuned by transfer learning."""

import os
from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from ..backbones import create_backbone
from ..training import TwoPhaseFineTuning
from ._neural import NeuralImageClassifier
from ._neural._docs import compose_doc


class TransferClassifier(NeuralImageClassifier):
    __doc__ = compose_doc(
        """A registered backbone with a new head, fine-tuned in two phases in one ``fit``.

        Phase 1 trains the head with the backbone frozen (BatchNorm statistics too) for
        ``head_epochs``; phase 2 unfreezes the last ``fine_tune_layers`` stages at
        ``lr * backbone_lr_scale``. Grayscale faces are repeated to three channels,
        resized to ``input_size`` and normalised with ImageNet statistics. It takes every
        parameter :class:`CNNClassifier` takes but ``module``, which ``backbone`` replaces.
        """,
        own="""
        backbone : str, default="resnet18"
            A name from :func:`fersk.backbones.list_backbones`: resnet18, resnet50,
            mobilenet_v2, vgg16, vgg19, efficientnet_b0, convnext_tiny.
        weights : "imagenet", "fer2013", path or None, default="imagenet"
            ``"imagenet"`` uses torchvision's weights API (offline, the file must already
            be in ``$TORCH_HOME/hub/checkpoints``; the error says where). ``"fer2013"``
            starts the ``"fernet"`` backbone from the FER2013 model fersk ships (offline; see
            :func:`fersk.load_pretrained`). A path loads a state dict (torchvision's, or
            ``net.save_params``) or a fersk model file, so a backbone trained on one
            dataset transfers to another. None: random weights.
        fine_tune_layers : int or "all", default=2
            Stages unfrozen in phase 2; 0 trains the head only.
        head_epochs : int, default=3
            Epochs of phase 1.
        backbone_lr_scale : float, default=0.1
            Learning rate of the backbone relative to ``lr``. Parameter groups of your own
            (``optimizer__param_groups``) replace this split, and the scale is then unused.
        head : {"linear", "mlp"}, default="linear"
            ``"mlp"`` is the VGG19 report's Linear-BN-ReLU-Dropout-Linear head.
        input_size : int, "native" or None, default=None
            Side the images are resized to; None keeps theirs, ``"native"`` is 224.
        module : str
            The ``backbone`` given to ``__init__``, kept for skorch, whose parameter it is:
            the network is built from ``backbone`` (and the ``module__*`` parameters), and a
            ``module`` given is ignored.
        """,
        examples="""
        >>> from fersk import make_faces
        >>> X, y = make_faces(70, image_size=32, random_state=0)
        >>> clf = TransferClassifier("fernet", weights=None, max_epochs=2, head_epochs=1)
        >>> clf.fit(X, y).predict(X[:2]).shape
        (2,)
        """,
    )

    _fersk_constraints = {
        **NeuralImageClassifier._fersk_constraints,
        "backbone": [str],
        "weights": [str, os.PathLike, None],
        "fine_tune_layers": [Interval(Integral, 0, None, closed="left"), StrOptions({"all"})],
        "head_epochs": [Interval(Integral, 0, None, closed="left")],
        "backbone_lr_scale": [Interval(Real, 0, None, closed="left")],
        "head": [StrOptions({"linear", "mlp"})],
        "input_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"native"}), None],
    }

    def __init__(
        self,
        backbone="resnet18",
        *,
        weights="imagenet",
        fine_tune_layers=2,
        head_epochs=3,
        backbone_lr_scale=0.1,
        head="linear",
        input_size=None,
        **kwargs,
    ):
        kwargs.pop("module", None)  # skorch's module is built from ``backbone``
        super().__init__(backbone, **kwargs)
        self.backbone = backbone
        self.weights = weights
        self.fine_tune_layers = fine_tune_layers
        self.head_epochs = head_epochs
        self.backbone_lr_scale = backbone_lr_scale
        self.head = head
        self.input_size = input_size

    @property
    def _default_callbacks(self):
        return super()._default_callbacks + [
            ("fine_tuning", TwoPhaseFineTuning(self.head_epochs, self.fine_tune_layers)),
        ]

    def initialize_module(self):
        options = self.get_params_for("module")
        options.pop("in_chans")
        self.module_ = create_backbone(
            self.backbone,
            weights=self.weights,
            head=self.head,
            input_size=self.input_size,
            **options,
        ).to(self.device_)
        return self

    def _optimizer_groups(self, named_parameters):
        named_parameters = list(named_parameters)
        args, options = super()._optimizer_groups(named_parameters)
        if "optimizer__param_groups" in self.get_params():  # the user chose the groups
            return args, options
        lr = options.get("lr", self.lr)
        body = [p for n, p in named_parameters if n.startswith("body.")]
        rest = [p for n, p in named_parameters if not n.startswith("body.")]
        return [[{"params": rest}, {"params": body, "lr": lr * self.backbone_lr_scale}]], options
