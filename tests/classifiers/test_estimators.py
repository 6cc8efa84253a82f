import pickle
import urllib.error
import warnings

import numpy as np
import pytest
import torch
from imblearn.over_sampling import SMOTE, RandomOverSampler
from imblearn.pipeline import make_pipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score, cross_validate
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import Normalizer, StandardScaler
from skorch.callbacks import Callback

from fersk import CNNClassifier, HOGSVMClassifier, TransferClassifier, make_faces, save
from fersk.backbones import create_backbone


def hog(**kw):
    return HOGSVMClassifier(**{"pixels_per_cell": (6, 6), "random_state": 0, **kw})


def cnn(**kw):
    params = dict(max_epochs=1, module__channels=(4, 8), module__hidden=16, batch_size=32, random_state=0)
    return CNNClassifier(**{**params, **kw})


def transfer(**kw):
    params = dict(backbone="test_tiny", weights=None, max_epochs=2, head_epochs=1, batch_size=32, random_state=0)
    return TransferClassifier(**{**params, **kw})


FAMILIES = {"hog": hog, "cnn": cnn, "transfer": transfer}


@pytest.fixture(scope="module")
def faces():
    X, y = make_faces(112, image_size=24, difficulty=0.0, random_state=0)
    return X, y


@pytest.mark.parametrize("make", FAMILIES.values(), ids=FAMILIES)
def test_pickle_and_clone(faces, make):
    X, y = faces
    model = make().fit(X, y)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert set(model.predict(X)) <= set(model.classes_)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), proba)
    fresh = clone(model)
    assert not hasattr(fresh, "image_shape_") and fresh.get_params()["random_state"] == 0


@pytest.mark.parametrize("make", FAMILIES.values(), ids=FAMILIES)
def test_an_unfitted_estimator_pickles_with_its_parameters(make):
    model = make()
    restored = pickle.loads(pickle.dumps(model))
    before, after = model.get_params(deep=False), restored.get_params(deep=False)
    assert before.keys() == after.keys()
    scalars = {k for k, v in before.items() if isinstance(v, (str, int, float, tuple, type(None)))}
    assert {k: after[k] for k in scalars} == {k: before[k] for k in scalars}  # device "auto" stays "auto"


@pytest.mark.parametrize("make", [cnn, transfer], ids=["cnn", "transfer"])
def test_same_seed_same_predictions(faces, make):
    X, y = faces
    first = make(augment="strong", mixup=0.2).fit(X, y).predict_proba(X)
    second = make(augment="strong", mixup=0.2).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)


class _CudnnSpy(Callback):
    """Records cuDNN's (deterministic, benchmark) settings as each epoch begins."""

    def __init__(self, seen):
        self.seen = seen

    def on_epoch_begin(self, net, **kwargs):
        self.seen.append((torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark))


@pytest.mark.parametrize("seed", [0, None])
def test_a_seeded_fit_trains_with_deterministic_cudnn_and_gives_the_settings_back(faces, seed):
    # cuDNN's fastest convolution gradients sum in a varying order, so on a GPU the same seed
    # gives the same network only with its deterministic algorithms (seen on an H200: 1e-4 apart)
    X, y = faces
    cudnn = torch.backends.cudnn
    saved = cudnn.deterministic, cudnn.benchmark
    seen = []
    try:
        cudnn.deterministic, cudnn.benchmark = False, True
        cnn(max_epochs=2, random_state=seed, callbacks=[("spy", _CudnnSpy(seen))]).fit(X, y)
        expected = (True, False) if seed is not None else (False, True)  # unseeded: the caller's settings
        assert seen == [expected] * 2
        assert (cudnn.deterministic, cudnn.benchmark) == (False, True)
    finally:
        cudnn.deterministic, cudnn.benchmark = saved


def test_image_shaped_input_equals_flattened(faces):
    X, y = faces
    flat = hog().fit(X, y).predict_proba(X)
    shaped = hog().fit(X.reshape(-1, 24, 24), y).predict_proba(X.reshape(-1, 24, 24, 1))
    np.testing.assert_allclose(flat, shaped)


def test_grid_search_over_nested_parameters(faces):
    X, y = faces
    search = GridSearchCV(cnn(), {"lr": [1e-3, 1e-2], "module__hidden": [8, 16]}, cv=2, scoring="f1_macro").fit(X, y)
    assert set(search.best_params_) == {"lr", "module__hidden"}
    assert len(search.cv_results_["params"]) == 4
    search = GridSearchCV(transfer(), {"backbone": ["test_tiny"], "fine_tune_layers": [0, "all"]}, cv=2).fit(X, y)
    assert search.best_estimator_.fine_tune_layers in (0, "all")


@pytest.mark.parametrize("sampler", [RandomOverSampler, RandomUnderSampler, SMOTE])
@pytest.mark.parametrize("make", FAMILIES.values(), ids=FAMILIES)
def test_imblearn_pipeline_cross_validated(sampler, make):
    X, y = make_faces(140, image_size=24, weights=[3, 1, 1, 1, 1, 1, 2], difficulty=0.0, random_state=1)
    options = {"k_neighbors": 3} if sampler is SMOTE else {}
    pipeline = make_pipeline(sampler(random_state=0, **options), make())
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    result = cross_validate(pipeline, X, y, cv=cv, return_estimator=True, return_indices=True)
    for score, fitted, train, test in zip(
        result["test_score"], result["estimator"], result["indices"]["train"], result["indices"]["test"]
    ):
        assert score == fitted.score(X[test], y[test])  # each fold scored by the pipeline fitted on it
        _, resampled = fitted[0].fit_resample(X[train], y[train])
        assert len(set(np.unique(resampled, return_counts=True)[1])) == 1  # the classifier saw balanced classes


def test_soft_voting_and_calibration(faces):
    X, y = faces
    voting = VotingClassifier([(k, f()) for k, f in FAMILIES.items()], voting="soft").fit(X, y)
    assert voting.predict_proba(X).shape == (len(X), 7)
    calibrated = CalibratedClassifierCV(cnn(), cv=2).fit(X, y)
    np.testing.assert_allclose(calibrated.predict_proba(X).sum(axis=1), 1.0, rtol=1e-6)


def test_balanced_class_weight_reaches_the_loss():
    X, y = make_faces(60, image_size=24, weights=[4, 1], emotions=["happy", "sad"], random_state=0)
    model = cnn(class_weight="balanced").fit(X, y)
    counts = np.array([np.sum(y == c) for c in model.classes_])
    np.testing.assert_allclose(model.criterion_.weight.cpu().numpy(), len(y) / (2 * counts), rtol=1e-6)
    milder = cnn(class_weight="balanced_sqrt").fit(X, y)
    np.testing.assert_allclose(milder.criterion_.weight.cpu().numpy(), np.sqrt(len(y) / (2 * counts)), rtol=1e-6)
    with pytest.raises(ValueError, match="balanced_sqrt"):
        cnn(class_weight="auto").fit(X, y)


@pytest.mark.parametrize("tta", ["flip", "crops"])
def test_tta_averages_views(faces, tta):
    X, y = faces
    model = cnn().fit(X, y)
    images = X.reshape(-1, 24, 24)
    symmetric = np.concatenate([images[:, :, :12], images[:, :, :12][:, :, ::-1]], axis=2).reshape(len(X), -1)
    plain = model.predict_proba(symmetric)
    model.set_params(tta=tta)
    averaged = model.predict_proba(symmetric)
    np.testing.assert_allclose(averaged.sum(axis=1), 1.0, rtol=1e-5)
    if tta == "flip":  # a mirror-symmetric face looks the same flipped
        np.testing.assert_allclose(averaged, plain, atol=1e-6)
    else:
        assert not np.allclose(averaged, plain)


@pytest.mark.parametrize("make", [cnn, transfer], ids=["cnn", "transfer"])
def test_transform_gives_the_features_the_head_takes_in(faces, make):
    X, y = faces
    model = make().fit(X, y)
    features = model.transform(X[:5])
    assert features.shape == (5, model.module_.embed(torch.zeros(1, 1, 24, 24, device=model.device_)).shape[1])
    assert features.dtype == np.float32
    head = model.module_.head[2:] if make is cnn else model.module_.head  # FERNet's head starts by pooling
    with torch.no_grad():
        logits = head.eval()(torch.as_tensor(features, device=model.device_))
    np.testing.assert_allclose(torch.softmax(logits, 1).cpu().numpy(), model.predict_proba(X[:5]), rtol=1e-4, atol=1e-6)


def test_transform_averages_the_tta_views(faces):
    X, y = faces
    model = cnn().fit(X, y)
    mirrored = X.reshape(-1, 24, 24)[:, :, ::-1].reshape(len(X), -1)
    expected = (model.transform(X) + model.transform(mirrored)) / 2
    np.testing.assert_allclose(model.set_params(tta="flip").transform(X), expected, rtol=1e-5, atol=1e-6)


def test_a_network_feeds_nearest_neighbours_in_a_pipeline(faces):
    X, y = faces
    pipe = make_pipeline(cnn(max_epochs=3), Normalizer(), KNeighborsClassifier(n_neighbors=3))
    scores = cross_val_score(pipe, X, y, cv=StratifiedKFold(2, shuffle=True, random_state=0))
    assert scores.mean() > 1 / len(np.unique(y))  # better than chance on easy faces


def test_a_balanced_linear_head_retrained_on_a_networks_features(faces):
    # the README's recipe for rare classes: the network's features, a class-balanced logistic regression
    X, y = faces
    head = LogisticRegression(class_weight="balanced", max_iter=2000)
    pipe = make_pipeline(cnn(max_epochs=3), Normalizer(), StandardScaler(), head)
    scores = cross_val_score(pipe, X, y, cv=StratifiedKFold(2, shuffle=True, random_state=0))
    assert scores.mean() > 1 / len(np.unique(y))  # better than chance on easy faces
    proba = pipe.fit(X, y).predict_proba(X[:5])
    assert proba.shape == (5, len(np.unique(y)))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


class NoEmbed(torch.nn.Module):
    def __init__(self, n_classes, in_chans):
        super().__init__()
        self.linear = torch.nn.Linear(in_chans * 24 * 24, n_classes)

    def forward(self, x):
        return self.linear(x.flatten(1))


def test_transform_of_a_module_without_embed_says_what_is_missing(faces):
    X, y = faces
    model = CNNClassifier(NoEmbed, max_epochs=1, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=r"embed\(x\).*NoEmbed"):
        model.transform(X)


def test_frozen_backbone_keeps_batchnorm_statistics(faces):
    X, y = faces
    model = transfer(max_epochs=1, head_epochs=1, fine_tune_layers="all")
    model.fit(X, y)
    reference = create_backbone("test_tiny", n_classes=7)
    bn = model.module_.stages[0][1]
    np.testing.assert_array_equal(bn.running_mean.cpu().numpy(), reference.stages[0][1].running_mean.numpy())
    assert not any(p.requires_grad for p in model.module_.stages[0].parameters())
    assert all(p.requires_grad for p in model.module_.head.parameters())


def test_second_phase_unfreezes_the_last_stages(faces):
    X, y = faces
    model = transfer(max_epochs=2, head_epochs=1, fine_tune_layers=1).fit(X, y)
    stages = model.module_.stages
    assert not any(p.requires_grad for p in stages[0].parameters())
    assert all(p.requires_grad for p in stages[1].parameters())
    assert [g["lr"] for g in model.optimizer_.param_groups] == [1e-3, 1e-4]


def test_weights_from_a_state_dict_and_from_a_fersk_model(faces, tmp_path):
    X, y = faces
    donor = transfer(max_epochs=1).fit(X, y)
    donor.save_params(f_params=tmp_path / "fersk.pt")
    # one epoch with the body frozen: the receiver's body is the donor's, BatchNorm included
    receiver = transfer(weights=str(tmp_path / "fersk.pt"), max_epochs=1, head_epochs=1).fit(X, y)
    for (name, a), b in zip(donor.module_.body.state_dict().items(), receiver.module_.body.state_dict().values()):
        assert torch.equal(a, b), name
    body = create_backbone("test_tiny", n_classes=3).body
    torch.save(body.state_dict(), tmp_path / "plain.pth")
    loaded = create_backbone("test_tiny", n_classes=3, weights=str(tmp_path / "plain.pth"))
    assert torch.equal(loaded.body[0][0].weight, body[0][0].weight)
    torch.save({"nonsense.weight": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="do not fit backbone 'test_tiny'"):
        create_backbone("test_tiny", n_classes=3, weights=str(tmp_path / "bad.pth"))
    with pytest.raises(
        ValueError, match=r"the name of a model fersk ships \(fer2013, fer2013-muxspace\), None nor an existing file"
    ):
        create_backbone("test_tiny", n_classes=3, weights="missing.pth")


def test_weights_of_another_backbone_say_which_to_pass(faces, tmp_path):
    X, y = faces
    body = create_backbone("test_tiny", n_classes=3).body
    reshaped = {  # the same keys, each tensor one wider
        key: torch.zeros(*value.shape[:-1], value.shape[-1] + 1) if value.dim() else value
        for key, value in body.state_dict().items()
    }
    torch.save(reshaped, tmp_path / "reshaped.pth")
    with pytest.raises(ValueError, match=r"do not fit backbone 'test_tiny': size mismatch for "):
        create_backbone("test_tiny", n_classes=3, weights=str(tmp_path / "reshaped.pth"))
    donor = save(transfer(max_epochs=1).fit(X, y), tmp_path / "tiny.fersk")
    with pytest.raises(ValueError, match=r"they are a 'test_tiny' backbone's: pass backbone='test_tiny'"):
        create_backbone("fernet", n_classes=3, weights=str(donor))


@pytest.mark.parametrize(
    "content, message",
    [
        (lambda path: path.write_text("not weights"), r"torch.load cannot read .*torch.save\(model.state_dict"),
        (lambda path: torch.save(torch.nn.Linear(2, 2), path), r"more than tensors \(a whole pickled model"),
        (lambda path: torch.save([torch.zeros(1)], path), r"holds a list, not a state dict of tensors"),
    ],
    ids=["text", "pickled-module", "list"],
)
def test_a_weights_file_that_is_not_a_state_dict_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "weights.pth"
    content(path)
    with pytest.raises(ValueError, match=message):
        create_backbone("test_tiny", n_classes=3, weights=str(path))


def test_imagenet_weights_offline_error_says_what_to_do(monkeypatch, tmp_path):
    from torchvision.models import ResNet18_Weights

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def offline(self, *args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(type(ResNet18_Weights.DEFAULT), "get_state_dict", offline)
    with pytest.raises(
        RuntimeError, match=r"could not get ImageNet weights for 'resnet18'.*put it at .*checkpoints.*weights=None"
    ):
        create_backbone("resnet18", n_classes=7, weights="imagenet")


def test_imagenet_weights_load_from_the_local_cache(monkeypatch, tmp_path):
    from torchvision.models import ResNet18_Weights, resnet18

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    weights = ResNet18_Weights.DEFAULT
    reference = resnet18(weights=None)
    target = tmp_path / "hub" / "checkpoints" / weights.url.rsplit("/", 1)[1]
    target.parent.mkdir(parents=True)
    torch.save(reference.state_dict(), target)
    net = create_backbone("resnet18", n_classes=7, weights="imagenet")
    assert torch.equal(net.body.conv1.weight, reference.conv1.weight)


def test_unknown_backbone_suggests_a_name():
    with pytest.raises(ValueError, match="unknown backbone 'resnet81'; did you mean 'resnet18'"):
        create_backbone("resnet81", n_classes=2)


def test_model_fitted_for_cuda_loads_on_cpu(faces):
    X, y = faces
    model = cnn().fit(X, y)
    expected = model.predict_proba(X)
    model.device = model.device_ = "cuda"  # as a model trained with device="cuda" on a GPU holds them
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        restored = pickle.loads(pickle.dumps(model))
    if not torch.cuda.is_available():  # skorch's fallback, with its warning: a device by name follows it
        assert (str(restored.device), restored.device_) == ("cpu", "cpu")
    np.testing.assert_allclose(restored.predict_proba(X), expected, rtol=1e-5)


def test_partial_fit_continues_training(faces):
    X, y = faces
    model = cnn(validation_fraction=0).partial_fit(X, y)  # first call fits
    assert len(model.history) == 1
    model.partial_fit(X[:40], y[:40])
    assert len(model.history) == 2
    with pytest.raises(ValueError, match="never saw at fit"):
        model.partial_fit(X[:4], np.array(["bored"] * 4))


@pytest.mark.parametrize("image_shape", [(24, -1), (-1, 24, 1)])
def test_image_shape_may_hold_minus_one(faces, image_shape):
    X, y = faces
    assert hog(image_shape=image_shape).fit(X, y).image_shape_ == (24, 24, 1)
    with pytest.raises(ValueError, match="not a multiple"):
        hog(image_shape=(25, -1)).fit(X, y)


def test_a_fixed_validation_set_drives_early_stopping(faces):
    X, y = faces
    model = cnn(max_epochs=2, validation_fraction=0).fit(X[:80], y[:80], X_val=X[80:], y_val=y[80:])
    assert "valid_loss" in model.history[-1] and "valid_acc" in model.history[-1]
    assert model.validation_set_ is None  # not kept after fit
    with pytest.raises(ValueError, match="both X_val and y_val"):
        cnn().fit(X, y, X_val=X[:4])
    with pytest.raises(ValueError, match="never saw"):
        cnn().fit(X, y, X_val=X[:2], y_val=["bored", "bored"])


def test_a_time_budget_stops_training_and_keeps_the_best_weights(faces):
    from fersk.training import TimeBudget

    X, y = faces
    model = cnn(max_epochs=5, callbacks=[("time_budget", TimeBudget(seconds=0))]).fit(X, y)
    assert len(model.history) == 1 and model.history[-1, "time_budget_stop"]
    assert set(model.predict(X)) <= set(y)


@pytest.mark.slow
def test_a_cosine_schedule_anneals_the_learning_rate_over_max_epochs(faces):
    X, y = faces
    model = cnn(max_epochs=4, lr=0.01, lr_schedule="cosine", early_stopping=None).fit(X, y)
    lrs = model.history[:, "event_lr"]
    np.testing.assert_allclose(lrs, [0.01 * (1 + np.cos(np.pi * e / 4)) / 2 for e in range(4)], rtol=1e-6)
    model.partial_fit(X, y)  # continues the curve where it stopped: at 0, then back up
    np.testing.assert_allclose(model.history[4:6, "event_lr"], [0.0, 0.01 * (1 - np.cos(np.pi / 4)) / 2], atol=1e-9)
    plateau = cnn(max_epochs=2, lr=0.01).fit(X, y)
    assert plateau.history[:, "event_lr"] == [0.01, 0.01]
    unknown = clone(cnn(lr_schedule="linear"))  # refused at fit, as scikit-learn checks parameters
    message = r"The 'lr_schedule' parameter of CNNClassifier must be a str among \{'\w+', '\w+'\}. Got 'linear'"
    with pytest.raises(ValueError, match=message):
        unknown.fit(X, y)


def test_accelerate_mixin_is_refused_rather_than_dropping_augmentation(faces):
    from skorch.hf import AccelerateMixin

    class AcceleratedCNN(AccelerateMixin, CNNClassifier):
        pass

    with pytest.raises(ValueError, match="AccelerateMixin replaces train_step_single"):
        AcceleratedCNN(accelerator=object(), max_epochs=1).fit(*faces)


@pytest.mark.parametrize("make", [cnn, lambda **kw: transfer(head="mlp", **kw)], ids=["cnn", "transfer-mlp"])
def test_a_last_batch_of_one_image_does_not_break_batchnorm(make):
    # 33 images in batches of 32: BatchNorm in the head cannot train on the 33rd alone
    X, y = make_faces(33, image_size=24, random_state=0)
    model = make(validation_fraction=0, early_stopping=None).fit(X, y)
    assert model.history_[-1, "batches", -1, "train_batch_size"] == 32
    assert set(model.predict(X)) <= set(model.classes_)


def test_weight_decay_and_its_skorch_route_set_one_thing(faces):
    X, y = faces
    routed = cnn(optimizer__weight_decay=0.01).fit(X, y)
    assert routed.optimizer_.param_groups[0]["weight_decay"] == 0.01
    flat = cnn(weight_decay=0.02).fit(X, y)
    assert flat.optimizer_.param_groups[0]["weight_decay"] == 0.02
    assert cnn(weight_decay=0.01, optimizer__weight_decay=0.01).fit(X, y)  # the same value twice is no conflict
    with pytest.raises(ValueError, match="weight_decay=0.02 and optimizer__weight_decay=0.01 set the same thing"):
        cnn(weight_decay=0.02, optimizer__weight_decay=0.01).fit(X, y)


def test_train_split_none_trains_on_everything_as_skorch_documents(faces):
    from skorch.dataset import ValidSplit

    X, y = faces
    assert "valid_loss" in cnn().fit(X, y).history[-1]  # "auto": validation_fraction held out
    everything = cnn(train_split=None).fit(X, y)
    assert "valid_loss" not in everything.history[-1]
    assert everything.history[-1, "batches"][0]["train_batch_size"] == 32  # all 112 images in batches of 32
    assert sum(b["train_batch_size"] for b in everything.history[-1, "batches"]) == len(y)
    five_fold = cnn(train_split=ValidSplit(5, stratified=True), validation_fraction=0).fit(X, y)
    held_out = sum(b.get("valid_batch_size", 0) for b in five_fold.history[-1, "batches"])
    assert held_out == pytest.approx(len(y) / 5, abs=1)  # one fold of five, not validation_fraction


def test_own_parameter_groups_replace_the_backbone_learning_rate_scale(faces):
    X, y = faces
    model = transfer(backbone_lr_scale=0.1, lr=0.01).fit(X, y)
    assert [g["lr"] for g in model.optimizer_.param_groups] == [0.01, 0.001]
    own = transfer(backbone_lr_scale=0.1, lr=0.01, optimizer__param_groups=[("body.*", {"lr": 0.005})]).fit(X, y)
    assert sorted(g["lr"] for g in own.optimizer_.param_groups) == [0.005, 0.01]  # the scale is unused
