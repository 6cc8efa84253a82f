"""LIME, Kernel SHAP, GradientSHAP and the faithfulness score, against a model whose answer is known."""

import numpy as np
import pytest
import torch
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import make_pipeline
from torch import nn

import fersk
from fersk import CNNClassifier, HOGSVMClassifier, make_faces
from fersk.explain import MODEL_AGNOSTIC, explain, faithfulness, plot_faithfulness, superpixel_grid

SIDE = 16
BLOCK = 4  # the model looks at the top-left 4x4 pixels and nothing else


class Known(nn.Module):
    """Class "a"'s logit is 20 * (mean of the top-left block - 0.5), class "b"'s is 0."""

    def __init__(self, n_classes, in_chans=1):
        super().__init__()
        self.conv = nn.Conv2d(in_chans, 1, 1)  # unused by the output: there for Grad-CAM's contract only

    def forward(self, x):
        block = x[:, :, :BLOCK, :BLOCK].mean(dim=(1, 2, 3))
        first = 20 * (block - 0.5) + 0 * self.conv(x).sum(dim=(1, 2, 3))
        return torch.stack([first, torch.zeros_like(first)], dim=1)


@pytest.fixture(scope="module")
def known():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 255, size=(6, SIDE, SIDE))
    X[:, :BLOCK, :BLOCK] = 255  # white block: "a" at a probability of sigmoid(10)
    X = X.reshape(6, -1)
    y = np.array(["a", "b"] * 3)
    model = CNNClassifier(module=Known, max_epochs=1, lr=0.0, augment="none", validation_fraction=0, random_state=0)
    return model.fit(X, y), X


def block_map(n, sign=1.0):
    heat = np.zeros((n, SIDE, SIDE))
    heat[:, :BLOCK, :BLOCK] = sign
    return heat


def test_faithfulness_gives_the_known_areas(known):
    model, X = known
    scores = faithfulness(model, X, {"right": block_map(6), "wrong": block_map(6, -1.0)}, target="a", baseline=0.0)
    right, wrong = scores["right"], scores["wrong"]
    full, empty = 1 / (1 + np.exp(-10)), 1 / (1 + np.exp(10))  # the block white, the block black
    # 16 steps of 16 pixels: the right order removes the 16 block pixels in the first step
    np.testing.assert_allclose(right.deletion, (full + empty) / 2 / 16 + empty * 15 / 16, rtol=1e-4)
    np.testing.assert_allclose(right.insertion, (empty + full) / 2 / 16 + full * 15 / 16, rtol=1e-4)
    # the wrong order removes the block last, and puts it back last
    np.testing.assert_allclose(wrong.deletion, full * 15 / 16 + (full + empty) / 2 / 16, rtol=1e-4)
    # one random order for both maps; it is in between
    np.testing.assert_array_equal(right.random_deletion, wrong.random_deletion)
    assert (right.deletion < right.random_deletion).all() and (right.random_deletion < wrong.deletion).all()
    assert (right.deletion_gain > 0).all() and (right.insertion_gain > 0).all()
    assert (wrong.deletion_gain < 0).all() and (wrong.insertion_gain < 0).all()
    assert right.curves["deletion"].shape == (6, 17) and right.fractions[[0, -1]].tolist() == [0.0, 1.0]


@pytest.mark.parametrize("method", ["lime", "kernel_shap", "occlusion", "integrated_gradients", "gradient_shap"])
def test_each_method_finds_the_pixels_the_model_looks_at(known, method):
    model, X = known
    maps = explain(model, X, method=method, target="a", n_samples=96, cell_size=BLOCK)  # the block: one cell
    assert maps.shape == (6, SIDE, SIDE) and np.isfinite(maps).all()
    inside, outside = maps[:, :BLOCK, :BLOCK], maps[:, BLOCK:, BLOCK:]
    assert inside.mean() > 5 * np.abs(outside).mean()
    peaks = maps.reshape(6, -1).argmax(axis=1)
    assert ((peaks // SIDE < BLOCK) & (peaks % SIDE < BLOCK)).all()
    score = faithfulness(model, X, maps, target="a", baseline=0.0)
    assert (score.deletion_gain > 0).all() and (score.insertion_gain > 0).all()


def test_sampling_is_seeded_and_leaves_the_global_generators_alone(known):
    model, X = known
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()  # noqa: NPY002
    first = explain(model, X[:2], method="kernel_shap", n_samples=32, random_state=1)
    again = explain(model, X[:2], method="kernel_shap", n_samples=32, random_state=1)
    other = explain(model, X[:2], method="kernel_shap", n_samples=32, random_state=2)
    shap = explain(model, X[:2], method="gradient_shap", random_state=1)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    np.testing.assert_array_equal(shap, explain(model, X[:2], method="gradient_shap", random_state=1))
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], numpy_state[1])  # noqa: NPY002


def test_superpixels_fit_a_small_face():
    grid = superpixel_grid((48, 48))
    assert grid.max() + 1 == 64 and np.bincount(grid.ravel()).tolist() == [36] * 64
    assert superpixel_grid((24, 24, 1)).max() + 1 == 64
    assert superpixel_grid((10, 10), cell_size=4).max() + 1 == 9  # edge cells narrower
    with pytest.raises(ValueError, match="cell_size"):
        superpixel_grid((48, 48), cell_size=0)


@pytest.fixture(scope="module")
def faces():
    return make_faces(70, image_size=24, random_state=0)


def test_model_agnostic_methods_explain_hog_svm_and_its_pipeline(faces, tmp_path):
    X, y = faces
    model = HOGSVMClassifier(pixels_per_cell=(6, 6)).fit(X, y)
    pipeline = make_pipeline(RandomOverSampler(random_state=0), HOGSVMClassifier(pixels_per_cell=(6, 6))).fit(X, y)
    for method in ("lime", "kernel_shap"):
        maps = explain(model, X[:2], method=method, n_samples=48)
        assert maps.shape == (2, 24, 24) and np.abs(maps).sum() > 0
        # one value per 3x3 superpixel
        assert np.unique(maps[0]).size <= 64
    loaded = fersk.load(fersk.save(pipeline, tmp_path / "hog.fersk"))
    np.testing.assert_allclose(
        explain(loaded, X[:2], method="lime", n_samples=48), explain(pipeline, X[:2], method="lime", n_samples=48)
    )
    score = faithfulness(loaded, X[:2], explain(loaded, X[:2], method="occlusion"))
    assert np.isfinite(score.deletion).all() and np.isfinite(score.insertion).all()
    with pytest.raises(ValueError, match="model-agnostic method") as error:
        explain(model, X[:2], method="gradient_shap")
    assert all(method in str(error.value) for method in MODEL_AGNOSTIC)


def test_a_neural_pipeline_and_its_saved_copy_give_the_same_lime_maps(faces, tmp_path):
    X, y = faces
    cnn = CNNClassifier(max_epochs=1, module__channels=(4, 8), module__hidden=8, random_state=0).fit(X, y)
    pipeline = make_pipeline(RandomOverSampler(random_state=0), cnn)
    pipeline.steps[-1] = ("cnnclassifier", cnn)
    direct = explain(cnn, X[:2], method="lime", n_samples=48)
    np.testing.assert_allclose(explain(pipeline, X[:2], method="lime", n_samples=48), direct, atol=1e-6)
    loaded = fersk.load(fersk.save(pipeline, tmp_path / "cnn.fersk"))
    np.testing.assert_allclose(explain(loaded, X[:2], method="lime", n_samples=48), direct, atol=1e-5)


def test_bad_arguments_say_what_to_do(known):
    model, X = known
    with pytest.raises(ValueError, match=r"method must be one of .*'lime'.*'kernel_shap'"):
        explain(model, X[:2], method="shap")
    with pytest.raises(ValueError, match="n_samples must be at least 2"):
        explain(model, X[:2], method="lime", n_samples=1)
    with pytest.raises(ValueError, match=r"one map per image, \(2, 16, 16\)"):
        faithfulness(model, X[:2], np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match="baseline must be"):
        faithfulness(model, X[:2], block_map(2), baseline="mean")
    with pytest.raises(ValueError, match="pixel value in"):
        faithfulness(model, X[:2], block_map(2), baseline=128)
    with pytest.raises(ValueError, match="steps must be"):
        faithfulness(model, X[:2], block_map(2), steps=0)


def test_baselines_as_images_and_blur_and_the_figure(known):
    model, X = known
    black = faithfulness(model, X[:3], block_map(3), target="a", baseline=0.0)
    as_images = faithfulness(model, X[:3], block_map(3), target="a", baseline=np.zeros_like(X[:3]))
    np.testing.assert_allclose(black.deletion, as_images.deletion)
    blurred = faithfulness(model, X[:3], block_map(3), target="a")
    assert (blurred.deletion_gain > 0).all()
    fig = plot_faithfulness({"block": black, "reversed": faithfulness(model, X[:3], -block_map(3), target="a")})
    assert len(fig.axes) == 2
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert labels[0].startswith("block (") and labels[-1].startswith("random (")
