"""Faces in real photos, MTCNN against the LBP cascade, side by side in one run, on muxspace:

- detection rate: the share of the 2,735 test photos where each detector finds a face;
- end-to-end accuracy and macro-F1 of the shipped FER2013 model (``load_pretrained("fer2013")``,
  its default ``tta``) on the photos' face crops, for each detector and framing (aligned and
  framed like FER2013, or the box made square; each with the margin that scored best on val), on the
  old ``FaceCropper``'s crops (LBP box, margin 0.2), and on the whole photo, uncropped (as
  ``fersk predict`` reads a photo without ``--crop-faces``). A photo without a face found is
  classified whole, as ``FaceCropper(on_missing="whole")`` does;
- photos per second, detection and classification with the default settings, from the files, at
  the photos' own size (at most 128 px) and at 640x480; detection alone in this process and in two.

The framing (detector, alignment, margin) is chosen on the val photos by accuracy; test is
reported once, for the choice.
"""

import argparse
import csv
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import SHARED_DATA, record
from PIL import Image

import fersk
from fersk.evaluation import classification_metrics
from fersk.faces import Face, detect_faces_batch, extract_face, read_image

DETECTORS = ("mtcnn", "lbp")
MARGINS = (0.0, 0.1, 0.2, 0.3)
ROOT = SHARED_DATA / "muxspace"


def split(name, limit=None):
    """Paths, upright RGB images and canonical labels of one muxspace split."""
    with open(ROOT / "data" / "split.csv") as handle:
        rows = [row for row in csv.DictReader(handle) if row["split"] == name][:limit]
    paths = [ROOT / "images" / row["image"] for row in rows]
    labels = np.array([fersk.canonical_emotion(row["emotion"]) for row in rows])
    return paths, [read_image(p) for p in paths], labels


def crops(images, found, align, margin):
    """48x48 grey crops of each photo's largest face, or of its centre square where none was found."""
    rows = []
    for image, faces in zip(images, found):
        grey = image @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        if faces:
            crop = extract_face(grey, faces[0], 48, align=align, margin=margin)
        else:
            h, w = grey.shape
            side = min(h, w)
            whole = Face(((w - side) / 2, (h - side) / 2, (w + side) / 2, (h + side) / 2), 0.0)
            crop = extract_face(grey, whole, 48, align=False)
        rows.append(crop.reshape(-1))
    return np.stack(rows)


def whole_photos(paths):
    """Each photo resized to 48x48 grey, as ``fersk predict`` reads photos without ``--crop-faces``."""
    return np.stack(
        [np.asarray(Image.fromarray(read_image(p, grayscale=True)).resize((48, 48), Image.BILINEAR)) for p in paths]
    ).reshape(len(paths), -1)


def scores(model, X, y):
    m = classification_metrics(y, model.predict(X), labels=model.classes_)
    return {"accuracy %": round(100 * m["accuracy"], 2), "macro-F1": round(m["macro_f1"], 3)}


def framing_name(detector, align, margin):
    return f"{detector}, {'aligned' if align else 'box'}, margin {margin}"


def photos_per_second(model, paths, detector):
    start = time.perf_counter()
    model.predict(fersk.FaceCropper(detector=detector).transform([str(p) for p in paths]))
    return round(len(paths) / (time.perf_counter() - start), 1)


def vga_photos(paths, folder):
    """640x480 JPEGs, each with one muxspace photo scaled to 360 px high in the middle of a grey frame."""
    out = []
    for i, path in enumerate(paths):
        photo = Image.fromarray(read_image(path))
        photo = photo.resize((round(photo.width * 360 / photo.height), 360), Image.BICUBIC)
        frame = Image.new("RGB", (640, 480), (120, 120, 120))
        frame.paste(photo, ((640 - photo.width) // 2, 60))
        frame.save(Path(folder) / f"vga{i}.jpg", quality=90)
        out.append(Path(folder) / f"vga{i}.jpg")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="200 val and 200 test photos, margins 0 and 0.3")
    args = parser.parse_args()
    begin = time.perf_counter()
    limit, margins = (200, (0.0, 0.3)) if args.quick else (None, MARGINS)
    model = fersk.load_pretrained("fer2013")
    figures = {"model tta": model.tta}
    data = {name: split(name, limit) for name in ("val", "test")}

    # detection, on both cores
    found = {}
    for detector in DETECTORS:
        for name, (_, images, _) in data.items():
            start = time.perf_counter()
            found[detector, name] = detect_faces_batch(images, detector=detector, n_jobs=2)
            seconds = time.perf_counter() - start
            rate = np.mean([len(f) > 0 for f in found[detector, name]])
            figures[f"{name} detection %: {detector}"] = round(100 * float(rate), 2)
            if name == "test":
                many = np.mean([len(f) > 1 for f in found[detector, name]])
                figures[f"test photos with 2+ faces %: {detector}"] = round(100 * float(many), 2)
                figures[f"test detection photos/s (2 processes): {detector}"] = round(len(images) / seconds, 1)
        print({k: v for k, v in figures.items() if detector in k}, flush=True)

    # the framing, chosen on val
    _, val_images, y_val = data["val"]
    val = {}
    for detector in DETECTORS:
        for align in (True, False):
            for margin in margins:
                name = framing_name(detector, align, margin)
                val[name] = scores(model, crops(val_images, found[detector, "val"], align, margin), y_val)
                print("val", name, val[name], flush=True)
    val["whole photo"] = scores(model, whole_photos(data["val"][0]), y_val)
    figures["val"] = val

    # test, once, for the choice of each detector and alignment, the old cropper and the whole photo
    test_paths, test_images, y_test = data["test"]
    test = {}
    for detector in DETECTORS:
        for align in (True, False):
            margin = max(margins, key=lambda m: val[framing_name(detector, align, m)]["accuracy %"])
            name = framing_name(detector, align, margin)
            test[name] = scores(model, crops(test_images, found[detector, "test"], align, margin), y_test)
            print("test", name, test[name], flush=True)
    test["lbp, box, margin 0.2 (the old FaceCropper)"] = scores(
        model, crops(test_images, found["lbp", "test"], False, 0.2), y_test
    )
    test["whole photo"] = scores(model, whole_photos(test_paths), y_test)
    figures["test"] = test
    best = max((k for k in val if k != "whole photo"), key=lambda k: val[k]["accuracy %"])
    figures["chosen on val"] = best

    # speed with the default settings, from the files
    n = 30 if args.quick else 300
    sample = test_paths[:n]
    small = [read_image(p) for p in sample]
    for n_jobs in (None, 2):
        start = time.perf_counter()
        detect_faces_batch(small, n_jobs=n_jobs)
        label = "this process" if n_jobs is None else "2 processes, started afresh"
        figures[f"muxspace detection photos/s, mtcnn, {label}"] = round(n / (time.perf_counter() - start), 1)
    with tempfile.TemporaryDirectory() as folder:
        vga = vga_photos(sample[: n // 3], folder)
        for detector in DETECTORS:
            figures[f"muxspace photos/s (detect + classify): {detector}"] = photos_per_second(model, sample, detector)
            figures[f"640x480 photos/s (detect + classify): {detector}"] = photos_per_second(model, vga, detector)
        found_vga = detect_faces_batch([read_image(p) for p in vga])
        figures["640x480 detection %: mtcnn"] = round(100 * float(np.mean([len(f) > 0 for f in found_vga])), 1)
    start = time.perf_counter()
    model.predict(whole_photos(sample))
    figures["muxspace photos/s, whole photo (classify only)"] = round(n / (time.perf_counter() - start), 1)
    print(record("detection" + ("-quick" if args.quick else ""), figures, time.perf_counter() - begin))


if __name__ == "__main__":
    main()
