"""How hard make_faces is: HOG+SVM 4-fold accuracy at difficulty 0, 0.3 and 1."""

import argparse
import time

from _common import record
from sklearn.model_selection import StratifiedKFold, cross_val_score

from fersk import HOGSVMClassifier, make_faces


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="350 faces instead of 1,400")
    args = parser.parse_args()
    n = 350 if args.quick else 1400
    begin = time.perf_counter()
    figures = {"faces": n}
    for difficulty in (0.0, 0.3, 1.0):
        X, y = make_faces(n, difficulty=difficulty, random_state=0)
        cv = StratifiedKFold(4, shuffle=True, random_state=0)
        scores = cross_val_score(HOGSVMClassifier(random_state=0), X, y, cv=cv)
        figures[f"accuracy at {difficulty}"] = f"{scores.mean():.1%}"
    print(record("make_faces" + ("-quick" if args.quick else ""), figures, time.perf_counter() - begin))


if __name__ == "__main__":
    main()
