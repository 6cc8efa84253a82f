"""How much of each muxspace class is near-copies of training images: for every val and test face,
whether its nearest training face (raw pixels, 48 px grayscale) carries the same label.

For a rare class, a nearest face of the same class by chance is unlikely (disgust is 1.5% of the
training faces), so the count is close to the number of near-copies; for happy and neutral it is
not. A model that memorises finds near-copies and one that generalises may not, so a class made of
them rewards memory rather than recognition. A higher share on val than on test makes val too
kind to memory.

It also counts, per class and split, the faces that are colour crops: the 924 small RGB crops that
came from another source than the 350x350 grayscale faces. Most rare-class faces are among them.
"""

import argparse
import time

import numpy as np
from _common import load_muxspace, record
from sklearn.neighbors import KNeighborsClassifier


def colour_crops(images):
    """Which RGB images (rows of h * w * 3 pixels) have colour: neighbouring channels differ by
    more than 1 grey level on average."""
    pixels = images.reshape(len(images), -1, 3).astype(np.int16)
    return np.abs(np.diff(pixels, axis=-1)).mean(axis=(1, 2)) > 1


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the first 1,000 training faces as the neighbours")
    args = parser.parse_args()
    begin = time.perf_counter()
    data, train, val, test = load_muxspace(48)
    X, y = data.data.reshape(len(data.data), -1), data.target
    neighbours = np.flatnonzero(train)[: 1000 if args.quick else None]
    nearest = KNeighborsClassifier(n_neighbors=1).fit(X[neighbours], y[neighbours])
    figures = {}
    for split, mask in (("val", val), ("test", test)):
        same = nearest.predict(X[mask]) == y[mask]
        for label in np.unique(y):
            of_class = y[mask] == label
            figures[f"{split} {label}"] = f"{same[of_class].sum()} of {of_class.sum()}"
    colour = colour_crops(load_muxspace(48, grayscale=False)[0].data)
    for split, mask in (("train", train), ("val", val), ("test", test)):
        for label in np.unique(y):
            of_class = mask & (y == label)
            figures[f"{split} {label} colour"] = f"{colour[of_class].sum()} of {of_class.sum()}"
    for label in np.unique(y):
        print(
            f"{label:>10}: nearest training face of the same class: val {figures[f'val {label}']:>10}, "
            f"test {figures[f'test {label}']:>10}; colour crops: "
            + ", ".join(f"{split} {figures[f'{split} {label} colour']}" for split in ("train", "val", "test"))
        )
    print(record("near_copies" + ("-quick" if args.quick else ""), figures, time.perf_counter() - begin))


if __name__ == "__main__":
    main()
