"""How much of each muxspace class is near-copies of training images: for every val and test face,
whether its nearest training face (raw pixels, 48 px grayscale) carries the same label.

For a rare class, a nearest face of the same class by chance is unlikely (disgust is 1.5% of the
training faces), so the count is close to the number of near-copies; for happy and neutral it is
not. A model that memorises finds near-copies and one that generalises may not, so a class made of
them rewards memory rather than recognition. A higher share on val than on test makes val too
kind to memory.
"""

import argparse
import time

import numpy as np
from _common import load_muxspace, record
from sklearn.neighbors import KNeighborsClassifier


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
    for label in np.unique(y):
        print(f"{label:>10}: val {figures[f'val {label}']:>10}, test {figures[f'test {label}']:>10}")
    print(record("near_copies" + ("-quick" if args.quick else ""), figures, time.perf_counter() - begin))


if __name__ == "__main__":
    main()
