"""Why FERNet has four stages and BatchNorm in its head: val accuracy on muxspace after a fixed
number of epochs, for the earlier default (three stages, no BatchNorm in the head), with and
without dropout, against three and four stages with a Linear-BN-ReLU-Dropout-Linear head.

Every variant trains CNNClassifier on the fixed split's train images with the muxspace
benchmark's settings (basic augmentation, sqrt-balanced class weights, label smoothing 0.1),
the same seed and no early stopping, and is scored on val; test is not read.
"""

import time

from _common import MUXSPACE_NEURAL, record, variant_study
from torch import nn

import fersk
from fersk.backbones import FERNet
from fersk.evaluation import classification_metrics


class PlainHeadFERNet(FERNet):
    """FERNet with the earlier head: Linear-ReLU-Dropout-Linear, no BatchNorm."""

    def __init__(self, n_classes, in_chans=1, channels=(32, 64, 128), dropout=0.25, hidden=256):
        super().__init__(n_classes, in_chans, channels, dropout, hidden)
        self.head = nn.Sequential(*(m for m in self.head if not isinstance(m, nn.BatchNorm1d)))


VARIANTS = {
    "3 stages, plain head (earlier default)": dict(module=PlainHeadFERNet),
    "3 stages, plain head, no dropout": dict(module=PlainHeadFERNet, module__dropout=0.0),
    "3 stages, BN head": dict(module__channels=(32, 64, 128)),
    "4 stages, BN head (default)": dict(),
}


def main():
    begin = time.perf_counter()
    data, X, y, val, _, epochs, quick = variant_study(__doc__, epochs=10)
    figures = {"epochs": epochs}
    for name, variant in VARIANTS.items():
        model = fersk.CNNClassifier(
            max_epochs=epochs,
            **MUXSPACE_NEURAL,
            early_stopping=None,
            random_state=0,
            **variant,
        )
        model.fit(X, y, X_val=data.data[val], y_val=data.target[val])
        m = classification_metrics(data.target[val], model.predict(data.data[val]), labels=model.classes_)
        figures[f"{name}: val accuracy %"] = round(100 * m["accuracy"], 1)
        figures[f"{name}: final train loss"] = round(float(model.history_[-1, "train_loss"]), 3)
        print(name, figures[f"{name}: val accuracy %"], flush=True)
    print(record("fernet_head" + ("-quick" if quick else ""), figures, time.perf_counter() - begin))


if __name__ == "__main__":
    main()
