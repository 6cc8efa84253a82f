"""The shipped models on every labelled test set fersk can read here, side by side in one run.

Models: ``fer2013`` (FER2013 only, the published recipe) and ``fer2013-muxspace`` (fine-tuned on
FER2013 and the muxspace photos), each with its default test-time augmentation. Test sets: FER2013
PrivateTest, FER2013 test (PublicTest+PrivateTest, the figure most reports quote) and the muxspace test
photos end to end (detected and framed as ``fersk predict`` does, by ``load_test_faces``). Scored by
``cross_dataset_evaluation`` on the classes each pair shares (here all seven).

Writes ``results/cross_dataset.json`` (every pair's metrics and confusion matrix), the heatmap and the
confusion matrices as PNGs in ``docs/images/``, and prints the table and where each model sends the
faces of neutral, sad and fear.
"""

import argparse
import time

import numpy as np
from _common import HERE, SHARED_DATA, machine

import fersk
from fersk.evaluation import (
    cross_dataset_evaluation,
    cross_dataset_table,
    load_test_faces,
    plot_confusion_matrix,
    plot_cross_dataset,
    write_json,
)

MODELS = ("fer2013", "fer2013-muxspace")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="300 faces of each test set; writes to out/")
    args = parser.parse_args()
    begin = time.perf_counter()
    limit = 300 if args.quick else None
    fer = fersk.load_fer2013(SHARED_DATA / "fer2013")
    usage = np.asarray(fer.usage)
    private, test = usage == "PrivateTest", usage != "Training"
    mux = load_test_faces(SHARED_DATA / "muxspace")
    datasets = {
        "FER2013 PrivateTest": (fer.data[private][:limit], fer.target[private][:limit]),
        "FER2013 test": (fer.data[test][:limit], fer.target[test][:limit]),
        "muxspace test photos": (mux.data[:limit], mux.target[:limit]),
    }
    models = {name: fersk.load_pretrained(name) for name in MODELS}
    result = cross_dataset_evaluation(models, datasets)
    result["tta"] = {name: str(model.tta) for name, model in models.items()}
    result["command"] = "python benchmarks/bench_cross_dataset.py" + (" --quick" if args.quick else "")
    result["machine"] = machine()
    result["seconds"] = round(time.perf_counter() - begin)
    results, images = (
        (HERE / "out", HERE / "out") if args.quick else (HERE / "results", HERE.parent / "docs" / "images")
    )
    write_json(result, results / "cross_dataset.json")
    plot_cross_dataset(result, title="accuracy of the shipped models").savefig(images / "cross_dataset.png", dpi=110)
    for model in MODELS:
        for dataset in ("FER2013 test", "muxspace test photos"):
            slug = f"{model}_{dataset.split()[0].lower()}_confusion.png"
            plot_confusion_matrix(result["scores"][model][dataset], title=f"{model} on {dataset}").savefig(
                images / slug, dpi=110
            )
    print(cross_dataset_table(result))
    for model in MODELS:
        for dataset in datasets:
            print(f"\n{model} on {dataset}: " + "; ".join(_where_they_go(result["scores"][model][dataset])))


def _where_they_go(cell, classes=("neutral", "sad", "fear")):
    """For each class, the share predicted right and its two commonest wrong answers."""
    matrix = np.asarray(cell["confusion_matrix_normalized"])
    said = []
    for name in classes:
        if name not in cell["classes"]:
            continue
        row = matrix[cell["classes"].index(name)]
        wrong = sorted((v, c) for c, v in zip(cell["classes"], row) if c != name)[::-1][:2]
        said.append(
            f"{name} {row[cell['classes'].index(name)]:.0%} right, " + ", ".join(f"{v:.0%} {c}" for v, c in wrong)
        )
    return said


if __name__ == "__main__":
    main()
