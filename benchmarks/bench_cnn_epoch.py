"""One epoch of CNNClassifier.fit against a plain PyTorch loop, side by side.

Both train the same FERNet on the same 48x48 faces with the same batch size and
optimizer; runs alternate, and each ratio is the median over repeats. fersk runs its
convolutions channels-last; the plain loop is timed both in PyTorch's default memory
format and channels-last. A last ratio shows the cost of augment="basic" against
augment="none".
"""

import argparse
import statistics
import time

import numpy as np
import torch
from _common import record
from torch import nn

from fersk import CNNClassifier, make_faces
from fersk.backbones import FERNet


def plain_epoch(X, y, batch_size, channels_last=False):
    torch.manual_seed(0)
    module = FERNet(n_classes=7)
    if channels_last:
        module = module.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    images = torch.as_tensor(X.reshape(-1, 1, 48, 48).astype(np.float32) / 255.0)
    labels = torch.as_tensor(np.unique(y, return_inverse=True)[1])
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(images, labels), batch_size=batch_size, shuffle=True
    )
    start = time.perf_counter()
    module.train()
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = criterion(module(xb), yb)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def fersk_epoch(X, y, batch_size, augment):
    model = CNNClassifier(
        max_epochs=1,
        batch_size=batch_size,
        augment=augment,
        validation_fraction=0,
        early_stopping=None,
        lr_patience=None,
        random_state=0,
    )
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000 faces, 1 repeat")
    args = parser.parse_args()
    n, repeats = (1000, 1) if args.quick else (2000, 3)
    batch_size = 64
    X, y = make_faces(n, random_state=0)
    begin = time.perf_counter()
    plain, plain_cl, none, basic = [], [], [], []
    for _ in range(repeats):
        plain.append(plain_epoch(X, y, batch_size))
        plain_cl.append(plain_epoch(X, y, batch_size, channels_last=True))
        none.append(fersk_epoch(X, y, batch_size, "none"))
        basic.append(fersk_epoch(X, y, batch_size, "basic"))
    figures = {
        "images": n,
        "plain torch s": round(statistics.median(plain), 2),
        "fersk s": round(statistics.median(none), 2),
        "plain torch channels-last s": round(statistics.median(plain_cl), 2),
        "fersk/plain": round(statistics.median(a / b for a, b in zip(none, plain)), 3),
        "fersk/plain channels-last": round(statistics.median(a / b for a, b in zip(none, plain_cl)), 3),
        "augment basic/none": round(statistics.median(a / b for a, b in zip(basic, none)), 3),
    }
    print(record("cnn_epoch" + ("-quick" if args.quick else ""), figures, time.perf_counter() - begin))


if __name__ == "__main__":
    main()
