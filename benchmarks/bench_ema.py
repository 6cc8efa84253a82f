"""What averaging the weights (``ema=``) does for CNNClassifier on muxspace: the same network, seed
and number of epochs, trained with and without an exponential moving average of its weights.

Both fits use the muxspace benchmark's settings (basic augmentation, sqrt-balanced class weights,
label smoothing 0.1, early stopping with patience 5 and the learning-rate schedule on val) and a
fixed number of epochs, not a time budget, so that a busy machine changes the times but not the
figures. The choice rests on val; test is reported beside it. The plot shows val accuracy per
epoch, where the raw weights jump between epochs and the average does not.
"""

import time

from _common import HERE, MUXSPACE_NEURAL, record, variant_study
from matplotlib.figure import Figure

import fersk
from fersk.evaluation import classification_metrics

VARIANTS = {"raw weights": None, "ema=0.995": 0.995}


def main():
    begin = time.perf_counter()
    data, X, y, val, test, epochs, quick = variant_study(__doc__, epochs=16)
    figures, curves = {"epochs": epochs}, {}
    for name, ema in VARIANTS.items():
        model = fersk.CNNClassifier(
            max_epochs=epochs,
            **MUXSPACE_NEURAL,
            ema=ema,
            random_state=0,
        )
        start = time.perf_counter()
        model.fit(X, y, X_val=data.data[val], y_val=data.target[val])
        seconds = time.perf_counter() - start
        for split, mask in (("val", val), ("test", test)):
            m = classification_metrics(data.target[mask], model.predict(data.data[mask]), labels=model.classes_)
            figures[f"{name}: {split} accuracy %"] = round(100 * m["accuracy"], 2)
            figures[f"{name}: {split} macro-F1"] = m["macro_f1"]
        figures[f"{name}: fit s"] = round(seconds)
        curves[name] = model.history_[:, "valid_acc"]
        print(name, {k: v for k, v in figures.items() if k.startswith(name)}, flush=True)
    fig = Figure(figsize=(5.5, 3.4))
    ax = fig.add_subplot()
    for name, accuracy in curves.items():
        ax.plot(range(1, len(accuracy) + 1), accuracy, marker="o", label=name)
    ax.set(xlabel="epoch", ylabel="val accuracy", title="CNNClassifier on muxspace, same seed")
    ax.legend()
    fig.tight_layout()
    out = HERE / "out" if quick else HERE.parent / "docs" / "images"
    out.mkdir(exist_ok=True)
    fig.savefig(out / "ema_val_accuracy.png", dpi=110)
    print(record("ema" + ("-quick" if quick else ""), figures, time.perf_counter() - begin))


if __name__ == "__main__":
    main()
