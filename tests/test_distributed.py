"""Grid search and cross-validation over fersk estimators on a Dask cluster give the local scores.

A ``LocalCluster`` of two worker processes stands in for a real cluster: the code is the
same, only the scheduler address differs (see the user guide, "Scaling out").
"""

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score

from fersk import CNNClassifier, HOGSVMClassifier, make_faces

distributed = pytest.importorskip("distributed", reason="dask.distributed is optional: pip install fersk[dask]")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            yield client


@pytest.fixture(scope="module")
def faces():
    return make_faces(112, image_size=24, difficulty=0.3, random_state=0)


def cnn():
    return CNNClassifier(max_epochs=2, module__channels=(4, 8), module__hidden=16, batch_size=32, random_state=0)


@pytest.mark.slow
def test_grid_search_on_dask_equals_the_local_run(client, faces):
    X, y = faces
    grid = {"lr": [1e-3, 3e-3]}
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    local = GridSearchCV(cnn(), grid, cv=cv, n_jobs=1).fit(X, y)
    with joblib.parallel_config(backend="dask"):
        remote = GridSearchCV(cnn(), grid, cv=cv, n_jobs=-1).fit(X, y)
    assert len(client.scheduler_info()["workers"]) == 2
    np.testing.assert_array_equal(remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"])
    assert remote.best_params_ == local.best_params_
    np.testing.assert_array_equal(remote.predict(X), local.predict(X))


def test_cross_val_score_on_dask_equals_the_local_run(client, faces):
    X, y = faces
    model = HOGSVMClassifier(pixels_per_cell=(6, 6), random_state=0)
    local = cross_val_score(model, X, y, cv=3, n_jobs=1)
    with joblib.parallel_config(backend="dask"):
        remote = cross_val_score(model, X, y, cv=3, n_jobs=-1)
    np.testing.assert_array_equal(remote, local)
