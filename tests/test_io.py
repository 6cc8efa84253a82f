import json
import pickle
import time
import zipfile

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fersk
import fersk.io
from fersk._archive import read_archive, write_archive

from .classifiers.test_estimators import FAMILIES


@pytest.fixture(scope="module")
def faces():
    return fersk.make_faces(84, image_size=24, difficulty=0.0, random_state=0)


@pytest.fixture(scope="module")
def saved(faces, tmp_path_factory):
    X, y = faces
    model = FAMILIES["cnn"](module__hidden=12).fit(X, y)
    return model, fersk.save(model, tmp_path_factory.mktemp("models") / "cnn.fersk")


@pytest.mark.parametrize("family", FAMILIES)
def test_round_trip_gives_identical_predictions(faces, family, tmp_path):
    X, y = faces
    model = FAMILIES[family]().fit(X, y)
    loaded = fersk.load(fersk.save(model, tmp_path / "m.fersk"))
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.classes_, model.classes_)
    assert loaded.get_params()["random_state"] == 0


def test_parameters_and_history_survive(saved):
    model, path = saved
    loaded = fersk.load(path)
    assert loaded.get_params()["module__hidden"] == 12
    assert loaded.get_params()["module__channels"] == (4, 8)  # tuples stay tuples
    assert len(loaded.history) == len(model.history)
    assert loaded.history[-1, "train_loss"] == pytest.approx(model.history[-1, "train_loss"])


def test_a_pickle_posing_as_a_model_file_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.fersk"
    path.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ValueError, match="a pickle"):
        fersk.load(path)
    assert not marker.exists()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("scratch") / "flipped.fersk"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.floats(0, 1, exclude_max=True), mask=st.integers(1, 255))
def test_a_flipped_byte_anywhere_is_refused_or_harmless(saved, scratch, where, mask):
    # A flipped byte may land in a zip header, a compressed stream, a stored tensor or
    # an unused field; the reader either refuses the file with a ValueError or, where
    # the byte did not matter, gives back exactly what was saved.
    _, path = saved
    data = bytearray(path.read_bytes())
    data[int(where * len(data))] ^= mask
    scratch.write_bytes(bytes(data))
    try:
        contents = read_archive(scratch)
    except ValueError as exc:
        assert "corrupted" in str(exc) or "not a fersk model file" in str(exc)
    else:
        assert contents == read_archive(path)


def test_a_corrupted_file_is_refused_by_load(saved, tmp_path):
    _, path = saved
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    broken = tmp_path / "broken.fersk"
    broken.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="corrupted"):
        fersk.load(broken)


def test_saving_a_model_twice_gives_the_same_bytes(saved, tmp_path, monkeypatch):
    model, path = saved
    later = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: later)  # an hour on: no clock reading reaches the file
    again = fersk.save(model, tmp_path / "again.fersk")
    assert again.read_bytes() == path.read_bytes()


def test_a_modified_manifest_is_refused(saved, tmp_path):
    _, path = saved
    tampered = tmp_path / "tampered.fersk"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tampered, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "manifest.json":
                manifest = json.loads(data)
                manifest["params"]["lr"] = 10.0
                data = json.dumps(manifest).encode()
            dst.writestr(name, data)
    with pytest.raises(ValueError, match="modified"):
        fersk.load(tampered)


def test_a_zip_that_is_not_a_model_file_is_refused(tmp_path):
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("data.pkl", b"\x80\x04N.")
    with pytest.raises(ValueError, match="not a fersk model file"):
        fersk.load(path)


def test_classes_off_the_allow_list_are_never_imported(saved, tmp_path):
    _, path = saved
    manifest, members = fersk._archive.read_archive(path)
    manifest["params"]["module"] = {"__class__": "os:system"}
    forged = write_archive(tmp_path / "forged.fersk", {k: v for k, v in manifest.items() if k != "files"}, members)
    with pytest.raises(
        ValueError, match=r"names 'os:system' for module of CNNClassifier, which fersk does not load there"
    ):
        fersk.load(forged)


def test_untrusted_types_in_a_hog_pipeline_are_refused(faces, tmp_path):
    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    X, y = faces
    model = FAMILIES["hog"]().fit(X, y)
    path = fersk.save(model, tmp_path / "hog.fersk")
    manifest, members = fersk._archive.read_archive(path)
    members["pipeline.skops"] = sio.dumps(FunctionTransformer(np.sum))
    forged = write_archive(tmp_path / "forged.fersk", {k: v for k, v in manifest.items() if k != "files"}, members)
    with pytest.raises(ValueError, match="does not trust"):
        fersk.load(forged)


def test_save_refuses_what_it_cannot_store(faces, tmp_path):
    with pytest.raises(ValueError, match="not fitted"):
        fersk.save(fersk.CNNClassifier(), tmp_path / "a.fersk")
    with pytest.raises(TypeError, match="joblib"):
        fersk.save(object(), tmp_path / "b.fersk")
    with pytest.raises(FileNotFoundError):
        fersk.load(tmp_path / "missing.fersk")


@pytest.mark.parametrize("make_pipeline", ["sklearn", "imblearn"])
def test_pipelines_with_resamplers_round_trip(faces, tmp_path, make_pipeline):
    from imblearn.over_sampling import SMOTE, RandomOverSampler

    X, y = faces
    if make_pipeline == "sklearn":
        from sklearn.pipeline import make_pipeline as build

        pipeline = build(FAMILIES["cnn"]())
    else:
        from imblearn.pipeline import make_pipeline as build

        pipeline = build(RandomOverSampler(random_state=0), SMOTE(k_neighbors=2, random_state=0), FAMILIES["cnn"]())
    pipeline.fit(X, y)
    loaded = fersk.load(fersk.save(pipeline, tmp_path / "pipeline.fersk"))
    assert type(loaded) is type(pipeline)
    assert [name for name, _ in loaded.steps] == [name for name, _ in pipeline.steps]
    for (_, step), (_, original) in zip(loaded.steps[:-1], pipeline.steps[:-1]):
        assert type(step) is type(original) and step.get_params() == original.get_params()
    np.testing.assert_allclose(loaded.predict_proba(X), pipeline.predict_proba(X), rtol=1e-6)


def test_pipelines_with_steps_that_learn_are_refused_with_the_reason(faces, tmp_path):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler

    X, y = faces
    pipeline = make_pipeline(MinMaxScaler(feature_range=(0, 255)), FAMILIES["hog"]()).fit(X, y)
    with pytest.raises(ValueError, match=r"cannot store the pipeline step 'minmaxscaler' \(MinMaxScaler\)"):
        fersk.save(pipeline, tmp_path / "scaled.fersk")


def test_a_fersk_file_is_a_transfer_weights_source(faces, tmp_path):
    X, y = faces
    source = FAMILIES["transfer"]().fit(X, y)
    path = fersk.save(source, tmp_path / "source.fersk")
    target = FAMILIES["transfer"](weights=str(path), max_epochs=1, head_epochs=1, lr=0.0).fit(X[:40], y[:40])
    body = {k: v for k, v in source.module_.state_dict().items() if k.startswith("body.")}
    for key, value in body.items():
        np.testing.assert_array_equal(target.module_.state_dict()[key].cpu().numpy(), value.cpu().numpy())
    cnn_path = fersk.save(FAMILIES["cnn"]().fit(X, y), tmp_path / "cnn.fersk")
    with pytest.raises(ValueError, match="do not fit backbone"):
        FAMILIES["transfer"](weights=str(cnn_path)).fit(X, y)


def test_pretrained_models_load_offline_from_the_package(faces, tmp_path, monkeypatch):
    X, y = faces
    monkeypatch.setattr(fersk._pretrained, "PRETRAINED_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match="bench_fer2013.py"):
        fersk.load_pretrained("fer2013")
    with pytest.raises(ValueError, match="ships"):
        fersk.io.pretrained_path("affectnet")
    with pytest.raises(ValueError, match=r"the name of a model fersk ships \(fer2013, fer2013-muxspace\)"):
        FAMILIES["transfer"](weights="fer2013").fit(X, y)  # named, but not in this installation
    model = FAMILIES["transfer"]().fit(X, y)
    fersk.save(model, tmp_path / "fer2013.fersk")
    np.testing.assert_array_equal(fersk.load_pretrained("fer2013").predict_proba(X), model.predict_proba(X))
    # the name is a transfer source, as "imagenet" is: with lr=0 the body stays the shipped one
    started = FAMILIES["transfer"](weights="fer2013", max_epochs=1, lr=0.0).fit(X, y)
    for key, value in model.module_.state_dict().items():
        if key.startswith("body.") and "num_batches" not in key:
            np.testing.assert_array_equal(started.module_.state_dict()[key].cpu().numpy(), value.cpu().numpy())


def test_model_files_are_readable_by_others(saved):
    _, path = saved
    assert path.stat().st_mode & 0o044  # not mkstemp's private 0600


def test_loading_the_pretrained_model_by_name_points_to_load_pretrained(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no file called fer2013 here
    with pytest.raises(FileNotFoundError, match=r"fersk.load_pretrained\('fer2013'\)"):
        fersk.load("fer2013")


def test_a_truncated_file_is_called_corrupted_not_a_pickle(saved, tmp_path):
    _, path = saved
    cut = tmp_path / "cut.fersk"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # a copy cut short: no zip directory
    with pytest.raises(ValueError, match="is corrupted: it begins as a zip archive") as info:
        fersk.load(cut)
    assert "pickle" not in str(info.value)


def test_saving_onto_a_folder_names_the_folder(saved, tmp_path):
    model, _ = saved
    with pytest.raises(
        IsADirectoryError, match=r"is a directory; give the path of a file in it, such as .*model\.fersk"
    ):
        fersk.save(model, tmp_path)


def test_parameters_this_version_lacks_are_refused_naming_them_and_the_writer(saved, tmp_path):
    _, path = saved
    manifest, members = read_archive(path)
    manifest = {k: v for k, v in manifest.items() if k not in ("format", "format_version", "files")}
    manifest["params"]["stem"] = "wide"  # a parameter of a later fersk
    manifest["fersk_version"] = "9.0"
    newer = write_archive(tmp_path / "newer.fersk", manifest, members)
    with pytest.raises(
        ValueError, match=r"sets parameter\(s\) \['stem'\] that CNNClassifier does not have.*fersk 9\.0"
    ):
        fersk.load(newer)


def test_a_device_that_is_not_there_is_refused_at_load(saved, monkeypatch):
    _, path = saved
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(
        ValueError, match=r"device='cuda' asks for a CUDA GPU, and this PyTorch finds none.*device='cpu'"
    ):
        fersk.load(path, device="cuda")  # was: loaded on the CPU without a word
    with pytest.raises(ValueError, match="device='gpu' is not a device torch knows"):
        fersk.load(path, device="gpu")  # was: torch's error at the first prediction
    assert fersk.load(path, device="cpu").device == "cpu"
