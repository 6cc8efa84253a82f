"""explain and its figures work on a Pipeline, and on the Pipeline fersk.load returns."""

import numpy as np
import pytest
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import make_pipeline
from PIL import Image
from skimage.data import astronaut

import fersk
from fersk import CNNClassifier, FaceCropper, HOGSVMClassifier, make_faces
from fersk.explain import explain, plot_explanation

SIDE = 24


@pytest.fixture(scope="module")
def data():
    return make_faces(70, image_size=SIDE, random_state=0)


@pytest.fixture(scope="module")
def cnn(data):
    X, y = data
    return CNNClassifier(max_epochs=1, module__channels=(4, 8), module__hidden=8, random_state=0).fit(X, y)


def test_a_pipeline_is_explained_as_its_classifier_is(data, cnn, tmp_path):
    X, y = data
    pipeline = make_pipeline(RandomOverSampler(random_state=0), cnn)
    pipeline.steps[-1] = ("cnnclassifier", cnn)  # fitted already
    direct = explain(cnn, X[:4], method="integrated_gradients")
    np.testing.assert_allclose(explain(pipeline, X[:4], method="integrated_gradients"), direct, atol=1e-6)
    loaded = fersk.load(fersk.save(pipeline, tmp_path / "pipe.fersk"))
    np.testing.assert_allclose(explain(loaded, X[:4], method="integrated_gradients"), direct, atol=1e-5)


def test_a_model_agnostic_method_explains_a_hog_pipeline(data):
    X, y = data
    pipeline = make_pipeline(RandomOverSampler(random_state=0), HOGSVMClassifier(pixels_per_cell=(6, 6))).fit(X, y)
    maps = explain(pipeline, X[:2], method="occlusion")
    assert maps.shape == (2, SIDE, SIDE) and np.abs(maps).sum() > 0
    with pytest.raises(ValueError, match="needs a neural network"):
        explain(pipeline, X[:2], method="gradcam")


def test_a_photo_goes_through_the_pipelines_face_cropper_first(cnn):
    photo = np.asarray(Image.fromarray(astronaut()[:300, 60:360]).resize((160, 160)))
    pipeline = make_pipeline(FaceCropper(output_size=SIDE), cnn)
    face = FaceCropper(output_size=SIDE).transform([photo])
    np.testing.assert_allclose(explain(pipeline, [photo]), explain(cnn, face), atol=1e-6)
    figure = plot_explanation(pipeline, photo)
    assert figure.axes[0].images[0].get_array().shape[:2] == (SIDE, SIDE)  # the face, not the photo
