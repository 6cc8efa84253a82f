"""Checkpoint and resume: a fit killed with SIGKILL resumes and ends as an uninterrupted fit does."""

import os
import pickle
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.model_selection import cross_val_score
from skorch.callbacks import Callback

import fersk
from fersk import CNNClassifier, load, make_faces, save

from ..classifiers.test_estimators import cnn

# A child process fits a small network. With "kill-after N" a callback SIGKILLs the process
# at the end of epoch N (after that epoch's checkpoint); with "kill-in-write N" the process
# dies in the middle of writing the checkpoint of epoch N, leaving a half-written file. It loads the
# tests' conftest, which registers the test_tiny backbone (and sets the float32 settings of the tests).
CHILD = textwrap.dedent(
    """
    import importlib.util, os, signal, sys
    import numpy as np
    from skorch.callbacks import Callback
    import fersk._atomic
    from fersk import CNNClassifier, TransferClassifier, make_faces

    family, mode, epoch, checkpoint, out, conftest = sys.argv[1:]
    epoch = int(epoch)
    spec = importlib.util.spec_from_file_location("fersk_tests_conftest", conftest)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))

    class KillAfter(Callback):
        def on_epoch_end(self, net, **kwargs):
            if mode == "kill-after" and len(net.history) == epoch:
                os.kill(os.getpid(), signal.SIGKILL)

    if mode == "kill-in-write":
        real_fsync, writes = os.fsync, []
        def dying_fsync(fd):
            writes.append(fd)
            if len(writes) == epoch:  # half the file, then death before the rename
                os.ftruncate(fd, os.fstat(fd).st_size // 2)
                os.kill(os.getpid(), signal.SIGKILL)
            real_fsync(fd)
        fersk._atomic.os.fsync = dying_fsync

    X, y = make_faces(112, image_size=24, random_state=0)
    common = dict(max_epochs=6, batch_size=32, lr_patience=1, early_stopping=4, random_state=0,
                  checkpoint=None if checkpoint == "-" else checkpoint, callbacks=[("kill", KillAfter())])
    if family.startswith("cnn"):
        ema = 0.9 if family == "cnn-ema" else None  # the weight average must resume too
        schedule = "cosine" if family == "cnn-cosine" else "plateau"  # and the cosine schedule where it was
        model = CNNClassifier(module__channels=(4, 8), module__hidden=16, ema=ema, lr_schedule=schedule, **common)
    else:
        model = TransferClassifier("test_tiny", weights=None, head_epochs=2, **common)
    model.fit(X, y)
    np.save(out, model.predict_proba(X))
    print(len(model.history))
    """
)


def run_child(tmp_path, family, mode, epoch, checkpoint):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    out = tmp_path / f"{family}-{mode}-{epoch}.npy"
    conftest = Path(__file__).resolve().parents[1] / "conftest.py"
    # the child imports the fersk these tests import (the checkout's, also where another is installed)
    env = {**os.environ, "PYTHONPATH": str(Path(fersk.__file__).parents[1])}
    result = subprocess.run(
        [sys.executable, str(script), family, mode, str(epoch), str(checkpoint), str(out), str(conftest)],
        capture_output=True,
        text=True,
        timeout=900,  # a guard against a hang only: importing torch alone took 35 s on a busy 2-core machine
        env=env,
    )
    return result, out


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """Predictions and epoch count of uninterrupted fits, per family, in a child process."""
    tmp = tmp_path_factory.mktemp("uninterrupted")
    results = {}
    for family in ("cnn", "transfer", "cnn-ema", "cnn-cosine"):
        result, out = run_child(tmp, family, "none", 0, "-")
        assert result.returncode == 0, result.stderr
        results[family] = np.load(out), int(result.stdout.split()[-1])
    return results


@pytest.mark.parametrize("family", ["cnn", "transfer", "cnn-ema", "cnn-cosine"])
@pytest.mark.slow
def test_a_killed_fit_resumes_and_ends_as_an_uninterrupted_one(tmp_path, family, uninterrupted):
    checkpoint = tmp_path / "run.ckpt"
    killed, _ = run_child(tmp_path, family, "kill-after", 3, checkpoint)
    assert killed.returncode == -signal.SIGKILL
    assert checkpoint.exists()
    resumed, out = run_child(tmp_path, family, "none", 0, checkpoint)
    assert resumed.returncode == 0, resumed.stderr
    expected, epochs = uninterrupted[family]
    assert int(resumed.stdout.split()[-1]) == epochs
    np.testing.assert_array_equal(np.load(out), expected)


def temporary_files(folder):
    """fersk._atomic's temporary files beside the checkpoint run.ckpt: .run.ckpt.<random>.tmp.ckpt"""
    return [p for p in os.listdir(folder) if p.startswith(".run.ckpt.") and ".tmp" in p]


@pytest.mark.slow
def test_a_kill_in_the_middle_of_a_write_leaves_the_last_checkpoint_whole(tmp_path, uninterrupted):
    checkpoint = tmp_path / "run.ckpt"
    killed, _ = run_child(tmp_path, "cnn", "kill-in-write", 3, checkpoint)
    assert killed.returncode == -signal.SIGKILL
    leftovers = temporary_files(tmp_path)
    assert leftovers, "the child should have died with a half-written temporary file"
    resumed, out = run_child(tmp_path, "cnn", "none", 0, checkpoint)
    assert resumed.returncode == 0, resumed.stderr
    expected, epochs = uninterrupted["cnn"]
    assert int(resumed.stdout.split()[-1]) == epochs
    np.testing.assert_array_equal(np.load(out), expected)
    assert not temporary_files(tmp_path), "resume should clear stale temporary files"


def test_a_finished_checkpoint_is_restored_without_training(tmp_path, capsys):
    X, y = make_faces(84, image_size=24, random_state=0)
    checkpoint = tmp_path / "run.ckpt"
    first = cnn(max_epochs=2, checkpoint=checkpoint).fit(X, y)
    again = cnn(max_epochs=2, checkpoint=checkpoint, verbose=1).fit(X, y)
    assert "2 epoch(s) done, 0 to go" in capsys.readouterr().out
    assert len(again.history) == 2
    np.testing.assert_array_equal(again.predict_proba(X), first.predict_proba(X))


def test_a_checkpoint_of_other_data_or_a_model_file_is_refused(tmp_path):
    X, y = make_faces(84, image_size=24, random_state=0)
    checkpoint = tmp_path / "run.ckpt"
    model = cnn(max_epochs=2, checkpoint=checkpoint).fit(X, y)
    with pytest.raises(ValueError, match="fitted on other data; delete it to start afresh"):
        cnn(max_epochs=2, checkpoint=checkpoint).fit(X[:-1], y[:-1])
    with pytest.raises(ValueError, match="not a training checkpoint"):
        cnn(max_epochs=2, checkpoint=save(model, tmp_path / "model.fersk")).fit(X, y)
    with pytest.raises(ValueError, match="is a training checkpoint, not a model file"):
        load(checkpoint)
    with pytest.raises(ValueError, match=r"with other values of .*module__channels"):
        CNNClassifier(max_epochs=2, module__channels=(4, 4), module__hidden=16, checkpoint=checkpoint).fit(X, y)


def test_a_checkpoint_written_with_other_parameters_is_refused_not_resumed(tmp_path):
    # a fit with another lr resumed the finished checkpoint of lr=1e-3 and returned that network: in a
    # GridSearchCV given checkpoint=, every candidate after the first was the first one's network
    X, y = make_faces(84, image_size=24, random_state=0)
    checkpoint = tmp_path / "run.ckpt"
    cnn(max_epochs=2, checkpoint=checkpoint).fit(X, y)
    message = r"with other values of augment, lr, and resuming it would give that model .* to the final fit only"
    with pytest.raises(ValueError, match=message):
        cnn(max_epochs=2, lr=0.5, augment="none", checkpoint=checkpoint).fit(X, y)
    with pytest.raises(ValueError, match=r"fitted on other data; .* a search or cross-validation makes many"):
        cross_val_score(cnn(max_epochs=2, checkpoint=tmp_path / "cv.ckpt"), X, y, cv=2, error_score="raise")


def test_a_loaded_model_trained_on_with_warm_start_takes_its_new_settings(tmp_path):
    """Continuing a saved model (warm_start) uses the callbacks and settings set since it was saved."""
    from fersk.training import TimeBudget

    X, y = make_faces(70, image_size=24, random_state=0)
    fitted = CNNClassifier(max_epochs=2, module__channels=(4, 8), module__hidden=16, random_state=0).fit(X, y)
    model = load(save(fitted, tmp_path / "m.fersk"))
    model.set_params(warm_start=True, max_epochs=4, early_stopping=2, callbacks=[("budget", TimeBudget(0))])
    before = [p.detach().clone() for p in model.module_.parameters()]
    model.fit(X, y)
    assert len(model.history) == 3  # two epochs before, one more: the new time budget stopped it
    assert dict(model.callbacks_)["early_stopping"].patience == 2
    after = list(model.module_.parameters())
    assert any(not np.array_equal(a.detach().numpy(), b.numpy()) for a, b in zip(after, before))  # trained on


def test_a_checkpointed_fit_takes_parameters_that_cannot_be_pickled(tmp_path):
    # the checkpoint's hash of each parameter pickled it: a lambda given as worker_init_fn failed the fit
    X, y = make_faces(56, image_size=24, random_state=0)
    checkpoint = tmp_path / "run.ckpt"
    model = cnn(max_epochs=1, checkpoint=checkpoint, iterator_train__worker_init_fn=lambda worker: None).fit(X, y)
    assert checkpoint.exists() and len(model.history) == 1
    resumed = cnn(max_epochs=1, checkpoint=checkpoint, iterator_train__worker_init_fn=lambda worker: None).fit(X, y)
    np.testing.assert_array_equal(resumed.predict_proba(X), model.predict_proba(X))  # the finished run, restored


class StopAfter(Callback):
    """Ends training at the end of epoch ``epoch`` of the history as Ctrl-C does: skorch catches the
    KeyboardInterrupt and ends the fit, keeping what was trained."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise KeyboardInterrupt


def test_an_interrupted_warm_start_resumes_to_the_epochs_it_was_given(tmp_path):
    # a warm start of 3 epochs after 2, interrupted after its first: its checkpoint was written as
    # finished (3 epochs in the history, max_epochs=3), and the next fit trained none
    X, y = make_faces(84, image_size=24, random_state=0)
    base = cnn(max_epochs=2).fit(X, y)

    def warm(**params):
        return pickle.loads(pickle.dumps(base)).set_params(warm_start=True, max_epochs=3, **params)

    expected = warm().fit(X, y)
    assert len(expected.history) == 5
    checkpoint = tmp_path / "warm.ckpt"
    interrupted = warm(checkpoint=checkpoint, callbacks=[("stop", StopAfter(3))]).fit(X, y)
    assert len(interrupted.history) == 3
    resumed = warm(checkpoint=checkpoint).fit(X, y)
    assert len(resumed.history) == 5
    np.testing.assert_array_equal(resumed.predict_proba(X), expected.predict_proba(X))
    again = warm(checkpoint=checkpoint).fit(X, y)  # this warm start's finished run: restored, not trained on
    assert len(again.history) == 5
    np.testing.assert_array_equal(again.predict_proba(X), expected.predict_proba(X))


def test_a_warm_start_fitted_again_after_ctrl_c_resumes_it(tmp_path):
    # in a notebook: the warm start is interrupted, and fit is run again on the same model
    X, y = make_faces(84, image_size=24, random_state=0)
    base = cnn(max_epochs=2).fit(X, y)
    expected = pickle.loads(pickle.dumps(base)).set_params(warm_start=True, max_epochs=3).fit(X, y)
    checkpoint = tmp_path / "warm.ckpt"
    model = base.set_params(warm_start=True, max_epochs=3, checkpoint=checkpoint, callbacks=[("stop", StopAfter(4))])
    model.fit(X, y)
    assert len(model.history) == 4
    model.set_params(callbacks=None).fit(X, y)
    assert len(model.history) == 5
    np.testing.assert_array_equal(model.predict_proba(X), expected.predict_proba(X))
    other = cnn(max_epochs=2, checkpoint=checkpoint)  # a new model: the file holds epochs 3 to 5 of another fit
    with pytest.raises(ValueError, match=r"holds a fit of epochs 3 to 5, and this model has trained 0 epoch"):
        other.fit(X, y)


def test_a_warm_start_goes_on_from_the_finished_checkpoint_of_the_fit_it_continues(tmp_path):
    X, y = make_faces(84, image_size=24, random_state=0)
    checkpoint = tmp_path / "run.ckpt"
    model = cnn(max_epochs=2, checkpoint=checkpoint).fit(X, y)
    expected = pickle.loads(pickle.dumps(model)).set_params(checkpoint=None, warm_start=True, max_epochs=3).fit(X, y)
    model.set_params(warm_start=True, max_epochs=3).fit(X, y)
    assert len(model.history) == 5
    np.testing.assert_array_equal(model.predict_proba(X), expected.predict_proba(X))


def test_a_resumed_fit_leaves_the_global_generators_as_they_were(tmp_path):
    X, y = make_faces(84, image_size=24, random_state=0)
    checkpoint = tmp_path / "run.ckpt"
    params = dict(max_epochs=3, augment="strong", mixup=0.4, iterator_train__shuffle=True)
    cnn(**params, checkpoint=checkpoint, callbacks=[("stop", StopAfter(1))]).fit(X, y)
    torch.manual_seed(99)
    before = torch.get_rng_state(), np.random.get_state(), random.getstate()  # noqa: NPY002
    resumed = cnn(**params, checkpoint=checkpoint).fit(X, y)
    after = torch.get_rng_state(), np.random.get_state(), random.getstate()  # noqa: NPY002
    assert len(resumed.history) == 3
    assert torch.equal(before[0], after[0])
    for a, b in zip(before[1], after[1]):
        np.testing.assert_array_equal(a, b)
    assert before[2] == after[2]
    # and ends as the uninterrupted fit does
    np.testing.assert_array_equal(resumed.predict_proba(X), cnn(**params).fit(X, y).predict_proba(X))
