"""Checkpoint and resume: a fit killed with SIGKILL resumes and ends as an uninterrupted fit does."""

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.model_selection import cross_val_score

from fersk import CNNClassifier, load, make_faces, save

from ..classifiers.test_estimators import cnn

# A child process fits a small network. With "kill-after N" a callback SIGKILLs the process
# at the end of epoch N (after that epoch's checkpoint); with "kill-in-write N" the process
# dies in the middle of writing the checkpoint of epoch N, leaving a half-written file.
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    from skorch.callbacks import Callback
    import fersk._archive
    from fersk import CNNClassifier, TransferClassifier, make_faces

    family, mode, epoch, checkpoint, out = sys.argv[1:]
    epoch = int(epoch)

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
        fersk._archive.os.fsync = dying_fsync

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
    result = subprocess.run(
        [sys.executable, str(script), family, mode, str(epoch), str(checkpoint), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
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


@pytest.mark.slow
def test_a_kill_in_the_middle_of_a_write_leaves_the_last_checkpoint_whole(tmp_path, uninterrupted):
    checkpoint = tmp_path / "run.ckpt"
    killed, _ = run_child(tmp_path, "cnn", "kill-in-write", 3, checkpoint)
    assert killed.returncode == -signal.SIGKILL
    leftovers = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    assert leftovers, "the child should have died with a half-written temporary file"
    resumed, out = run_child(tmp_path, "cnn", "none", 0, checkpoint)
    assert resumed.returncode == 0, resumed.stderr
    expected, epochs = uninterrupted["cnn"]
    assert int(resumed.stdout.split()[-1]) == epochs
    np.testing.assert_array_equal(np.load(out), expected)
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")], "resume should clear stale temporary files"


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
    model.set_params(warm_start=True, max_epochs=4, early_stopping=2, callbacks=[("budget", TimeBudget(1e-3))])
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
