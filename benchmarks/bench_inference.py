"""Inference speed, side by side in one run: throughput over a batch of faces and single-image latency.

- The shipped FER2013 model with its default test-time augmentation (``tta="crops"``, ten views),
  which is the speed a user of ``load_pretrained("fer2013")`` sees, and with ``tta=None``;
- the same through onnxruntime, from ``fersk.export_onnx`` (preprocessing and views in the graph);
- CNNClassifier with its defaults (FERNet, 48x48 grayscale), and for comparison HOG+SVM and a
  resnet18 TransferClassifier, each fitted for one epoch on synthetic faces (the weights do not
  change the speed);
- beside each network, a plain ``module(x)`` loop over the same tensors, already scaled and in
  the network's memory format, under ``torch.inference_mode``: the limit for PyTorch.

Throughput is the best of ``--rounds`` interleaved rounds over ``--images`` FER2013 test faces
(the machine is shared: the best round is the one least disturbed); latency is the median of
single-image calls. With one thread, the same for the shipped model and the CNN, and their
images per second of CPU time, which other processes on a shared machine disturb far less than
the wall clock; beside them the plain loop with BatchNorm folded, as ``predict_proba`` runs it.
The floating-point work per image and the machine's load are recorded too. On a machine shared
with other work, run it with ``OMP_WAIT_POLICY=PASSIVE``: PyTorch's OpenMP threads then sleep
while they wait, instead of spinning on the core the other thread needs.

``--device cuda`` runs the same rows on a GPU (``results/inference-cuda.json``), with onnxruntime on
its CUDA provider where the installed onnxruntime has one (on its CPU provider otherwise, and says
so); the one-thread rows are left out there. Each network predicts with its default ``batch_size``
(64) unless ``--batch-size`` says otherwise (``results/inference-cuda-batch1024.json``, say).
"""

import argparse
import os
import tempfile
import time
import warnings

import numpy as np
import onnxruntime as ort
import torch
from _common import SHARED_DATA, device_name, latency_ms, record, throughput
from torch.utils.flop_counter import FlopCounterMode

import fersk
from fersk.backbones import fold_batchnorm


def module_loop(model, fold=False):
    """``module(x)`` over batches of scaled tensors on the network's device: no validation, no views,
    no softmax; BatchNorm folded into the convolutions with ``fold``."""
    net = fold_batchnorm(model.module_) if fold else model.module_.eval()
    batch_size = model.batch_size

    def run(X):
        x = torch.as_tensor(model._to_tensors(X)).to(model.device_).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            for start in range(0, len(x), batch_size):
                net(x[start : start + batch_size])

    return run


def onnx_session(model, tta, path, threads, provider="CPUExecutionProvider"):
    saved = model.tta
    model.set_params(tta=tta)
    try:
        fersk.export_onnx(model, path)
    finally:
        model.set_params(tta=saved)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(path, options, providers=[provider])
    return lambda X: session.run(None, {"images": np.asarray(X, dtype=np.float32)})[0]


def gflop_per_image(model):
    h, w, c = model.image_shape_
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        model.module_.eval()(torch.zeros(1, c, h, w, device=model.device_))
    return counter.get_total_flops() / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=1000, help="faces per throughput round (default: 1000)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved throughput rounds (default: 3)")
    parser.add_argument("--calls", type=int, default=100, help="single-image calls per latency (default: 100)")
    parser.add_argument("--quick", action="store_true", help="100 faces, 1 round, 10 calls")
    parser.add_argument("--device", default="cpu", help="'cpu' (default) or 'cuda'")
    parser.add_argument("--batch-size", type=int, default=64, help="the networks' batch_size (default: 64, theirs)")
    args = parser.parse_args()
    if args.quick:
        args.images, args.rounds, args.calls = 100, 1, 10
    begin = time.perf_counter()
    load_before = os.getloadavg()[0]
    threads = torch.get_num_threads()
    gpu = args.device.startswith("cuda")
    provider = "CUDAExecutionProvider" if gpu else "CPUExecutionProvider"
    if provider not in ort.get_available_providers():
        print(f"this onnxruntime has no {provider} ({ort.get_available_providers()}): its rows run on the CPU")
        provider = "CPUExecutionProvider"
    X = fersk.load_fer2013(SHARED_DATA / "fer2013", subset="test").data[: args.images]
    faces, labels = fersk.make_faces(600, image_size=48, random_state=0)
    on_device = dict(device=args.device, batch_size=args.batch_size)
    neural = dict(max_epochs=1, validation_fraction=0, early_stopping=0, lr_patience=0, random_state=0, **on_device)

    shipped = fersk.load_pretrained("fer2013", device=args.device).set_params(batch_size=args.batch_size)
    tta = shipped.tta
    shipped_none = fersk.load_pretrained("fer2013", device=args.device).set_params(tta=None, **on_device)
    default = fersk.load_pretrained("fer2013-muxspace", device=args.device).set_params(batch_size=args.batch_size)
    cnn = fersk.CNNClassifier(**neural).fit(faces, labels)
    resnet = fersk.TransferClassifier("resnet18", weights=None, **neural).fit(faces, labels)
    hog = fersk.HOGSVMClassifier(random_state=0).fit(faces, labels)
    folder = tempfile.mkdtemp()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ort_tta = onnx_session(shipped, tta, f"{folder}/tta.onnx", threads, provider)
        ort_none = onnx_session(shipped, None, f"{folder}/none.onnx", threads, provider)
        ort_default = onnx_session(default, default.tta, f"{folder}/default.onnx", threads, provider)
        ort_none_1 = onnx_session(shipped, None, f"{folder}/none.onnx", 1)
    # name: (predict function, share of the faces per round: the ten-view rows take a tenth)
    rows = {
        f"shipped model, tta={tta!r} (its default)": (shipped.predict_proba, 0.1),
        f"shipped model, tta={tta!r}, onnxruntime": (ort_tta, 0.1),
        "shipped model, tta=None": (shipped_none.predict_proba, 1),
        "shipped model, tta=None, onnxruntime": (ort_none, 1),
        "shipped model, module loop (the limit)": (module_loop(shipped), 1),
        f"fersk predict's default model (fer2013-muxspace), tta={default.tta!r} (its default)": (
            default.predict_proba,
            1,
        ),
        "fersk predict's default model, onnxruntime": (ort_default, 1),
        "fersk predict's default model, module loop (the limit)": (module_loop(default), 1),
        "CNN": (cnn.predict_proba, 1),
        "CNN, module loop (the limit)": (module_loop(cnn), 1),
        "resnet18": (resnet.predict_proba, 1),
        "resnet18, module loop (the limit)": (module_loop(resnet), 1),
        "HOG+SVM": (hog.predict_proba, 1),
    }
    best = dict.fromkeys(rows, 0.0)
    for fn, _ in rows.values():
        fn(X[:64])  # warm up
    for _ in range(args.rounds):
        for name, (fn, share) in rows.items():
            best[name] = max(best[name], throughput(fn, X[: max(int(share * len(X)), 10)]))
            print(f"{name}: {best[name]:.0f} images/s", flush=True)
    figures = {
        "device": device_name(shipped.device_),
        "batch_size": args.batch_size,
        "onnxruntime provider": provider,
        "faces": len(X),
        "threads": threads,
        # PASSIVE: waiting OpenMP threads sleep instead of spinning, which on a machine shared with
        # other work keeps a thread from spinning on the core its sibling needs
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "(not set)"),
        "load average at start": round(load_before, 2),
    }
    for name, (fn, _) in rows.items():
        figures[f"{name}: images/s"] = round(best[name])
        figures[f"{name}: latency ms"] = round(latency_ms(fn, X, args.calls), 2)
        print(name, figures[f"{name}: latency ms"], "ms", flush=True)
    if gpu:
        name = "inference-cuda" + ("" if args.batch_size == 64 else f"-batch{args.batch_size}")
        return finish(figures, begin, name + ("-quick" if args.quick else ""), (shipped, cnn, resnet))
    # one thread: single-image latency without waiting on a second thread, and throughput per
    # second of CPU time, which other processes on a shared machine disturb far less than the clock
    torch.set_num_threads(1)
    single = {
        "shipped model, tta=None": shipped_none.predict_proba,
        "shipped model, tta=None, onnxruntime": ort_none_1,
        "shipped model, module loop (the limit)": module_loop(shipped),
        "shipped model, module loop, BatchNorm folded": module_loop(shipped, fold=True),
        "CNN": cnn.predict_proba,
        "CNN, module loop (the limit)": module_loop(cnn),
    }
    per_cpu_second = dict.fromkeys(single, 0.0)
    for _ in range(args.rounds):
        for name, fn in single.items():
            per_cpu_second[name] = max(per_cpu_second[name], throughput(fn, X, clock=time.process_time))
    for name, fn in single.items():
        figures[f"{name}: images per CPU-second, 1 thread"] = round(per_cpu_second[name])
        figures[f"{name}: latency ms, 1 thread"] = round(latency_ms(fn, X, args.calls), 2)
        print(name, figures[f"{name}: images per CPU-second, 1 thread"], figures[f"{name}: latency ms, 1 thread"])
    torch.set_num_threads(threads)
    finish(figures, begin, "inference" + ("-quick" if args.quick else ""), (shipped, cnn, resnet))


def finish(figures, begin, name, models):
    """Add each network's floating-point work and the machine's load, and record the figures."""
    for label, model in zip(("shipped model", "CNN", "resnet18"), models):
        figures[f"{label}: GFLOP per image"] = round(gflop_per_image(model), 3)
    figures["load average at end"] = round(os.getloadavg()[0], 2)
    print(record(name, figures, time.perf_counter() - begin))


if __name__ == "__main__":
    main()
