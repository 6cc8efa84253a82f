import csv
import json
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, features
from skimage.data import astronaut
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.utils import Bunch

import fersk
from fersk import HOGSVMClassifier, make_faces
from fersk.cli import build_parser, main
from fersk.datasets import train_test_parts

TINY = ["--n-samples", "140", "--image-size", "24", "--epochs", "2", "--backbone", "test_tiny", "--quiet"]


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "cnn.fersk"
    assert main(["train", "--model", "cnn", "--out", str(path), *TINY]) == 0
    return path


@pytest.fixture(scope="module")
def image_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("images")
    X, _ = make_faces(3, image_size=40, random_state=5)  # a different size: predict resizes
    paths = []
    for i, x in enumerate(X):
        paths.append(folder / f"face{i}.png")
        Image.fromarray(x.reshape(40, 40).astype(np.uint8)).save(paths[-1])
    photo = folder / "astronaut.jpg"
    Image.fromarray(astronaut()).save(photo)
    return paths, photo


def tiny_faces():
    """The training and test parts of the synthetic faces that ``TINY`` describes, drawn as the CLI draws them."""
    X, y = make_faces(140, image_size=24, difficulty=0.3, random_state=0)  # TINY, and the CLI's defaults
    *parts, _ = train_test_parts(Bunch(data=X, target=y), random_state=0)
    return parts


@pytest.mark.slow
def test_compare_writes_a_full_report(tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["compare", "--out", str(out), *TINY]) == 0
    printed = capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["models"]) == {"HOG+SVM", "CNN (from scratch)", "Transfer (test_tiny)"}
    report = (out / "report.md").read_text()
    assert "| model | accuracy | balanced accuracy | macro-F1 | training time |" in report
    for name, result in metrics["models"].items():
        counts = np.array(result["confusion_matrix"])
        assert counts.sum() == metrics["n_test"] == 28
        assert result["accuracy"] == pytest.approx(np.trace(counts) / 28, abs=1e-4)
        # the training time as measured, whatever the machine's speed: a HOG+SVM fit can take under 0.05 s
        seconds = result["fit_seconds"]
        assert isinstance(seconds, float) and math.isfinite(seconds) and seconds >= 0
        # and the report's table and the printed one show this model's figures, its time rounded for reading
        accuracies = f"{result['accuracy']:.2%} | {result['balanced_accuracy']:.2%}"
        figures = f"| {name} | {accuracies} | {result['macro_f1']:.3f} | "
        (row,) = [line for line in report.splitlines() if line.startswith(figures)]
        assert row in printed
        shown = re.fullmatch(r"([0-9.e+-]+) s \|", row[len(figures) :])
        assert shown and float(shown[1]) == pytest.approx(seconds, rel=0.05), row
    # the HOG+SVM figures are those of the same model fitted on the same part of the same faces, as recomputed here
    X_train, y_train, X_test, y_test = tiny_faces()
    hog = HOGSVMClassifier(random_state=0).fit(X_train, y_train)
    predicted = hog.predict(X_test)
    result = metrics["models"]["HOG+SVM"]
    assert result["confusion_matrix"] == confusion_matrix(y_test, predicted, labels=hog.classes_).tolist()
    assert result["accuracy"] == pytest.approx(accuracy_score(y_test, predicted), abs=1e-4)
    assert result["macro_f1"] == pytest.approx(f1_score(y_test, predicted, average="macro"), abs=1e-3)
    assert "## Per-class F1" in report and "| happy |" in report
    embedded = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report)
    assert "gradcam-cnn-from-scratch.png" in embedded and "comparison.png" in embedded
    for name in embedded:
        assert (out / name).stat().st_size > 1000, name


def test_compare_chooses_models_and_rejects_unknown(tmp_path, capsys):
    assert main(["compare", "--models", "hog", "--out", str(tmp_path), *TINY]) == 0
    assert list(json.loads((tmp_path / "metrics.json").read_text())["models"]) == ["HOG+SVM"]
    assert main(["compare", "--models", "svm", "--out", str(tmp_path), *TINY]) == 2
    assert "--models takes" in capsys.readouterr().err


def test_train_then_evaluate(model_file, tmp_path, capsys):
    out = tmp_path / "evaluation"
    assert main(["evaluate", str(model_file), "--out", str(out), *TINY[:4]]) == 0
    printed = capsys.readouterr().out
    assert "| class | support | precision | recall | F1 |" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_samples"] == 28 and metrics["model"] == str(model_file)
    # the figures are those of the saved model on the test part of the same faces, recomputed here
    *_, X_test, y_test = tiny_faces()
    model = fersk.load(model_file)
    predicted = model.predict(X_test)
    assert metrics["confusion_matrix"] == confusion_matrix(y_test, predicted, labels=model.classes_).tolist()
    assert metrics["accuracy"] == pytest.approx(accuracy_score(y_test, predicted), abs=1e-4)
    assert metrics["macro_f1"] == pytest.approx(f1_score(y_test, predicted, average="macro"), abs=1e-3)
    assert f"| {model_file} | {metrics['accuracy']:.2%} | {metrics['balanced_accuracy']:.2%} |" in printed
    assert {"confusion.png", "class-metrics.png", "curves.png"} <= {p.name for p in out.iterdir()}


def test_evaluate_several_models_on_several_datasets(model_file, tmp_path, capsys):
    hog_file = tmp_path / "hog.fersk"
    assert main(["train", "--model", "hog", "--out", str(hog_file), *TINY]) == 0
    X, y = make_faces(140, image_size=24, random_state=3)
    crops = tmp_path / "crops"  # class folders of face crops
    for i, (x, label) in enumerate(zip(X[:70], y[:70])):
        (crops / label).mkdir(parents=True, exist_ok=True)
        Image.fromarray(x.reshape(24, 24).astype(np.uint8)).save(crops / label / f"{i}.png")
    labeled = tmp_path / "labeled"  # images/ and a label CSV with a class no model knows
    (labeled / "images").mkdir(parents=True)
    y_other = np.where(y[70:] == "fear", "contempt", y[70:])
    with open(labeled / "labels.csv", "w") as f:
        f.write("image,emotion\n")
        for i, (x, label) in enumerate(zip(X[70:], y_other)):
            Image.fromarray(x.reshape(24, 24).astype(np.uint8)).save(labeled / "images" / f"{i}.png")
            f.write(f"{i}.png,{label}\n")
    out = tmp_path / "cross"
    argv = ["evaluate", str(model_file), str(hog_file), "--data", str(crops), "--data", str(labeled)]
    assert main([*argv, "--out", str(out), "--seed", "0"]) == 0
    printed = capsys.readouterr().out
    result = json.loads((out / "cross-dataset.json").read_text())
    assert result["models"] == [str(model_file), str(hog_file)] and result["datasets"] == ["crops", "labeled"]
    cell = result["scores"][str(hog_file)]["labeled"]
    assert list(cell["excluded"]) == ["contempt"] and "fear" in cell["not_in_dataset"]
    assert cell["n_samples"] + cell["excluded"]["contempt"] == 14  # the test part of a stratified 80/20 split
    assert f"| {hog_file} | {result['scores'][str(hog_file)]['crops']['accuracy']:.2%} /" in printed
    assert "images labelled contempt (the model does not know it)" in printed
    assert (out / "cross-dataset-accuracy.png").stat().st_size > 1000


def test_predict_into_a_pipe_its_reader_left_stops_quietly(model_file, image_files, tmp_path):
    # fersk predict photos/ | head: the reader closes the pipe early, and the command said
    # "fersk predict: [Errno 32] Broken pipe" with exit status 2; then exited 1, as for a skipped file
    paths, _ = image_files
    command = "import sys; from fersk.cli import main; sys.exit(main(sys.argv[1:]))"
    rows, drawn = tmp_path / "rows.csv", tmp_path / "drawn"
    outputs = ["--detector", "none", "--csv", str(rows), "--annotate", str(drawn)]
    process = subprocess.Popen(
        [sys.executable, "-c", command, "predict", *map(str, paths), "--model", str(model_file), *outputs],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()  # the reader leaves before the first row
    _, err = process.communicate(timeout=600)  # a guard against a hang, not a measure of time
    assert "Broken pipe" not in err.decode() and "Traceback" not in err.decode()
    assert process.returncode == 141  # 128 + SIGPIPE, as a shell reports a command whose reader left
    # the files it was asked for are written before the rows are printed, so they are not lost with them
    assert rows.is_file() and len(rows.read_text().splitlines()) == len(paths) + 1
    assert sorted(p.name for p in drawn.iterdir()) == sorted(p.name for p in paths)


def test_predict_prints_and_writes_probabilities(model_file, image_files, tmp_path, capsys):
    paths, photo = image_files
    out = tmp_path / "predictions.csv"
    assert main(["predict", *map(str, paths), "--model", str(model_file), "--csv", str(out)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split("\t")[:3] == ["image", "face", "face_found"] and len(lines) == 4
    with open(out) as f:
        rows = list(csv.DictReader(f))
    assert [r["image"] for r in rows] == [str(p) for p in paths]  # one row each: synthetic faces, drawn
    classes = [str(c) for c in fersk.load(model_file).classes_]
    for row in rows:
        probabilities = np.array([float(row[c]) for c in classes])
        assert probabilities.sum() == pytest.approx(1.0, abs=1e-3)
        assert float(row[row["predicted"]]) == pytest.approx(probabilities.max())
    with pytest.raises(SystemExit):  # --crop-faces was deprecated, then removed: predict finds every face
        main(["predict", str(photo), "--crop-faces", "--model", str(model_file)])
    assert "unrecognized arguments: --crop-faces" in capsys.readouterr().err


@pytest.fixture(scope="module")
def people(tmp_path_factory):
    """Two photos: two people (the astronaut, and again at half size) and a blank wall."""
    folder = tmp_path_factory.mktemp("people")
    small = np.pad(astronaut()[::2, ::2], ((0, 256), (0, 256), (0, 0)), mode="edge")
    two, blank = folder / "two.png", folder / "blank.png"
    Image.fromarray(np.concatenate([astronaut(), small], axis=1)).save(two)
    Image.fromarray(np.full((128, 128, 3), 200, np.uint8)).save(blank)
    return two, blank


def test_predict_gives_a_row_per_face_and_one_for_a_photo_without(model_file, people, tmp_path, capsys):
    two, blank = people
    out, drawn = tmp_path / "faces.csv", tmp_path / "annotated"
    argv = ["predict", str(two), str(blank), "--model", str(model_file), "--csv", str(out), "--annotate", str(drawn)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    printed = [line.split("\t") for line in captured.out.strip().splitlines()]
    assert [row[:3] for row in printed] == [
        ["image", "face", "face_found"],
        [str(two), "0", "True"],
        [str(two), "1", "True"],
        [str(blank), "-", "False"],
    ]
    assert "photos: 2, faces: 2, photos without a face: 1 (classified whole)" in captured.err
    with open(out) as f:
        rows = list(csv.DictReader(f))
    assert [(r["image"], r["face"], r["face_found"]) for r in rows] == [
        (str(two), "0", "True"),
        (str(two), "1", "True"),
        (str(blank), "", "False"),
    ]
    boxes = [[float(r[k]) for k in ("left", "top", "right", "bottom")] for r in rows[:2]]
    assert np.allclose(boxes[0], [177, 59, 268, 175], atol=8) and np.allclose(boxes[1][0], 512 + 177 / 2, atol=6)
    assert rows[2]["left"] == "" and rows[2]["predicted"]  # no box, but the whole photo is classified

    before = np.asarray(Image.open(two).convert("RGB"))
    after = np.asarray(Image.open(drawn / "two.png"))
    changed = np.any(before != after, axis=2)
    left, top, _, bottom = (round(v) for v in boxes[0])
    assert changed[top + 10 : bottom - 10, left].all() and not changed[300:].any()
    assert Image.open(drawn / "blank.png").size == (256, 256)


def test_predict_detector_none_takes_each_image_as_the_face(model_file, image_files, capsys):
    paths, _ = image_files
    assert main(["predict", str(paths[0]), "--model", str(model_file), "--detector", "none"]) == 0
    captured = capsys.readouterr()
    header, row = (line.split("\t") for line in captured.out.strip().splitlines())
    values = dict(zip(header, row))
    assert (values["face"], values["face_found"], values["left"], values["right"]) == ("0", "True", "0.0", "40.0")
    assert "photos: 1, faces: 1, photos without a face: 0" in captured.err
    model = fersk.load(model_file)
    x = np.asarray(Image.open(paths[0]).convert("L").resize((24, 24), Image.Resampling.BILINEAR), np.float32)
    expected = model.predict_proba(x.reshape(1, -1))[0]
    assert [float(values[str(c)]) for c in model.classes_] == pytest.approx(expected, abs=1e-4)


def test_predict_refuses_an_unreadable_photo_in_one_line(model_file, tmp_path, capsys):
    (tmp_path / "notes.jpg").write_text("not a photo")
    assert main(["predict", str(tmp_path / "notes.jpg"), "--model", str(model_file)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("fersk predict:") and "notes.jpg" in err and len(err.splitlines()) == 1


def test_predict_takes_folders_and_skips_a_file_it_cannot_read_naming_it(model_file, image_files, tmp_path, capsys):
    paths, _ = image_files
    folder = tmp_path / "photos"
    (folder / "more").mkdir(parents=True)
    for name, path in zip(["b.png", "a.png", "more/c.png"], paths):
        (folder / name).write_bytes(path.read_bytes())
    (folder / "notes.txt").write_text("not a photo")
    (folder / "broken.jpg").write_text("not a photo either")
    (folder / "._a.png").write_bytes(b"\x00\x05\x16\x07")  # macOS's record of a.png's attributes
    drawn = folder / "drawn"  # inside the folder: a second run must not take last run's drawings for photos
    argv = ["predict", str(folder), "--model", str(model_file), "--detector", "none", "--annotate", str(drawn)]
    for _ in range(2):
        assert main(argv) == 1  # the others' results, and a status that says not all went well
        captured = capsys.readouterr()
        rows = [line.split("\t")[0] for line in captured.out.strip().splitlines()[1:]]
        assert rows == [str(folder / "a.png"), str(folder / "b.png"), str(folder / "more" / "c.png")]
        assert f"fersk predict: skipped {folder / 'broken.jpg'}: not an image" in captured.err
        assert (
            f"fersk predict: {folder}: left out 2 file(s) that are hidden or not images by their suffix: "
            "._a.png, notes.txt" in captured.err
        )
        assert "photos: 3, faces: 3, photos without a face: 0, photos that cannot be read: 1 (skipped)" in captured.err
        assert sorted(p.name for p in drawn.iterdir()) == ["a.png", "b.png", "c.png"]
    # the photos' own folder, refused before the work, the photos untouched
    before = (folder / "a.png").read_bytes()
    assert main([*argv[:-1], str(folder)]) == 2
    captured = capsys.readouterr()
    assert "which their annotated copies would overwrite: choose another folder" in captured.err and not captured.out
    assert (folder / "a.png").read_bytes() == before


def test_predict_names_an_iphone_photo_it_cannot_read_and_what_to_install(
    model_file, image_files, tmp_path, monkeypatch, capsys
):
    # a folder of an iPhone's photos: the .HEIC files were left out "by their suffix", and one given
    # by name was "not an image"; a camera's .JPG and names with spaces and accents are photos too
    from fersk.datasets import _decode

    paths, _ = image_files
    folder = tmp_path / "holiday"
    folder.mkdir()
    (folder / "Beach day é.JPG").write_bytes(paths[0].read_bytes())
    avif = features.check("avif")  # Pillow 11.3 and later read an Android phone's AVIF (was left out)
    if avif:
        Image.open(paths[1]).save(folder / "pixel.avif")
    (folder / "IMG_0001.HEIC").write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200))
    argv = ["predict", str(folder), "--model", str(model_file), "--detector", "none"]
    monkeypatch.setattr(_decode, "_heif_plugin", lambda: None)  # whatever this machine has installed
    assert main(argv) == 1
    captured = capsys.readouterr()
    rows = [line.split("\t")[0] for line in captured.out.splitlines()[1:]]
    assert rows == [str(folder / "Beach day é.JPG")] + [str(folder / "pixel.avif")] * avif
    assert f"fersk predict: skipped {folder / 'IMG_0001.HEIC'}: a HEIC/HEIF photo" in captured.err
    assert "pip install pi-heif" in captured.err and "left out" not in captured.err
    assert main(["predict", str(folder / "IMG_0001.HEIC"), "--model", str(model_file)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"fersk predict: cannot read image {folder / 'IMG_0001.HEIC'}: a HEIC/HEIF photo")
    assert "pip install pi-heif" in err and len(err.splitlines()) == 1


def test_predict_says_it_analysed_the_first_frame_of_an_animation(model_file, image_files, tmp_path, capsys):
    paths, _ = image_files
    frames = [Image.open(path) for path in paths]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    frames[0].save(tmp_path / "still.gif")
    argv = ["predict", str(tmp_path / "anim.gif"), str(tmp_path / "still.gif"), "--model", str(model_file)]
    assert main([*argv, "--detector", "none"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 3  # the header, one row per file
    said = f"fersk predict: {tmp_path / 'anim.gif'} is an animation of 3 frames: its first is analysed; "
    assert said + f"`fersk video {tmp_path / 'anim.gif'}` analyses them all" in captured.err
    assert "still.gif is an animation" not in captured.err


def test_predict_writes_a_photo_named_in_any_script_to_its_csv_whatever_the_locale(model_file, image_files, tmp_path):
    # in an ASCII (or Windows cp1252) locale, --csv failed after all the work: "'ascii' codec can't encode"
    paths, _ = image_files
    photo = tmp_path / "été 日本.png"
    photo.write_bytes(paths[0].read_bytes())
    env = {**os.environ, "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0", "LC_ALL": "C"}
    command = "import sys; from fersk.cli import main; sys.exit(main(sys.argv[1:]))"
    argv = [str(photo), "--model", str(model_file), "--detector", "none", "--csv", str(tmp_path / "rows.csv")]
    done = subprocess.run([sys.executable, "-c", command, "predict", *argv], env=env, capture_output=True)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    with open(tmp_path / "rows.csv", encoding="utf-8") as handle:
        assert [row["image"] for row in csv.DictReader(handle)] == [str(photo)]
    assert done.stdout.decode().splitlines()[1].startswith(f"{photo}\t")


def test_predict_finds_the_small_faces_of_a_large_group_photo_with_a_larger_detect_size(model_file, tmp_path, capsys):
    # a wide photo is searched shrunk to 1280 pixels, and a face 28 pixels high in 4000 was missed,
    # with no way to ask for more from the command line
    photo = np.full((600, 4000, 3), 120, np.uint8)
    photo[300:360, 2000:2050] = np.asarray(Image.fromarray(astronaut()[20:250, 130:320]).resize((50, 60)))
    Image.fromarray(photo).save(tmp_path / "group.png")
    argv = ["predict", str(tmp_path / "group.png"), "--model", str(model_file)]
    assert main(argv) == 0
    assert capsys.readouterr().out.splitlines()[1].split("\t")[2] == "False"  # no face at the default size
    assert main([*argv, "--detect-size", "2560"]) == 0
    row = capsys.readouterr().out.splitlines()[1].split("\t")
    assert row[2] == "True" and 1990 < float(row[3]) < 2050
    assert main([*argv, "--detect-size", "2560", "--detector", "lbp"]) == 2
    assert "--detect-size sets how large mtcnn searches a photo" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build_parser().parse_args([*argv, "--detect-size", "10"])
    assert "48 or more" in capsys.readouterr().err


def test_predict_sends_a_video_to_the_video_command(model_file, tmp_path, capsys):
    (tmp_path / "clip.mp4").write_bytes(b"")
    assert main(["predict", str(tmp_path / "clip.mp4"), "--model", str(model_file)]) == 2
    assert f"is a video: find, follow and classify its faces with `fersk video {tmp_path / 'clip.mp4'}`" in (
        capsys.readouterr().err
    )


def test_predict_creates_the_folder_of_its_csv_before_the_work(model_file, image_files, tmp_path, capsys):
    paths, _ = image_files
    out = tmp_path / "new" / "folder" / "faces.csv"
    assert main(["predict", str(paths[0]), "--model", str(model_file), "--detector", "none", "--csv", str(out)]) == 0
    with open(out) as f:
        assert [r["image"] for r in csv.DictReader(f)] == [str(paths[0])]
    assert f"rows written to {out}" in capsys.readouterr().err


def _clip(path, n_frames=2):
    """A video of ``n_frames`` grey 64x64 frames."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for _ in range(n_frames):
            out.mux(stream.encode(av.VideoFrame.from_ndarray(np.full((64, 64, 3), 90, np.uint8), format="rgb24")))
        out.mux(stream.encode())
    return path


def test_an_output_path_of_the_wrong_kind_is_one_line_not_a_traceback(model_file, image_files, tmp_path, capsys):
    paths, _ = image_files
    a_file = tmp_path / "taken.txt"
    a_file.write_text("")
    base = ["--model", str(model_file), "--detector", "none"]
    for argv, said in [
        (["predict", str(paths[0]), *base, "--csv", str(tmp_path)], f"--csv {tmp_path} is a folder"),
        (
            ["predict", str(paths[0]), *base, "--csv", str(a_file / "x.csv")],
            f"a file is in the way of {a_file}, which must be a folder",
        ),
        (["predict", str(paths[0]), *base, "--annotate", str(a_file)], f"--annotate {a_file} is a file"),
        (["explain", str(paths[0]), *base, "--out", str(tmp_path)], f"--out {tmp_path} is a folder"),
        (
            ["video", str(_clip(tmp_path / "clip.mp4")), "--model", str(model_file), "--out", str(a_file)],
            f"--out {a_file} is a file",
        ),
    ]:
        assert main(argv) == 2, argv
        captured = capsys.readouterr()
        assert captured.err.startswith(f"fersk {argv[0]}: ") and said in captured.err, captured.err
        assert len(captured.err.strip().splitlines()) == 1 and not captured.out


def test_explain_names_the_file_it_wrote_and_refuses_an_unknown_target(model_file, image_files, tmp_path, capsys):
    paths, _ = image_files
    argv = ["explain", str(paths[0]), "--model", str(model_file), "--detector", "none"]
    assert main([*argv, "--out", str(tmp_path / "overlay")]) == 0
    assert capsys.readouterr().out.strip().endswith(f"written to {tmp_path / 'overlay.png'}")
    assert (tmp_path / "overlay.png").is_file()
    assert main([*argv, "--target", "hapy", "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("fersk explain: --target hapy is not a class of this model; its classes: ")
    assert "happy" in err and not (tmp_path / "x.png").exists()


def test_explain_writes_an_overlay(model_file, image_files, tmp_path, capsys):
    paths, _ = image_files
    out = tmp_path / "overlay.png"
    assert main(["explain", str(paths[0]), "--model", str(model_file), "--out", str(out)]) == 0
    assert Image.open(out).size[0] > 100
    assert "gradcam" in capsys.readouterr().out
    assert (
        main(
            [
                "explain",
                str(paths[0]),
                "--model",
                str(model_file),
                "--method",
                "occlusion",
                "--target",
                "happy",
                "--out",
                str(out),
            ]
        )
        == 0
    )


def test_explain_finds_the_largest_face_of_a_photo(model_file, image_files, tmp_path, capsys):
    _, photo = image_files
    out = tmp_path / "face.png"
    assert main(["explain", str(photo), "--model", str(model_file), "--out", str(out)]) == 0
    assert f"{photo}, its largest face: predicted" in capsys.readouterr().out
    whole = tmp_path / "whole.png"
    assert main(["explain", str(photo), "--model", str(model_file), "--out", str(whole), "--detector", "none"]) == 0
    assert f"{photo}, the whole image: predicted" in capsys.readouterr().out
    assert not np.array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(whole)))  # another face drawn


def test_the_pretrained_model_is_named_instead_of_a_file(image_files, tmp_path, capsys):
    paths, _ = image_files
    assert main(["predict", *map(str, paths), "--model", "fer2013"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split("\t")[-8:] == ["predicted", *map(str, fersk.load_pretrained("fer2013").classes_)]
    assert len(lines) == 1 + len(paths)
    assert main(["predict", str(paths[0]), "--model", "fer2014"]) == 2
    err = capsys.readouterr().err
    assert "no model file at fer2014" in err and err.strip().endswith("fersk ships: fer2013, fer2013-muxspace")


def test_errors_are_one_line_with_exit_status_2(model_file, tmp_path, capsys):
    assert main(["predict", str(tmp_path / "missing.png"), "--model", str(model_file)]) == 2
    assert "no such image file" in capsys.readouterr().err
    (tmp_path / "fake.fersk").write_bytes(b"\x80\x04N.")
    assert main(["evaluate", str(tmp_path / "fake.fersk")]) == 2
    assert "a pickle" in capsys.readouterr().err
    assert main(["compare", "--data", str(tmp_path / "nowhere")]) == 2


@pytest.mark.parametrize("command", ["compare", "train", "evaluate", "predict", "explain"])
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: fersk " + command in capsys.readouterr().out


def test_predict_and_video_default_to_the_model_for_photos(image_files, capsys):
    _, photo = image_files
    parser = build_parser()
    for argv in (["predict", "a.jpg"], ["video", "a.mp4"], ["explain", "a.jpg"]):
        assert parser.parse_args(argv).model == "fer2013-muxspace"
    assert main(["predict", str(photo)]) == 0
    header, row = capsys.readouterr().out.strip().splitlines()[:2]
    assert header.split("\t")[-7:] == list(fersk.load_pretrained("fer2013-muxspace").classes_)
    assert row.split("\t")[2] == "True"  # the astronaut's face, found


def test_video_detects_about_five_times_a_second_unless_told(capsys):
    parser = build_parser()
    assert parser.parse_args(["video", "a.mp4"]).detect_every == "auto"
    assert parser.parse_args(["video", "a.mp4", "--detect-every", "1"]).detect_every == 1
    with pytest.raises(SystemExit):
        parser.parse_args(["video", "a.mp4", "--detect-every", "often"])
    assert "--detect-every: takes a whole number or \"auto\", got 'often'" in capsys.readouterr().err


def test_any_command_whose_reader_left_exits_141_quietly(monkeypatch, capsys):
    def reader_left(args):
        raise BrokenPipeError

    monkeypatch.setattr(fersk.cli._export, "export_command", reader_left)  # the parser takes it when built
    assert main(["export", "model.fersk", "out.onnx"]) == 141
    assert capsys.readouterr().err == ""
