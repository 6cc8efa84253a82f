import numpy as np
import pytest

from fersk import list_backbones, make_faces
from fersk.explain import class_heatmaps, explain, overlay, plot_class_heatmaps, plot_explanations

from ..classifiers.test_estimators import cnn, hog, transfer


@pytest.fixture(scope="module")
def faces():
    return make_faces(140, image_size=24, difficulty=0.0, random_state=2)


@pytest.fixture(scope="module")
def models(faces):
    X, y = faces
    return {
        "cnn": cnn(max_epochs=4, augment="none", lr=3e-3).fit(X, y),
        "transfer": transfer(max_epochs=3).fit(X, y),
    }


@pytest.mark.parametrize("name", ["cnn", "transfer"])
def test_gradcam_changes_with_the_target_class(models, faces, name):
    X, _ = faces
    model = models[name]
    first, second = model.classes_[:2]
    a = explain(model, X[:6], target=first)
    b = explain(model, X[:6], target=second)
    assert a.shape == (6, 24, 24) and (a >= 0).all()
    assert np.abs(a - b).mean() > 1e-3 * max(np.abs(a).mean(), 1e-12)
    assert not np.allclose(a, b)


@pytest.mark.parametrize("name", ["cnn", "transfer"])
def test_integrated_gradients_are_zero_where_the_input_is_masked(models, faces, name):
    X, _ = faces
    masked = X[:4].reshape(4, 24, 24).copy()
    masked[:, :, :10] = 0  # black: the baseline
    attributions = explain(models[name], masked.reshape(4, -1), method="integrated_gradients")
    assert np.abs(attributions[:, :, :10]).max() == 0.0
    assert np.abs(attributions[:, :, 10:]).max() > 0.0


def test_occlusion_is_about_zero_inside_a_masked_region(models, faces):
    X, _ = faces
    masked = X[:3].reshape(3, 24, 24).astype(float).copy()
    masked[:, :, :14] = 127.5  # grey: what occlusion puts in
    attributions = explain(models["cnn"], masked.reshape(3, -1), method="occlusion")
    inside = np.abs(attributions[:, :, :6]).max()  # windows of 4 px, so columns < 6 see only grey
    assert inside < 1e-5 < np.abs(attributions).max()


def test_occlusion_explains_hog_svm_and_gradient_methods_refuse_it(faces):
    X, y = faces
    model = hog().fit(X, y)
    assert explain(model, X[:2], method="occlusion").shape == (2, 24, 24)
    with pytest.raises(ValueError, match="needs a neural network"):
        explain(model, X[:2])


def test_a_chosen_layer_and_bad_arguments(models, faces):
    X, _ = faces
    model = models["cnn"]
    first_conv = model.module_.features[0]
    assert explain(model, X[:2], layer=first_conv).shape == (2, 24, 24)
    with pytest.raises(ValueError, match="method must be"):
        explain(model, X[:2], method="saliency")
    with pytest.raises(ValueError, match="never saw"):
        explain(model, X[:2], target="bored")


def test_overlay_and_plots(models, faces):
    X, y = faces
    image = overlay(X[0].reshape(24, 24), np.ones((24, 24)))
    assert image.shape == (24, 24, 3) and image.dtype == np.uint8
    with pytest.raises(ValueError, match="does not match"):
        overlay(X[0].reshape(24, 24), np.ones((8, 8)))
    fig = plot_explanations(models["cnn"], X[:40], y[:40], n=4)
    titled = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titled and all(t.split("\n")[0] in set(y[:40]) for t in titled)  # true label, then the prediction
    means = class_heatmaps(models["transfer"], X, y, max_per_class=4)
    assert set(means) == set(models["transfer"].classes_)
    assert all(m.max() == pytest.approx(1.0) or m.max() == 0 for m in means.values())
    fig = plot_class_heatmaps(models["cnn"], X, y, max_per_class=4)
    assert [ax.get_title() for ax in fig.axes[: len(means)]] == [str(c) for c in means]


@pytest.mark.parametrize("backbone", list_backbones())
def test_gradcam_runs_on_every_registered_backbone(backbone):
    X, y = make_faces(14, image_size=32, random_state=0)
    model = transfer(backbone=backbone, max_epochs=1, head_epochs=1, validation_fraction=0).fit(X, y)
    maps = explain(model, X[:2], target=model.classes_[0])
    assert maps.shape == (2, 32, 32) and np.isfinite(maps).all() and (maps >= 0).all()
