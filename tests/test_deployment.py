"""A fitted model behind an application: shared by a web server's threads, loaded before forking workers."""

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import fersk


@pytest.fixture(scope="module")
def faces():
    return fersk.make_faces(130, image_size=48, random_state=0)


def test_threads_sharing_one_model_get_the_single_threaded_probabilities(faces):
    X, y = faces
    model = fersk.CNNClassifier(max_epochs=1, module__channels=(8, 16), tta="flip", random_state=0).fit(X, y)
    sizes = [1, 7, 65]
    expected = {n: model.predict_proba(X[:n]) for n in sizes}
    model.module_.train()  # the folded copy is made again on the threads' first calls, at once
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda n: (n, model.predict_proba(X[:n])), sizes * 4))
    for n, proba in results:
        np.testing.assert_array_equal(proba, expected[n])


# A fresh interpreter: torch's thread pool must not have started before the model is loaded.
FORKED = textwrap.dedent(
    """
    import os, sys, time
    import numpy as np, torch, fersk

    torch.set_num_threads(2)  # the pool that hangs a forked child is a pool of more than one thread
    model = fersk.load_pretrained("fer2013").set_params(tta=None)  # in the parent, as gunicorn --preload
    X = np.load(sys.argv[1])
    pid = os.fork()
    if pid == 0:
        np.save(sys.argv[2], model.predict_proba(X))
        os._exit(0)
    deadline = time.monotonic() + 120  # a guard against the hang, not a measure of time: the child takes 1-2 s
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            sys.exit(os.waitstatus_to_exitcode(status))
        time.sleep(0.1)
    os.kill(pid, 9)  # hung in torch's thread pool
    os.waitpid(pid, 0)
    sys.exit("the forked child hung")
    """
)


def test_a_model_loaded_before_forking_predicts_in_the_child(faces, tmp_path):
    X, _ = faces
    np.save(tmp_path / "X.npy", X[:64])
    run = subprocess.run(
        [sys.executable, "-c", FORKED, str(tmp_path / "X.npy"), str(tmp_path / "proba.npy")],
        capture_output=True,
        text=True,
        timeout=600,  # a guard against a hang, not a measure of time
    )
    assert run.returncode == 0, run.stderr[-2000:]
    expected = fersk.load_pretrained("fer2013").set_params(tta=None).predict_proba(X[:64])
    np.testing.assert_allclose(np.load(tmp_path / "proba.npy"), expected, atol=1e-6)
