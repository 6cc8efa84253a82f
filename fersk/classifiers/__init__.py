"""The estimators: HOG+SVM, a CNN trained from scratch, and transfer learning."""

from ._adapt import adapt_pretrained
from ._calibrate import calibrate
from ._cnn import CNNClassifier
from ._gated import gate_experts
from ._hog_svm import HOGSVMClassifier
from ._neural import NeuralImageClassifier, resolve_device
from ._transfer import TransferClassifier

__all__ = [
    "CNNClassifier",
    "HOGSVMClassifier",
    "NeuralImageClassifier",
    "TransferClassifier",
    "adapt_pretrained",
    "calibrate",
    "gate_experts",
    "resolve_device",
]
