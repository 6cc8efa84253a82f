"""scikit-learn never changes global state from a call: random generators, cuDNN's flags, parameters."""

import pickle
import random
import threading
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from skorch.callbacks import Callback

from fersk import CNNClassifier, TransferClassifier, make_faces

# every random draw of a fit: weights, dropout, augmentation, mixup and CutMix, shuffled batches, the split
RANDOM = dict(augment="strong", mixup=0.4, cutmix=0.4, iterator_train__shuffle=True, random_state=0)


def cnn(**kw):
    params = dict(max_epochs=2, module__channels=(4, 8), module__hidden=16, module__dropout=0.25, batch_size=32)
    return CNNClassifier(**{**params, **RANDOM, **kw})


def transfer(**kw):
    params = dict(backbone="test_tiny", weights=None, head="mlp", max_epochs=2, head_epochs=1, batch_size=32)
    return TransferClassifier(**{**params, **RANDOM, **kw})


@pytest.fixture(scope="module")
def faces():
    return make_faces(112, image_size=24, difficulty=0.0, random_state=0)


def global_states():
    states = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "random": random.getstate()}  # noqa: NPY002
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state()
    return states


def assert_same_states(before, after):
    assert before.keys() == after.keys()
    assert torch.equal(before["torch"], after["torch"]), "torch's global generator changed"
    if "cuda" in before:
        assert torch.equal(before["cuda"], after["cuda"]), "torch's CUDA generator changed"
    for a, b in zip(before["numpy"], after["numpy"]):
        np.testing.assert_array_equal(a, b, err_msg="numpy's global generator changed")
    assert before["random"] == after["random"], "Python's random generator changed"


@pytest.mark.parametrize("make", [cnn, transfer], ids=["cnn", "transfer"])
def test_a_seeded_fit_and_partial_fit_leave_the_global_generators_as_they_were(faces, make):
    X, y = faces
    torch.manual_seed(1234)  # any state: the fit must give it back
    before = global_states()
    model = make().fit(X, y)
    assert_same_states(before, global_states())
    model.partial_fit(X, y)
    assert_same_states(before, global_states())
    model.set_params(warm_start=True).fit(X, y)
    assert_same_states(before, global_states())
    model.predict_proba(X)
    assert_same_states(before, global_states())


@pytest.mark.parametrize("make", [cnn, transfer], ids=["cnn", "transfer"])
def test_seeded_fits_do_not_depend_on_the_global_generators(faces, make):
    # a fit, a partial_fit and a warm start: the same seed gives the same network whatever the
    # global generators hold, as a scikit-learn estimator's random_state does
    X, y = faces

    def train(global_seed):
        torch.manual_seed(global_seed)
        model = make().fit(X, y)
        torch.rand(global_seed)  # user code drawing between calls, more or less
        model.partial_fit(X, y)
        return model.predict_proba(X)

    first, second = train(1), train(2)
    np.testing.assert_array_equal(first, second)


def test_the_epochs_of_partial_fit_draw_anew(faces):
    # each epoch's draws are seeded by its number: a second partial_fit must not repeat the first's.
    # With lr=0 the weights stay, so the training loss differs only by the draws of the epoch
    X, y = faces
    model = cnn(max_epochs=1, lr=0.0).fit(X, y)
    model.partial_fit(X, y)
    assert model.history[0, "train_loss"] != model.history[1, "train_loss"]
    again = cnn(max_epochs=1, lr=0.0).fit(X, y).partial_fit(X, y)
    assert again.history[:, "train_loss"] == model.history[:, "train_loss"]


class _Rendezvous(Callback):
    """Records cuDNN's flags as each epoch begins, after waiting at the first epoch for ``wait``."""

    def __init__(self, started, wait, seen):
        self.started, self.wait, self.seen = started, wait, seen

    def on_train_begin(self, net, **kwargs):
        self.started.set()

    def on_epoch_begin(self, net, **kwargs):
        if self.wait is not None and len(net.history) == 1:
            assert self.wait.wait(timeout=300), "the other fit never reached its point"
        self.seen.append((torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark))


def test_two_seeded_fits_in_threads_share_the_cudnn_settings_and_give_the_callers_back(faces):
    # the first fit ends while the second still trains: the second must go on with cuDNN's
    # deterministic algorithms, and the caller's settings must come back once both have ended
    X, y = faces
    cudnn = torch.backends.cudnn
    saved = cudnn.deterministic, cudnn.benchmark
    first_started, second_started, first_done = threading.Event(), threading.Event(), threading.Event()
    seen_first, seen_second, errors = [], [], []
    first = cnn(callbacks=[("meet", _Rendezvous(first_started, second_started, seen_first))])
    second = cnn(callbacks=[("meet", _Rendezvous(second_started, first_done, seen_second))])

    def run(model, done=None):
        try:
            model.fit(X, y)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            if done is not None:
                done.set()

    try:
        cudnn.deterministic, cudnn.benchmark = False, True
        threads = [threading.Thread(target=run, args=(first, first_done))]
        threads[0].start()
        assert first_started.wait(timeout=300)
        threads.append(threading.Thread(target=run, args=(second,)))
        threads[1].start()
        for thread in threads:
            thread.join(timeout=600)
        assert not errors, errors
        assert seen_first == [(True, False)] * 2
        assert seen_second == [(True, False)] * 2  # after the first fit had ended
        assert (cudnn.deterministic, cudnn.benchmark) == (False, True)
    finally:
        cudnn.deterministic, cudnn.benchmark = saved


@pytest.mark.parametrize("make", [cnn, transfer], ids=["cnn", "transfer"])
def test_device_auto_stays_auto_and_the_device_chosen_is_device_(faces, make):
    X, y = faces
    model = make(max_epochs=1)
    model.fit(X, y)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert model.device == "auto" and model.get_params()["device"] == "auto"
    assert model.device_ == expected
    assert next(model.module_.parameters()).device.type == expected
    assert clone(model).get_params()["device"] == "auto"
    assert "device_" not in clone(model).__dict__
    restored = pickle.loads(pickle.dumps(model))
    assert (restored.device, restored.device_) == ("auto", expected)
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    if make is cnn:
        before = global_states()
        model.set_params(module__hidden=8)  # skorch rebuilds the network: on device_, from the seed
        assert_same_states(before, global_states())
        assert model.device == "auto" and next(model.module_.parameters()).device.type == expected
        rebuilt = cnn(max_epochs=1, module__hidden=8)  # built as fit builds it, with the same seed
        rebuilt.classes_, rebuilt.image_shape_, rebuilt.class_weight_ = (
            model.classes_,
            model.image_shape_,
            model.class_weight_,
        )
        rebuilt.initialize()
        for a, b in zip(model.module_.parameters(), rebuilt.module_.parameters()):
            assert torch.equal(a, b)
    model.set_params(device="cpu")  # the next initialize moves it
    assert model.device == "cpu" and model.device_ == expected
    model.initialize()
    assert model.device_ == "cpu" and next(model.module_.parameters()).device.type == "cpu"


def test_initialize_resolves_auto_as_a_model_loader_calls_it(faces):
    X, y = faces
    fitted = cnn(max_epochs=1).fit(X, y)
    model = cnn(max_epochs=1)  # as fersk.load rebuilds a network: the file's parameters, then initialize
    model.classes_, model.image_shape_, model.class_weight_ = fitted.classes_, fitted.image_shape_, fitted.class_weight_
    model.initialize()
    model.module_.load_state_dict(fitted.module_.state_dict())
    model.class_prior_, model.prior_shift_, model.n_features_in_ = fitted.class_prior_, 0.0, fitted.n_features_in_
    assert model.device == "auto" and model.device_ in ("cpu", "cuda")
    np.testing.assert_allclose(model.predict_proba(X), fitted.predict_proba(X), atol=1e-6)


def test_a_model_fitted_on_a_gpu_loads_where_there_is_none(faces):
    X, y = faces
    model = cnn(max_epochs=1).fit(X, y)
    expected = model.predict_proba(X)
    model.device_ = "cuda"  # as a model fitted with device="auto" on a GPU machine holds it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skorch's DeviceWarning where CUDA is missing
        restored = pickle.loads(pickle.dumps(model))
    assert restored.device == "auto"
    assert restored.device_ == ("cuda" if torch.cuda.is_available() else "cpu")
    np.testing.assert_allclose(restored.predict_proba(X), expected, rtol=1e-5)
