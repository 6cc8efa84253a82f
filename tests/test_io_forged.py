"""Model files forged as an attacker would forge them, and loads that change no process-wide setting.

A forger edits ``manifest.json``, recomputes every checksum and zips the file again: the
checksums catch damage, not that. What stops the forgery is the allow-list
(``fersk.io.allowed_classes``): a file's names are looked up there, never imported or called.
"""

import hashlib
import importlib
import json
import multiprocessing
import re
import subprocess
import sys
import threading
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import make_pipeline

import fersk
import fersk.io as fersk_io
from fersk.preprocessing import FaceCropper
from fersk.training import TimeBudget

from .classifiers.test_estimators import FAMILIES

MANIFEST, CHECKSUM = "manifest.json", "manifest.sha256"


def forge(source, target, edit):
    """``source`` with its manifest changed by ``edit``, every checksum recomputed, zipped again as ``target``."""
    with zipfile.ZipFile(source) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    manifest = json.loads(members[MANIFEST])
    edit(manifest)
    manifest["files"] = {
        name: hashlib.sha256(data).hexdigest() for name, data in members.items() if name not in (MANIFEST, CHECKSUM)
    }
    members[MANIFEST] = json.dumps(manifest).encode()
    members[CHECKSUM] = hashlib.sha256(members[MANIFEST]).hexdigest().encode()
    with zipfile.ZipFile(target, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return target


@pytest.fixture(scope="module")
def faces():
    return fersk.make_faces(84, image_size=24, difficulty=0.0, random_state=0)


@pytest.fixture(scope="module")
def cnn_file(faces, tmp_path_factory):
    X, y = faces
    return fersk.save(FAMILIES["cnn"]().fit(X, y), tmp_path_factory.mktemp("models") / "cnn.fersk")


@pytest.fixture(scope="module")
def pipeline_file(faces, tmp_path_factory):
    X, y = faces
    pipeline = make_pipeline(RandomOverSampler(random_state=0), FAMILIES["cnn"]()).fit(X, y)
    return fersk.save(pipeline, tmp_path_factory.mktemp("models") / "pipeline.fersk")


@pytest.fixture
def no_imports(cnn_file, pipeline_file, monkeypatch):
    """importlib.import_module fails the test if a load calls it (after one clean load of each kind of
    file has made fersk's own lazy imports)."""
    fersk.load(cnn_file), fersk.load(pipeline_file)

    def import_module(name, package=None):
        raise AssertionError(f"fersk.load imported {name!r}, a name from the file")

    monkeypatch.setattr(importlib, "import_module", import_module)


def test_a_forged_file_passes_the_checksums(cnn_file, tmp_path):
    # the premise of every test below: the forgery is not caught as damage
    forged = forge(cnn_file, tmp_path / "forged.fersk", lambda m: m["params"].update(lr=0.5))
    assert fersk.load(forged).lr == 0.5


# names an attacker may give, each refused; the attribute walks reached these functions through the module
# prefixes the reader trusted before the allow-list
THROUGH_ANOTHER_MODULE = [
    "fersk.preprocessing._faces:np.savetxt",
    "imblearn.over_sampling:np.savetxt",
    "imblearn.over_sampling._random_over_sampler:np.savetxt",
    "fersk.io:importlib.import_module",
    "builtins:eval",
    "os:system",
]
FUNCTIONS = ["fersk.preprocessing._faces:crop_faces", "fersk.backbones:create_backbone", "fersk.io:load"]
NOT_LISTED = ["collections:OrderedDict", "subprocess:Popen", "sklearn.preprocessing:FunctionTransformer"]
NOT_CLASSES = ["fersk.io:ESTIMATORS", "torch.nn:functional", "fersk.io:TRAINING_ONLY", "numpy:pi"]
NAMES = THROUGH_ANOTHER_MODULE + FUNCTIONS + NOT_LISTED + NOT_CLASSES


@pytest.mark.parametrize("name", NAMES)
def test_a_pipeline_step_named_by_a_forger_is_refused_and_not_called(pipeline_file, tmp_path, no_imports, name):
    written = tmp_path / "written.txt"  # what np.savetxt would write, given these parameters

    def edit(manifest):
        manifest["pipeline"]["steps"][0] = {
            "name": "randomoversampler",
            "class": name,
            "params": {"fname": str(written), "X": {"__tuple__": [1.0, 2.0]}},
            "fitted": {},
        }

    forged = forge(pipeline_file, tmp_path / "forged.fersk", edit)
    with pytest.raises(ValueError, match=re.escape(repr(name))):
        fersk.load(forged)
    assert not written.exists()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("param", ["module", "criterion", "optimizer", "lr"])
def test_a_class_parameter_named_by_a_forger_is_refused(cnn_file, tmp_path, no_imports, name, param):
    forged = forge(cnn_file, tmp_path / "forged.fersk", lambda m: m["params"].update({param: {"__class__": name}}))
    with pytest.raises(ValueError, match=re.escape(repr(name)) + f" for {param} of CNNClassifier"):
        fersk.load(forged)


@pytest.mark.parametrize("name", ["fersk.io:load", "fersk.preprocessing._faces:np.savetxt", "builtins:print"])
def test_callables_nested_in_parameters_are_refused(cnn_file, tmp_path, no_imports, name):
    # a callback list holds (name, class) pairs: the same list applies inside tuples, lists and dicts
    def edit(manifest):
        manifest["params"]["callbacks"] = [{"__tuple__": ["budget", {"__class__": name}]}]

    with pytest.raises(ValueError, match=re.escape(repr(name))):
        fersk.load(forge(cnn_file, tmp_path / "forged.fersk", edit))


@pytest.mark.parametrize(
    ("param", "name"),
    [
        ("module", "torch.optim.adam:Adam"),  # on the list, as an optimizer
        ("optimizer", "torch.nn.modules.loss:CrossEntropyLoss"),  # on the list, as a loss
        ("criterion", "fersk.backbones._cnn:FERNet"),  # on the list, as a network
        ("callbacks", "sklearn.pipeline:Pipeline"),  # on the list, as a pipeline
        ("module__hidden", "fersk.backbones._cnn:FERNet"),  # a parameter that takes no class
    ],
)
def test_a_listed_class_in_the_wrong_place_is_refused(cnn_file, tmp_path, no_imports, param, name):
    forged = forge(cnn_file, tmp_path / "forged.fersk", lambda m: m["params"].update({param: {"__class__": name}}))
    with pytest.raises(ValueError, match=re.escape(f"names {name!r} for {param} of CNNClassifier")):
        fersk.load(forged)


@pytest.mark.parametrize("name", ["os:system", "fersk.backbones._cnn:FERNet", "numpy:array"])
def test_classes_in_the_estimators_fitted_values_are_refused(cnn_file, tmp_path, no_imports, name):
    forged = forge(cnn_file, tmp_path / "forged.fersk", lambda m: m["fitted"].update(classes_={"__class__": name}))
    with pytest.raises(ValueError, match=re.escape(f"names {name!r} for classes_ of CNNClassifier")):
        fersk.load(forged)


@pytest.mark.parametrize("name", [5, None, ["os", "system"], {"__class__": "os:system"}])
def test_a_class_name_that_is_not_a_string_is_refused(cnn_file, tmp_path, no_imports, name):
    forged = forge(cnn_file, tmp_path / "forged.fersk", lambda m: m["params"].update(module={"__class__": name}))
    with pytest.raises(ValueError, match=re.escape(repr(name))):
        fersk.load(forged)


@pytest.mark.parametrize("name", ["fersk.preprocessing._faces:np.savetxt", "os:system", "imblearn.pipeline:np.savetxt"])
def test_a_pipeline_class_named_by_a_forger_is_refused(pipeline_file, tmp_path, no_imports, name):
    forged = forge(pipeline_file, tmp_path / "forged.fersk", lambda m: m["pipeline"].update({"class": name}))
    with pytest.raises(ValueError, match=re.escape(f"names {name!r} for its pipeline")):
        fersk.load(forged)


@pytest.mark.parametrize("part", ["params", "fitted"])
@pytest.mark.parametrize("name", ["os:system", "fersk.backbones._cnn:FERNet", "imblearn.over_sampling:SMOTE"])
def test_classes_in_a_steps_parameters_or_fitted_values_are_refused(pipeline_file, tmp_path, no_imports, part, name):
    # no step parameter or fitted value fersk stores is a class, so none may name one, listed or not
    key = "sampling_strategy" if part == "params" else "n_features_in_"
    forged = forge(
        pipeline_file,
        tmp_path / "forged.fersk",
        lambda m: m["pipeline"]["steps"][0][part].update({key: {"__class__": name}}),
    )
    with pytest.raises(ValueError, match=re.escape(f"names {name!r} for {key} of the pipeline step")):
        fersk.load(forged)


def test_a_step_given_parameters_or_attributes_it_does_not_have_is_refused(pipeline_file, tmp_path, no_imports):
    def params(manifest):
        manifest["pipeline"]["steps"][0]["params"]["fname"] = "x"

    def attributes(manifest):
        manifest["pipeline"]["steps"][0]["fitted"]["__class__"] = "x"

    with pytest.raises(ValueError, match=r"sets parameter\(s\) \['fname'\] that the pipeline step"):
        fersk.load(forge(pipeline_file, tmp_path / "params.fersk", params))
    with pytest.raises(ValueError, match=r"sets \['__class__'\] on the pipeline step .* not fitted attributes"):
        fersk.load(forge(pipeline_file, tmp_path / "attributes.fersk", attributes))


def test_the_allow_list_holds_classes_of_each_places_kind_under_their_stored_names():
    from imblearn.base import BaseSampler
    from sklearn.base import BaseEstimator
    from skorch.callbacks import Callback

    allowed = fersk_io.allowed_classes()
    kinds = {
        "pipeline": BaseEstimator,
        "step": BaseEstimator,
        "module": torch.nn.Module,
        "criterion": torch.nn.Module,
        "optimizer": torch.optim.Optimizer,
        "callbacks": Callback,
    }
    assert set(allowed) == set(kinds) == {"pipeline", "step", *fersk_io.CLASS_PARAMS}
    for place, classes in allowed.items():
        for name, cls in classes.items():
            assert isinstance(cls, type) and issubclass(cls, kinds[place]), (place, name)
            renamed = (place, name) in fersk_io.RENAMED  # where a class was when an earlier fersk stored it
            assert renamed or name == f"{cls.__module__}:{cls.__qualname__}"
    assert "torch.optim.adam:Adam" in allowed["optimizer"] and "torch.optim.sgd:SGD" in allowed["optimizer"]
    assert "torch.nn.modules.loss:CrossEntropyLoss" in allowed["criterion"]
    assert "fersk.training._losses:FocalLoss" in allowed["criterion"]
    # the shipped fer2013-muxspace names GatedExperts where it was; a file saved now names where it is
    assert (
        allowed["module"]["fersk.backbones._experts:GatedExperts"]
        is allowed["module"]["fersk.backbones._gated:GatedExperts"]
    )
    assert "imblearn.over_sampling._smote.base:SMOTE" in allowed["step"]
    samplers = [cls for cls in allowed["step"].values() if issubclass(cls, BaseSampler)]
    assert {"RandomOverSampler", "RandomUnderSampler", "SMOTE"} <= {cls.__name__ for cls in samplers}
    assert "FunctionSampler" not in {cls.__name__ for cls in samplers}  # it calls a function it is given
    with pytest.raises(TypeError):  # read-only: no call adds to it
        allowed["module"]["os:system"] = OrderedDict


@pytest.mark.parametrize("name", fersk.io.PRETRAINED)
def test_every_shipped_model_loads(name):
    with zipfile.ZipFile(fersk.io.pretrained_path(name)) as zf:
        manifest = json.loads(zf.read(MANIFEST))
    model = fersk.load_pretrained(name, device="cpu")
    assert type(model).__name__ == manifest["estimator"]
    assert model.predict(np.zeros((2, 48 * 48), np.float32)).shape == (2,)


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_round_trips(faces, tmp_path, family):
    X, y = faces
    model = FAMILIES[family]().fit(X, y)
    loaded = fersk.load(fersk.save(model, tmp_path / "m.fersk"))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_classes_on_the_list_round_trip_in_their_places(faces, tmp_path):
    X, y = faces
    model = FAMILIES["cnn"](
        optimizer=torch.optim.SGD,
        callbacks=[("budget", TimeBudget)],
        callbacks__budget__seconds=3600,
    ).fit(X, y)
    loaded = fersk.load(fersk.save(model, tmp_path / "m.fersk"))
    assert loaded.optimizer is torch.optim.SGD
    assert loaded.callbacks == [("budget", TimeBudget)]
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_a_pipeline_with_a_face_cropper_and_a_resampler_round_trips(faces, tmp_path):
    X, y = faces
    cropper = FaceCropper(output_size=24, detector="lbp", image_shape=(24, 24))
    pipeline = make_pipeline(cropper, RandomOverSampler(random_state=0), FAMILIES["cnn"]())
    with pytest.warns(UserWarning, match="no face found"):  # synthetic faces: each whole image is used
        pipeline.fit(X, y)
    loaded = fersk.load(fersk.save(pipeline, tmp_path / "pipeline.fersk"))
    assert [type(step) for _, step in loaded.steps] == [type(step) for _, step in pipeline.steps]
    assert loaded.steps[0][1].get_params() == cropper.get_params()
    with pytest.warns(UserWarning, match="no face found"):
        np.testing.assert_allclose(loaded.predict_proba(X), pipeline.predict_proba(X), rtol=1e-6)


def test_save_refuses_classes_that_load_would_refuse(faces, tmp_path):
    X, y = faces
    model = FAMILIES["cnn"]().fit(X, y)
    model.criterion = OrderedDict  # not on the list
    with pytest.raises(ValueError, match=re.escape("the class collections:OrderedDict is not one fersk loads there")):
        fersk.save(model, tmp_path / "a.fersk")
    model.criterion = torch.optim.Adam  # on the list, as an optimizer
    with pytest.raises(
        ValueError, match=re.escape("the class torch.optim.adam:Adam is not one fersk loads there: criterion may name")
    ):
        fersk.save(model, tmp_path / "b.fersk")
    model.criterion = torch.nn.CrossEntropyLoss
    vars(model)["module__hidden"] = OrderedDict  # a parameter that takes no class (set_params would rebuild)
    with pytest.raises(ValueError, match=r"module__hidden=.*collections:OrderedDict"):
        fersk.save(model, tmp_path / "c.fersk")
    vars(model)["module__hidden"] = 16
    pipeline = make_pipeline(RandomOverSampler(sampling_strategy=OrderedDict), model)
    with pytest.raises(ValueError, match=re.escape("the class collections:OrderedDict")):
        fersk.save(pipeline, tmp_path / "d.fersk")


# -- loading, and detecting faces, change no process-wide setting -----------------------------------------------


def _threads_in_a_new_thread():
    """torch's thread count as a thread started now sees it: torch's process-wide setting."""
    seen = []
    thread = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    thread.start()
    thread.join()
    return seen[0]


@pytest.fixture
def two_threads():
    """torch on two threads or more for the test (a one-core machine's 1 could not show a change), then as before."""
    before = torch.get_num_threads()
    torch.set_num_threads(max(before, 2))
    yield torch.get_num_threads()
    torch.set_num_threads(before)


def run_overlapping(first, second, inside, monkeypatch, target, attribute):
    """Run ``first()`` and ``second()`` in two threads that are inside ``target.attribute`` at once.

    ``first`` enters, then ``second`` does, both meet at a barrier, then ``first`` leaves while
    ``second`` waits for it to finish: the order in which a save-set-restore of a process-wide
    setting loses the setting. ``inside()`` runs in each thread at the barrier; returns what it gave.
    """
    original = getattr(target, attribute)
    barrier = threading.Barrier(2, timeout=120)  # a guard against a hang, not a measure of time
    first_inside, first_done = threading.Event(), threading.Event()
    seen, errors = {}, []

    def hooked(*args, **kwargs):
        me = threading.current_thread().name
        if me == "first":
            first_inside.set()
        barrier.wait()
        seen[me] = inside()
        if me == "second":
            assert first_done.wait(120)
        return original(*args, **kwargs)

    monkeypatch.setattr(target, attribute, hooked)

    def run(job, after):
        try:
            job()
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)
            barrier.abort()
        finally:
            after()

    threads = [
        threading.Thread(target=run, args=(first, first_done.set), name="first"),
        threading.Thread(target=lambda: first_inside.wait(120) and run(second, lambda: None), name="second"),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return seen


def test_two_threads_loading_at_once_leave_torch_thread_count_as_it_was(cnn_file, two_threads, monkeypatch):
    loaded = []
    seen = run_overlapping(
        lambda: loaded.append(fersk.load(cnn_file)),
        lambda: loaded.append(fersk.load(cnn_file)),
        lambda: (torch.get_num_threads(), _threads_in_a_new_thread()),
        monkeypatch,
        fersk_io,
        "tensors_from_bytes",  # called while the network is being built and filled
    )
    assert len(loaded) == 2
    # while loading, each thread builds on one thread (see test_a_model_loaded_before_a_fork_...), and no other
    # thread sees a change
    assert seen == {"first": (1, two_threads), "second": (1, two_threads)}
    assert torch.get_num_threads() == two_threads
    assert _threads_in_a_new_thread() == two_threads  # was 1: every thread started later ran on one thread


def test_two_threads_detecting_small_photos_at_once_leave_torch_thread_count_as_it_was(two_threads, monkeypatch):
    import fersk.faces._mtcnn_networks as networks
    from fersk.faces import MTCNNDetector

    photo = np.full((64, 64), 128, np.uint8)  # a small batch: MTCNN runs it on one thread
    found = []
    seen = run_overlapping(
        lambda: found.append(MTCNNDetector().detect(photo)),
        lambda: found.append(MTCNNDetector().detect(photo)),
        lambda: (torch.get_num_threads(), _threads_in_a_new_thread()),
        monkeypatch,
        networks,
        "cascade",  # the three networks, run while the thread count is set for the batch
    )
    assert found == [[], []]
    assert seen == {"first": (1, two_threads), "second": (1, two_threads)}
    assert torch.get_num_threads() == two_threads
    assert _threads_in_a_new_thread() == two_threads


FORK_AFTER_LOAD = """
import multiprocessing, queue
import numpy as np
import fersk

model = fersk.load_pretrained("fer2013", device="cpu")  # a network large enough for parallel copies
X = np.random.default_rng(0).integers(0, 256, (8, 48 * 48)).astype(np.float32)

def child(results):
    results.put(model.predict_proba(X))

context = multiprocessing.get_context("fork")
results = context.Queue()
process = context.Process(target=child, args=(results,))
process.start()
try:
    in_child = results.get(timeout=240)  # a guard against the hang, not a measure of time
except queue.Empty:
    raise SystemExit("the forked child hung")
finally:
    process.kill()
np.testing.assert_allclose(in_child, model.predict_proba(X), rtol=1e-5)
print("child predicted")
"""


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork on this platform")
def test_a_model_loaded_before_a_fork_predicts_in_the_child():
    # a fresh interpreter: this one has long started OpenMP's threads in its main thread
    done = subprocess.run([sys.executable, "-c", FORK_AFTER_LOAD], capture_output=True, text=True, timeout=540)
    assert done.returncode == 0 and "child predicted" in done.stdout, done.stdout + done.stderr


def test_load_keeps_the_device_as_given_not_as_resolved(cnn_file, monkeypatch):
    # what the estimator builds from: the file's device ("auto") or the caller's, never the resolved name
    # (the estimator resolves "auto" itself, as after fit)
    built_with = []
    owner = next(cls for cls in fersk.CNNClassifier.__mro__ if "initialize" in vars(cls))
    initialize = owner.initialize

    def spy(self):
        built_with.append(self.device)
        return initialize(self)

    monkeypatch.setattr(owner, "initialize", spy)
    fersk.load(cnn_file)
    fersk.load(cnn_file, device="cpu")
    assert built_with == ["auto", "cpu"]
    assert fersk.load(cnn_file, device="cpu").get_params()["device"] == "cpu"
