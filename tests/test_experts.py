"""Networks trained on different kinds of faces, mixed by a gate: GatedExperts and gate_experts."""

import copy

import numpy as np
import onnxruntime as ort
import pytest
import torch
from scipy.special import log_softmax, softmax
from sklearn.metrics import log_loss

import fersk
import fersk.backbones
from fersk.backbones import GatedExperts
from fersk.classifiers._calibrate import fit_expert_temperatures, fit_temperature, temper

SETTINGS = dict(weights=None, max_epochs=2, head_epochs=0, head="mlp", random_state=0)


@pytest.fixture(scope="module")
def two_kinds():
    """Faces of two kinds (as they are, and inverted) whose experts disagree on the labels."""
    X, y = fersk.make_faces(160, image_size=48, random_state=0)
    inverted = 255 - X
    shifted = np.roll(np.sort(np.unique(y)), 1)[np.searchsorted(np.sort(np.unique(y)), y)]  # each label moved one on
    posed = fersk.TransferClassifier("test_tiny", **SETTINGS).fit(X, y)
    photos = fersk.TransferClassifier("test_tiny", **SETTINGS).fit(inverted, shifted)
    return X, inverted, posed, photos


def test_the_output_is_the_log_of_the_gate_weighted_mean_of_the_experts_probabilities():
    torch.manual_seed(0)
    net = GatedExperts(n_classes=5, backbones=("test_tiny", "test_tiny", "test_tiny")).eval()
    x = torch.rand(6, 1, 48, 48)
    with torch.no_grad():
        gate = net.gate_weights(x)
        expected = sum(gate[:, [k]] * torch.softmax(expert(x), dim=1) for k, expert in enumerate(net.experts))
        assert torch.allclose(net(x).exp(), expected, atol=1e-6)
        assert not torch.allclose(gate, torch.full_like(gate, 1 / 3))  # the gate depends on the image
        assert net.embed(x).shape == (6, 3 * net.experts[0].embed(x).shape[1])


def test_gate_experts_sends_each_kind_of_face_to_its_own_expert(two_kinds):
    X, inverted, posed, photos = two_kinds
    model = fersk.gate_experts([posed, photos], [X, inverted])
    to_posed, to_photos = _gate_weights(model, X), _gate_weights(model, inverted)
    assert to_posed[:, 0].mean() > 0.75 and to_photos[:, 1].mean() > 0.75
    # so the mixture answers as each kind's own expert does, though the experts disagree (on 40% of the faces
    # trained on a CPU, 16% on a GPU, whose random draws differ)
    assert np.mean(posed.predict(X) != photos.predict(X)) > 0.1
    # the experts' own weights, mixed by the gate
    mixed = to_posed[:, [0]] * posed.predict_proba(X) + to_posed[:, [1]] * photos.predict_proba(X)
    np.testing.assert_allclose(model.predict_proba(X), mixed, atol=1e-5)
    # the experts were only read: their settings are as they were
    assert posed.tta is None and not posed.module_.training


def _gate_weights(model, X):
    """The gate's weights of images X, on the network's device (a GPU where tests run on one)."""
    with torch.no_grad():
        return model.module_.gate_weights(torch.as_tensor(model._to_tensors(X), device=model.device_)).cpu().numpy()


def _mixture_of_the_experts(model, experts, X):
    gate = _gate_weights(model, X)
    return sum(gate[:, [k]] * expert.predict_proba(X) for k, expert in enumerate(experts))


def test_gate_experts_mixes_experts_of_other_head_widths_input_sizes_and_prior_shifts(two_kinds, tmp_path):
    X, inverted, _, _ = two_kinds
    _, y = fersk.make_faces(160, image_size=48, random_state=0)
    settings = {**SETTINGS, "max_epochs": 1}
    posed = fersk.TransferClassifier("test_tiny", module__hidden=64, input_size=64, prior_shift=1.0, **settings)
    photos = fersk.TransferClassifier("test_tiny", module__hidden=32, tta="flip", **settings)
    posed.fit(X[:100], y[:100]), photos.fit(inverted, y)
    model = fersk.gate_experts([posed, photos], [X, inverted])
    assert photos.tta == "flip"  # set back after the gate read its features without it
    photos.set_params(tta=None)  # the mixture is of the experts' single views
    # the experts as their own predict_proba has them: head width, input size and prior shift kept
    mixed = _mixture_of_the_experts(model, [posed, photos], X[:30])
    np.testing.assert_allclose(model.predict_proba(X[:30]), mixed, atol=1e-5)
    loaded = fersk.load(fersk.save(model, tmp_path / "gated.fersk"))
    np.testing.assert_allclose(loaded.predict_proba(X[:30]), model.predict_proba(X[:30]), atol=1e-6)


def test_a_gated_model_saves_loads_and_exports_like_any_network(two_kinds, tmp_path):
    X, inverted, posed, photos = two_kinds
    model = fersk.gate_experts([posed, photos], [X, inverted], tta="flip")
    faces = np.concatenate([X[:20], inverted[:20]])
    loaded = fersk.load(fersk.save(model, tmp_path / "gated.fersk"))
    np.testing.assert_array_equal(loaded.predict_proba(faces), model.predict_proba(faces))
    assert isinstance(loaded.module_, GatedExperts) and loaded.tta == "flip"
    fersk.export_onnx(model, tmp_path / "gated.onnx")
    session = ort.InferenceSession(str(tmp_path / "gated.onnx"), providers=["CPUExecutionProvider"])
    onnx_proba = session.run(None, {"images": faces.astype(np.float32)})[0]
    np.testing.assert_allclose(onnx_proba, model.predict_proba(faces), atol=1e-4)


def test_a_gated_model_trains_on_with_warm_start(two_kinds):
    X, inverted, posed, photos = two_kinds
    model = fersk.gate_experts([posed, photos], [X, inverted])
    before = model.module_.gate.weight.detach().clone()
    model.set_params(warm_start=True, max_epochs=1, classes=model.classes_).fit(X, posed.predict(X))
    assert not torch.equal(model.module_.gate.weight.detach(), before)


def test_gate_experts_refuses_what_it_cannot_mix(two_kinds):
    X, inverted, posed, photos = two_kinds
    with pytest.raises(ValueError, match="two or more experts"):
        fersk.gate_experts([posed], [X])
    with pytest.raises(ValueError, match="two or more experts"):
        fersk.gate_experts([posed, photos], [X])
    cnn = fersk.CNNClassifier(max_epochs=1, module__channels=(4,)).fit(X[:40], posed.predict(X[:40]))
    with pytest.raises(ValueError, match="TransferClassifier, got CNNClassifier"):
        fersk.gate_experts([posed, cnn], [X, inverted])
    fewer = fersk.TransferClassifier("test_tiny", **SETTINGS).fit(X[:60], np.arange(60) % 2)
    with pytest.raises(ValueError, match="share classes and image shape"):
        fersk.gate_experts([posed, fewer], [X, inverted])
    with pytest.raises(ValueError, match="at least two backbones"):
        GatedExperts(n_classes=3, backbones=("test_tiny",))


def test_a_gated_model_file_transfers_its_last_experts_backbone(two_kinds, tmp_path):
    X, inverted, posed, photos = two_kinds
    path = fersk.save(fersk.gate_experts([posed, photos], [X, inverted]), tmp_path / "gated.fersk")
    net = fersk.backbones.create_backbone("test_tiny", n_classes=3, weights=path)
    for name, tensor in net.body.state_dict().items():
        assert torch.equal(tensor, photos.module_.body.state_dict()[name].cpu())
    # a backbone other than the experts' says which to pass
    with pytest.raises(ValueError, match=r"they are a 'test_tiny' backbone's: pass backbone='test_tiny'"):
        fersk.backbones.create_backbone("resnet18", n_classes=3, weights=path)


def test_each_expert_gets_its_own_temperature(two_kinds, tmp_path):
    X, inverted, posed, photos = two_kinds
    model = fersk.gate_experts([posed, photos], [X, inverted])
    _, y = fersk.make_faces(160, image_size=48, random_state=0)
    shifted = photos.predict(inverted)  # the photos expert's own answers: it is right on all of them, and shy
    X_val, y_val = np.concatenate([X[:80], inverted[:80]]), np.concatenate([y[:80], shifted[:80]])
    before = model.predict(X_val)
    one = fersk.calibrate(copy.deepcopy(model), X_val, y_val)  # temperature=True on a gate: one per expert
    assert one.temperature_ == 1.0 and one.module_.temperatures.shape == (2,)
    # the photos expert, always right, is warmed far more than the posed one
    assert one.module_.temperatures[1] < 0.5 * one.module_.temperatures[0]
    np.testing.assert_array_equal(one.predict(X_val), before)  # every face keeps its label
    # two temperatures fit the validation faces better than the best single one could
    plain = fersk.calibrate(copy.deepcopy(model), X_val, y_val, temperature=False)
    single = temper(plain.predict_proba(X_val), fit_temperature(plain.predict_proba(X_val), _index(model, y_val)))
    assert log_loss(y_val, one.predict_proba(X_val), labels=model.classes_) < log_loss(
        y_val, single, labels=model.classes_
    )
    # kept in the file, and in the ONNX graph, which the network's own forward pass carries
    loaded = fersk.load(fersk.save(one, tmp_path / "calibrated.fersk"))
    np.testing.assert_allclose(loaded.predict_proba(X_val), one.predict_proba(X_val), atol=1e-6)
    fersk.export_onnx(one, tmp_path / "calibrated.onnx")
    session = ort.InferenceSession(str(tmp_path / "calibrated.onnx"), providers=["CPUExecutionProvider"])
    onnx_proba = session.run(None, {"images": X_val.astype(np.float32)})[0]
    np.testing.assert_allclose(onnx_proba, one.predict_proba(X_val), atol=1e-4)
    # training further drops them, as it drops every calibration: fit, and partial_fit
    more = copy.deepcopy(one).partial_fit(X[:40], y[:40])
    assert torch.equal(more.module_.temperatures.cpu(), torch.ones(2)) and "conformal_scores_" not in vars(more)
    one.set_params(warm_start=True, max_epochs=1, classes=model.classes_).fit(X[:40], y[:40])
    assert torch.equal(one.module_.temperatures.cpu(), torch.ones(2))
    # with test-time views the network would temper each view before they are averaged: one temperature instead
    flipped = fersk.calibrate(copy.deepcopy(model).set_params(tta="flip"), X_val, y_val)
    assert torch.equal(flipped.module_.temperatures.cpu(), torch.ones(2)) and flipped.temperature_ != 1.0
    np.testing.assert_array_equal(flipped.predict(X_val), model.set_params(tta="flip").predict(X_val))
    model.set_params(tta=None)
    with pytest.raises(ValueError, match="give the images X_val"):
        fersk.calibrate(model, None, y_val, proba=model.predict_proba(X_val))


def test_expert_temperatures_are_found_where_they_are_known():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4000, 5)) * 2
    gate = np.zeros((4000, 2))
    gate[:2000, 0] = gate[2000:, 1] = 1
    truth = np.array([2.0, 0.5])
    proba = softmax(logits / (gate @ truth)[:, None], axis=1)  # the labels are drawn at these temperatures
    labels = np.array([rng.choice(5, p=p) for p in proba])
    found = fit_expert_temperatures(log_softmax(logits, axis=1), gate, labels)
    np.testing.assert_allclose(found, truth, rtol=0.1)


def test_weights_saved_before_the_experts_had_temperatures_load_at_temperature_one():
    net = GatedExperts(n_classes=3, backbones=("test_tiny", "test_tiny"))
    old = {k: v for k, v in net.state_dict().items() if k != "temperatures"}
    with torch.no_grad():
        net.temperatures.fill_(2.0)
    net.load_state_dict(old)
    assert torch.equal(net.temperatures, torch.ones(2))


def _index(model, labels):
    return np.searchsorted(model.classes_, labels)


def test_each_experts_faces_get_their_own_prediction_sets(two_kinds, tmp_path):
    X, inverted, posed, photos = two_kinds
    model = fersk.gate_experts([posed, photos], [X, inverted])
    _, y = fersk.make_faces(160, image_size=48, random_state=0)
    X_val = np.concatenate([X[:80], inverted[:80]])
    y_val = np.concatenate([y[:80], photos.predict(inverted[:80])])
    fersk.calibrate(model, X_val, y_val)
    chosen = _gate_weights(model, X_val).argmax(axis=1)
    assert [len(s) for s in model.expert_conformal_scores_] == [np.sum(chosen == 0), np.sum(chosen == 1)]
    faces = np.concatenate([X[80:], inverted[80:]])
    proba, experts = model.predict_proba(faces, return_experts=True)
    np.testing.assert_array_equal(proba, model.predict_proba(faces))  # the same forward passes
    np.testing.assert_array_equal(experts, _gate_weights(model, faces).argmax(axis=1))
    sets = model.predict_sets(faces, coverage=0.8)
    np.testing.assert_array_equal(sets, model.predict_sets(proba=proba, experts=experts, coverage=0.8))
    # each face's set is cut at its own expert's threshold, not at the threshold of all the scores together
    each = [model.set_threshold(0.8, expert=k) for k in range(2)]
    assert each[0] != each[1]
    expected = proba >= np.array(each)[experts][:, None] - 1e-12
    expected[np.arange(len(proba)), proba.argmax(axis=1)] = True  # never empty
    np.testing.assert_array_equal(sets, expected)
    assert not np.array_equal(sets, model.predict_sets(proba=proba, experts=np.zeros_like(experts), coverage=0.8))
    with pytest.raises(ValueError, match="give the images X, or with proba= the experts="):
        model.predict_sets(proba=proba)
    with pytest.raises(ValueError, match="one expert"):
        model.predict_sets(proba=proba, experts=experts[:3])
    # an expert whose gate chose too few validation faces for the coverage takes every face's scores
    few = copy.deepcopy(model)
    few.expert_conformal_scores_ = [model.expert_conformal_scores_[0][:3], model.expert_conformal_scores_[1]]
    assert few.set_threshold(0.8, expert=0) == model.set_threshold(0.8)
    # analyze_faces asks the experts in the same passes; the file keeps the scores
    records = fersk.analyze_faces(model, list(faces[:6].reshape(-1, 48, 48)), detector=None, coverage=0.8)
    assert [set(r.prediction_set) for r in records] == [set(model.classes_[s]) for s in sets[:6]]
    loaded = fersk.load(fersk.save(model, tmp_path / "sets.fersk"))
    np.testing.assert_array_equal(loaded.predict_sets(faces, coverage=0.8), sets)
    with pytest.raises(ValueError, match="return_experts=True needs a network of experts mixed by a gate"):
        posed.predict_proba(X[:2], return_experts=True)
