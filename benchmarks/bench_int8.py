"""int8 ONNX models (``export_onnx(quantize="int8")``) against float32, side by side in one run.

For the shipped ``fer2013`` model (with ``tta=None`` and with its default ``"crops"``), ``fersk
predict``'s default ``fer2013-muxspace`` and CNNClassifier's defaults (fitted for one epoch on
synthetic faces: the weights do not change the speed), each as PyTorch's ``predict_proba``, as a
float32 ONNX model and as an int8 one, all three run on the same FER2013 test faces:

- speed: throughput with 2 threads (best of ``--rounds`` interleaved rounds), images per second
  of CPU time with one thread (which other processes on a shared machine disturb far less than
  the wall clock), and single-image latency with one thread (median of ``--calls`` calls);
- what int8 costs: accuracy and macro-F1 of the float32 and int8 files on FER2013 PrivateTest and
  test (PublicTest+PrivateTest), and on the muxspace test photos (framed as ``fersk predict``
  frames them, by ``load_test_faces``) for the two-dataset model, with the share of faces whose
  label int8 changes; and the file sizes.

Every int8 model is calibrated on ``--calibration`` FER2013 Training faces drawn at random (seed
0), never on a test face; the CNN on its synthetic training faces. Run it with
``OMP_WAIT_POLICY=PASSIVE`` on a machine shared with other work.
"""

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from _common import SHARED_DATA, latency_ms, record, throughput
from sklearn.metrics import accuracy_score, f1_score

import fersk
from fersk.evaluation import load_test_faces


def onnx_files(model, folder, name, calibration):
    """``{"float32": path, "int8": path}``: the model exported both ways."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "float32": fersk.export_onnx(model, folder / f"{name}.onnx"),
            "int8": fersk.export_onnx(model, folder / f"{name}-int8.onnx", quantize="int8", calibration=calibration),
        }


def session(path, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    run = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"]).run
    return lambda X: run(None, {"images": np.asarray(X, dtype=np.float32)})[0]


def predict_in_batches(fn, X, batch_size=256):
    return np.concatenate([fn(X[start : start + batch_size]) for start in range(0, len(X), batch_size)])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=1000, help="faces per throughput round (default: 1000)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved throughput rounds (default: 3)")
    parser.add_argument("--calls", type=int, default=100, help="single-image calls per latency (default: 100)")
    parser.add_argument("--calibration", type=int, default=512, help="calibration faces (default: 512)")
    parser.add_argument(
        "--quick", action="store_true", help="300 faces of each test set, 1 round, 10 calls; writes to out/"
    )
    args = parser.parse_args()
    limit = 300 if args.quick else None
    if args.quick:
        args.images, args.rounds, args.calls = 300, 1, 10
    begin, load_before, threads = time.perf_counter(), os.getloadavg()[0], torch.get_num_threads()

    fer = fersk.load_fer2013(SHARED_DATA / "fer2013")
    usage = np.asarray(fer.usage)
    train = fer.data[usage == "Training"]
    calibration = train[np.random.default_rng(0).choice(len(train), args.calibration, replace=False)]
    test = np.flatnonzero(usage != "Training")[:: 24 if args.quick else 1]  # quick: both parts, 300 faces
    fer_test = (fer.data[test], fer.target[test])
    private = usage[test] == "PrivateTest"  # PrivateTest within test: scored from the same predictions
    mux = load_test_faces(SHARED_DATA / "muxspace")
    X = fer_test[0][: args.images]

    faces, labels = fersk.make_faces(600, image_size=48, random_state=0)
    cnn = fersk.CNNClassifier(max_epochs=1, validation_fraction=0, early_stopping=0, lr_patience=0, random_state=0)
    models = {
        "fer2013, tta=None": (fersk.load_pretrained("fer2013").set_params(tta=None), calibration),
        "fer2013, tta='crops' (its default)": (fersk.load_pretrained("fer2013"), calibration),
        "fer2013-muxspace (fersk predict's default, tta=None)": (
            fersk.load_pretrained("fer2013-muxspace"),
            calibration,
        ),
        "CNN (CNNClassifier defaults)": (cnn.fit(faces, labels), faces[:512]),
    }
    folder = Path(tempfile.mkdtemp())
    figures = {
        "faces per round": len(X),
        "calibration faces": args.calibration,
        "threads": threads,
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "(not set)"),
        "onnxruntime": ort.__version__,
        "load average at start": round(load_before, 2),
    }
    # name: (predict function with 2 threads, with 1 thread, share of the faces per round)
    rows = {}
    for name, (model, calibrate_on) in models.items():
        start = time.perf_counter()
        files = onnx_files(model, folder, f"model{len(rows)}", calibrate_on)
        figures[f"{name}: export seconds, float32 and int8"] = round(time.perf_counter() - start, 1)
        share = 0.1 if model.tta == "crops" else 1
        rows[f"{name}, PyTorch"] = (model.predict_proba, model.predict_proba, share)
        float_said = {}  # set: the float32 file's labels, which int8 is compared with
        for kind, path in files.items():
            figures[f"{name}: {kind} file MB"] = round(path.stat().st_size / 1e6, 2)
            rows[f"{name}, onnxruntime {kind}"] = (session(path, threads), session(path, 1), share)
            if name.startswith("CNN"):
                continue  # trained on synthetic faces: its accuracy on real ones says nothing
            sets = {"FER2013 test": fer_test}
            if "muxspace" in name:
                sets["muxspace test photos"] = (mux.data[:limit], mux.target[:limit])
            for set_name, (images, truth) in sets.items():
                said = model.classes_[predict_in_batches(session(path, threads), images).argmax(1)]
                parts = {set_name: slice(None)}
                if set_name == "FER2013 test":
                    parts["FER2013 PrivateTest"] = private
                for part, rows_of in parts.items():
                    key = f"{name}, {kind}: {part}"
                    figures[f"{key} accuracy"] = round(accuracy_score(truth[rows_of], said[rows_of]), 4)
                    figures[f"{key} macro-F1"] = round(f1_score(truth[rows_of], said[rows_of], average="macro"), 4)
                    print(f"{key}: {figures[f'{key} accuracy']:.2%}", flush=True)
                if kind == "float32":
                    float_said[set_name] = said
                else:
                    figures[f"{name}: {set_name}, labels int8 changes"] = round(
                        float(np.mean(said != float_said[set_name])), 4
                    )

    best = dict.fromkeys(rows, 0.0)
    for fn, _, _ in rows.values():
        fn(X[:64])  # warm up
    for _ in range(args.rounds):
        for name, (fn, _, share) in rows.items():
            best[name] = max(best[name], throughput(fn, X[: max(int(share * len(X)), 10)]))
            print(f"{name}: {best[name]:.0f} images/s", flush=True)
    torch.set_num_threads(1)
    per_cpu_second = dict.fromkeys(rows, 0.0)
    for _ in range(args.rounds):
        for name, (_, fn, share) in rows.items():
            images = X[: max(int(share * len(X)), 10)]
            per_cpu_second[name] = max(per_cpu_second[name], throughput(fn, images, clock=time.process_time))
    for name, (_, fn, _) in rows.items():
        figures[f"{name}: images/s, {threads} threads"] = round(best[name])
        figures[f"{name}: images per CPU-second, 1 thread"] = round(per_cpu_second[name])
        figures[f"{name}: latency ms, 1 thread"] = round(latency_ms(fn, X, args.calls), 2)
        print(name, figures[f"{name}: images per CPU-second, 1 thread"], figures[f"{name}: latency ms, 1 thread"])
    torch.set_num_threads(threads)
    figures["load average at end"] = round(os.getloadavg()[0], 2)
    print(record("int8" + ("-quick" if args.quick else ""), figures, time.perf_counter() - begin))


if __name__ == "__main__":
    main()
