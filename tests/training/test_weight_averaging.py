"""ema=: an exponential moving average of the weights, validated and kept, that leaves training alone."""

import numpy as np
import pytest
import torch

from fersk import make_faces
from fersk.training import WeightAveraging

from ..classifiers.test_estimators import cnn


@pytest.fixture(scope="module")
def faces():
    return make_faces(112, image_size=24, random_state=0)


def test_the_average_leaves_the_training_trajectory_alone(faces):
    # the network trains on its raw weights: the training losses are those of a fit without it
    X, y = faces
    common = dict(max_epochs=3, validation_fraction=0, early_stopping=None)
    plain = cnn(**common).fit(X, y)
    averaged = cnn(ema=0.9, **common).fit(X, y)
    np.testing.assert_allclose(averaged.history[:, "train_loss"], plain.history[:, "train_loss"], rtol=1e-6)
    assert not np.allclose(averaged.predict_proba(X), plain.predict_proba(X))


def test_the_fitted_model_and_validation_use_the_average(faces):
    X, y = faces
    model = cnn(ema=0.8, max_epochs=2, early_stopping=None, lr_patience=None).fit(
        X[:90], y[:90], X_val=X[90:], y_val=y[90:]
    )
    average = dict(model.callbacks_)["ema"].average_.module.state_dict()
    for name, value in model.module_.state_dict().items():
        torch.testing.assert_close(value, average[name])
    # the last epoch's validation loss is the average's loss on the validation set
    assert model.history[-1, "valid_loss"] == pytest.approx(_valid_loss(model, X[90:], y[90:]), rel=1e-5)


def test_early_stopping_restores_the_average_it_validated(faces):
    # the best epoch's validation loss is the restored model's: the snapshot is the average, not the raw weights
    X, y = faces
    model = cnn(ema=0.8, max_epochs=6, early_stopping=1, lr_patience=None, lr=0.05)
    model.fit(X[:90], y[:90], X_val=X[90:], y_val=y[90:])
    assert len(model.history) < 6, "the high learning rate should make early stopping end the fit"
    assert _valid_loss(model, X[90:], y[90:]) == pytest.approx(min(model.history[:, "valid_loss"]), rel=1e-5)


def _valid_loss(model, X, y):
    images = torch.as_tensor(model._to_tensors(X), device=model.device_)
    target = torch.as_tensor(model._encode(y), device=model.device_)
    with torch.no_grad():
        return float(model.get_loss(model.module_.eval()(images), target))


@pytest.mark.parametrize("decay", [0.0, 1.0, 1.5])
def test_a_decay_outside_zero_to_one_is_a_clear_error(faces, decay):
    with pytest.raises(
        ValueError, match=r"The 'ema' parameter of CNNClassifier must be a float in the range \(0.0, 1.0\)"
    ):
        cnn(ema=decay).fit(*faces)
    with pytest.raises(ValueError, match="decay \\(ema\\) must lie between 0 and 1"):  # the callback on its own
        WeightAveraging(decay).on_train_begin(None)


def test_the_callback_on_its_own_averages_a_plain_skorch_net(faces):
    from skorch import NeuralNetClassifier

    X, y = faces
    net = NeuralNetClassifier(
        torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(576, 7)),
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=2,
        train_split=None,
        verbose=0,
        callbacks=[("ema", WeightAveraging(0.5))],
    )
    net.fit(X.astype(np.float32) / 255, np.unique(y, return_inverse=True)[1])
    average = dict(net.callbacks_)["ema"].average_.module.state_dict()
    torch.testing.assert_close(net.module_.state_dict()["1.weight"], average["1.weight"])
