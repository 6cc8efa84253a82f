"""ONNX export: onnxruntime gives fersk's probabilities, with preprocessing, TTA and prior shift in the graph."""

import json
import os

import numpy as np
import pytest
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import make_pipeline
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import fersk
from fersk import CNNClassifier, HOGSVMClassifier, TransferClassifier, export_onnx, make_faces
from fersk.cli import main

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

TOLERANCE = 1e-4


def run(path, X):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"images": X})[0]


@pytest.fixture(scope="module")
def faces():
    return make_faces(500, image_size=48, random_state=0)


@pytest.fixture(scope="module")
def cnn(faces):
    X, y = faces
    # prior_shift is folded into the graph too
    return CNNClassifier(max_epochs=1, module__channels=(8, 16), prior_shift=0.5, random_state=0).fit(X[:200], y[:200])


@pytest.fixture(scope="module")
def colour_faces(faces):
    """Non-square colour images (48 high, 40 wide, 3 channels), each channel a different shade."""
    X, y = faces
    images = X.reshape(-1, 48, 48, 1)[:, :, 4:44] * np.array([1.0, 0.8, 0.6], dtype=np.float32)
    return images.reshape(len(X), -1), y


@pytest.fixture(scope="module")
def transfer(colour_faces):
    X, y = colour_faces
    # resized to 32x32 inside the network; an MLP head for BatchNorm1d
    return TransferClassifier(
        "test_tiny",
        weights=None,
        input_size=32,
        head="mlp",
        image_shape=(48, 40, 3),
        max_epochs=1,
        head_epochs=1,
        random_state=0,
    ).fit(X[:200], y[:200])


@pytest.mark.parametrize("tta, input_dtype", [(None, "float32"), ("flip", "uint8"), ("crops", "float32")])
@pytest.mark.slow
def test_onnxruntime_gives_the_cnns_probabilities(cnn, faces, tta, input_dtype, tmp_path):
    X, _ = faces
    cnn.set_params(tta=tta)
    path = export_onnx(cnn, tmp_path / "cnn.onnx", input_dtype=input_dtype)
    proba = run(path, X.astype(input_dtype))
    assert proba.shape == (500, 7) and proba.dtype == np.float32
    np.testing.assert_allclose(proba, cnn.predict_proba(X), atol=TOLERANCE, rtol=0)
    np.testing.assert_allclose(run(path, X[:1].astype(input_dtype)), cnn.predict_proba(X[:1]), atol=TOLERANCE, rtol=0)


def test_the_prior_shift_is_in_the_graph(cnn, faces, tmp_path):
    X, _ = faces
    cnn.set_params(tta=None)
    shifted = run(export_onnx(cnn, tmp_path / "shifted.onnx"), X)
    cnn.prior_shift_, shift = 0.0, cnn.prior_shift_
    try:
        unshifted = run(export_onnx(cnn, tmp_path / "unshifted.onnx"), X)
    finally:
        cnn.prior_shift_ = shift
    assert np.abs(shifted - unshifted).max() > 1e-3  # the shift changes the probabilities...
    weighted = unshifted * cnn.class_prior_**-shift
    np.testing.assert_allclose(shifted, weighted / weighted.sum(1, keepdims=True), atol=1e-5)  # ... as fersk does


def test_onnxruntime_gives_a_transfer_backbones_probabilities(transfer, colour_faces, tmp_path):
    X, _ = colour_faces
    transfer.set_params(tta="crops")
    path = export_onnx(transfer, tmp_path / "transfer.onnx")
    np.testing.assert_allclose(run(path, X), transfer.predict_proba(X), atol=TOLERANCE, rtol=0)


def test_the_file_passes_the_checker_and_says_how_to_use_it(transfer, tmp_path):
    transfer.set_params(tta="flip")
    path = export_onnx(transfer, tmp_path / "transfer.onnx", input_dtype="uint8")
    onnx.checker.check_model(str(path), full_check=True)
    model = onnx.load(str(path))
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta["classes"]) == transfer.classes_.tolist()
    assert json.loads(meta["image_shape"]) == [48, 40, 3]
    assert (meta["input_dtype"], meta["tta"], meta["estimator"]) == ("uint8", "flip", "TransferClassifier")
    (images,), (probabilities,) = model.graph.input, model.graph.output
    assert images.name == "images" and probabilities.name == "probabilities"
    assert images.type.tensor_type.elem_type == onnx.TensorProto.UINT8
    n, width = images.type.tensor_type.shape.dim
    assert n.dim_param and width.dim_value == 48 * 40 * 3
    assert probabilities.type.tensor_type.shape.dim[1].dim_value == 7


def test_export_leaves_the_estimator_as_it_was(cnn, faces, tmp_path):
    X, _ = faces
    cnn.set_params(tta=None)
    before = cnn.predict_proba(X[:20])
    module, training = cnn.module_, cnn.module_.training
    export_onnx(cnn, tmp_path / "cnn.onnx")
    assert cnn.module_ is module and cnn.module_.training == training
    np.testing.assert_array_equal(cnn.predict_proba(X[:20]), before)


def test_a_pipeline_of_resamplers_and_a_network_exports_the_network(cnn, faces, tmp_path):
    X, y = faces
    cnn.set_params(tta=None)
    pipeline = make_pipeline(RandomOverSampler(random_state=0), cnn)
    path = export_onnx(pipeline, tmp_path / "pipeline.onnx")
    np.testing.assert_allclose(run(path, X[:50]), cnn.predict_proba(X[:50]), atol=TOLERANCE, rtol=0)


def test_what_cannot_be_exported_is_refused_with_the_reason(cnn, faces, tmp_path):
    X, y = faces
    hog = HOGSVMClassifier(pixels_per_cell=(12, 12)).fit(X[:100], y[:100])
    with pytest.raises(ValueError, match="HOGSVMClassifier cannot be exported to ONNX: its HOG features"):
        export_onnx(hog, tmp_path / "hog.onnx")
    scaled = make_pipeline(StandardScaler(), cnn)
    with pytest.raises(ValueError, match=r"step\(s\) \['standardscaler'\] transform the images"):
        export_onnx(scaled, tmp_path / "scaled.onnx")
    with pytest.raises(ValueError, match="exports fersk's neural estimators.*got LogisticRegression"):
        export_onnx(LogisticRegression(), tmp_path / "lr.onnx")
    with pytest.raises(NotFittedError):
        export_onnx(CNNClassifier(), tmp_path / "unfitted.onnx")
    with pytest.raises(ValueError, match="input_dtype must be one of"):
        export_onnx(cnn, tmp_path / "cnn.onnx", input_dtype="float64")
    assert not list(tmp_path.iterdir())


def test_the_export_command_writes_a_model_onnxruntime_runs(cnn, faces, tmp_path, capsys):
    X, _ = faces
    cnn.set_params(tta="crops")
    model_file = fersk.save(cnn, tmp_path / "cnn.fersk")
    out = tmp_path / "cnn.onnx"
    assert main(["export", str(model_file), str(out), "--tta", "none", "--input-dtype", "uint8"]) == 0
    assert "input 'images' (n, 2304), uint8 pixels 0-255 of 48x48x1 images" in capsys.readouterr().out
    cnn.set_params(tta=None)
    np.testing.assert_allclose(run(out, X[:50].astype(np.uint8)), cnn.predict_proba(X[:50]), atol=TOLERANCE, rtol=0)
    hog_file = fersk.save(HOGSVMClassifier(pixels_per_cell=(12, 12)).fit(X[:100], faces[1][:100]), tmp_path / "h.fersk")
    assert main(["export", str(hog_file), str(tmp_path / "hog.onnx")]) == 2
    assert "HOGSVMClassifier cannot be exported" in capsys.readouterr().err


@pytest.mark.realdata
@pytest.mark.slow
def test_onnxruntime_gives_the_shipped_models_probabilities(shared_data, tmp_path):
    model = fersk.load_pretrained("fer2013")
    assert model.tta == "crops"  # its default: ten views, each a forward pass
    data = fersk.load_fer2013(shared_data / "fer2013", subset="test")
    X = data.data[data.usage == "PrivateTest"][:500]
    # the network and its preprocessing on 500 faces; the ten views on 100 of them (5,000 passes in all)
    for tta, n in ((None, 500), ("crops", 100)):
        model.set_params(tta=tta)
        path = export_onnx(model, tmp_path / "fer2013.onnx", input_dtype="uint8")
        proba = run(path, X[:n].astype(np.uint8))
        expected = model.predict_proba(X[:n])
        np.testing.assert_allclose(proba, expected, atol=TOLERANCE, rtol=0)
        assert (proba.argmax(1) == expected.argmax(1)).mean() >= 0.99


def test_export_makes_the_folder_it_writes_into_as_save_does(cnn, faces, tmp_path):
    X, _ = faces
    path = export_onnx(cnn, tmp_path / "models" / "v2" / "faces.onnx")  # the exporter alone fails here
    np.testing.assert_allclose(run(path, X[:7]), cnn.predict_proba(X[:7]), atol=TOLERANCE)


def quantized_ops(path):
    return {node.op_type for node in onnx.load(str(path)).graph.node} & {"QuantizeLinear", "DequantizeLinear"}


@pytest.mark.parametrize("input_dtype", ["float32", "uint8"])
def test_int8_keeps_the_predictions_in_a_smaller_file_that_says_it_is_quantised(cnn, faces, input_dtype, tmp_path):
    X, _ = faces
    cnn.set_params(tta="flip")
    calibration, held_out = X[:200], X[200:].astype(input_dtype)  # calibrated on its training faces only
    plain = export_onnx(cnn, tmp_path / "float.onnx", input_dtype=input_dtype)
    path = export_onnx(cnn, tmp_path / "int8.onnx", input_dtype=input_dtype, quantize="int8", calibration=calibration)
    onnx.checker.check_model(str(path), full_check=True)
    assert quantized_ops(path) == {"QuantizeLinear", "DequantizeLinear"} and not quantized_ops(plain)
    meta = ort.InferenceSession(str(path)).get_modelmeta().custom_metadata_map
    assert (meta["quantize"], meta["tta"], meta["input_dtype"]) == ("int8", "flip", input_dtype)
    assert ort.InferenceSession(str(plain)).get_modelmeta().custom_metadata_map["quantize"] == "none"
    proba, expected = run(path, held_out), cnn.predict_proba(X[200:])
    assert proba.shape == expected.shape and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert np.abs(proba - expected).max() < 0.1  # 8-bit arithmetic: close, not equal ...
    assert np.abs(proba - expected).max() > TOLERANCE  # ... (it did quantise)
    # Labels are not compared here: one epoch of this tiny network answers every face with a near-tie (top
    # two within 0.05), which any rounding may flip. test_the_shipped_model_in_int8_gives_the_same_labels
    # compares them on a trained network.


def test_int8_calibration_is_checked_before_anything_is_written(cnn, faces, tmp_path):
    X, _ = faces
    with pytest.raises(ValueError, match="quantize='int8' needs calibration: a few hundred images"):
        export_onnx(cnn, tmp_path / "a.onnx", quantize="int8")
    with pytest.raises(ValueError, match="calibration is only used with quantize='int8'"):
        export_onnx(cnn, tmp_path / "a.onnx", calibration=X[:10])
    with pytest.raises(ValueError, match=r"quantize must be one of \(None, 'int8'\), got 'int4'"):
        export_onnx(cnn, tmp_path / "a.onnx", quantize="int4", calibration=X[:10])
    with pytest.raises(ValueError, match="calibration: X holds images of shape .32, 32. .*fitted on .48, 48, 1."):
        export_onnx(cnn, tmp_path / "a.onnx", quantize="int8", calibration=np.zeros((10, 32, 32), np.float32))
    with pytest.raises(
        ValueError, match=r"calibration holds values from 0 to 1; .*multiply images scaled to 0-1 by 255"
    ):
        export_onnx(cnn, tmp_path / "a.onnx", quantize="int8", calibration=X[:10] / 255)
    with pytest.raises(ValueError, match="calibration: Found array with 0 sample"):
        export_onnx(cnn, tmp_path / "a.onnx", quantize="int8", calibration=X[:0])
    assert not list(tmp_path.iterdir())


def test_a_failed_export_leaves_the_file_it_would_replace_whole(cnn, tmp_path, monkeypatch):
    path = export_onnx(cnn, tmp_path / "cnn.onnx")
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken)  # the new file's bytes cannot reach the disk
    with pytest.raises(OSError, match="disk full"):
        export_onnx(cnn, path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["cnn.onnx"]


def test_the_exported_file_is_readable_as_the_umask_allows(cnn, tmp_path):
    umask = os.umask(0o022)
    try:
        path = export_onnx(cnn, tmp_path / "cnn.onnx")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644  # a service running as another user can read it


@pytest.mark.realdata
@pytest.mark.slow
def test_the_shipped_model_in_int8_gives_the_same_labels(shared_data, tmp_path):
    model = fersk.load_pretrained("fer2013").set_params(tta=None)
    train = fersk.load_fer2013(shared_data / "fer2013", subset="train").data
    test = fersk.load_fer2013(shared_data / "fer2013", subset="test")
    X = test.data[test.usage == "PrivateTest"][:500]
    calibration = train[np.random.default_rng(0).choice(len(train), 256, replace=False)]
    path = export_onnx(model, tmp_path / "int8.onnx", input_dtype="uint8", quantize="int8", calibration=calibration)
    proba, expected = run(path, X.astype(np.uint8)), model.predict_proba(X)
    assert (proba.argmax(1) == expected.argmax(1)).mean() >= 0.98
    assert np.abs(proba - expected).mean() < 0.01
    assert path.stat().st_size < 0.4 * export_onnx(model, tmp_path / "float.onnx").stat().st_size


def test_the_export_command_quantises_on_a_datasets_training_images(cnn, faces, tmp_path, capsys):
    from PIL import Image

    X, y = faces
    for i, (row, label) in enumerate(zip(X[:70], y[:70])):
        (tmp_path / "data" / label).mkdir(parents=True, exist_ok=True)
        Image.fromarray(row.reshape(48, 48).astype(np.uint8)).save(tmp_path / "data" / label / f"{i}.png")
    cnn.set_params(tta=None)
    model_file = fersk.save(cnn, tmp_path / "cnn.fersk")
    out = tmp_path / "cnn-int8.onnx"
    command = ["export", str(model_file), str(out), "--quantize", "int8", "--calibration", str(tmp_path / "data")]
    assert main([*command, "--calibration-size", "40"]) == 0
    assert "int8, calibrated on 40 images of" in capsys.readouterr().out
    assert quantized_ops(out)
    assert ort.InferenceSession(str(out)).get_modelmeta().custom_metadata_map["quantize"] == "int8"
    proba, expected = run(out, X[200:]), cnn.predict_proba(X[200:])
    assert np.abs(proba - expected).max() < 0.1  # close, as test_int8_keeps_the_predictions... says
    assert main(["export", str(model_file), str(tmp_path / "a.onnx"), "--quantize", "int8"]) == 2
    assert "--quantize int8 needs --calibration DATA" in capsys.readouterr().err
    assert main(["export", str(model_file), str(tmp_path / "a.onnx"), "--calibration-size", "3"]) == 2
    assert "--calibration and --calibration-size are only used with it" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse's usage error, exit 2
        main([*command, "--calibration-size", "-5"])
    assert "--calibration-size: takes a whole number, 1 or more, got '-5'" in capsys.readouterr().err
    hog_file = fersk.save(HOGSVMClassifier(pixels_per_cell=(12, 12)).fit(X[:100], y[:100]), tmp_path / "h.fersk")
    assert main(["export", str(hog_file), str(tmp_path / "a.onnx"), *command[3:]]) == 2
    assert "HOGSVMClassifier cannot be exported" in capsys.readouterr().err
    assert not (tmp_path / "a.onnx").exists()
