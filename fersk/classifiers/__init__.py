"""The estimators: HOG+SVM, a CNN trained from scratch, and transfer learning."""

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
    "gate_experts",
    "resolve_device",
]
