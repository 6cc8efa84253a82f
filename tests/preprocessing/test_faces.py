import numpy as np
import pytest
from PIL import Image
from skimage.data import astronaut
from sklearn.pipeline import make_pipeline

import fersk
from fersk import FaceCropper, HOGTransformer, make_faces
from fersk.faces import extract_face
from fersk.preprocessing import crop_faces

from ..classifiers.test_estimators import cnn


def _photo(offset, size=(400, 520), seed=0):
    """The astronaut's face region pasted at ``offset`` on a noisy grey canvas."""
    rng = np.random.default_rng(seed)
    canvas = rng.integers(90, 130, (*size, 3)).astype(np.uint8)
    head = astronaut()[0:256, 120:320]
    r, c = offset
    canvas[r : r + head.shape[0], c : c + head.shape[1]] = head
    return canvas


def _noise(seed=0):
    return np.random.default_rng(seed).integers(0, 255, (120, 160)).astype(np.uint8)


def test_the_cropper_finds_the_face_with_mtcnn_by_default():
    photos = [_photo((10, 20)), _photo((120, 300))]
    crops = FaceCropper(output_size=48).fit_transform(photos)
    # the same face wherever it is in the photo: aligned crops agree (up to the detector's jitter)
    assert np.abs(crops[0].astype(int) - crops[1]).mean() < 8
    shifted = extract_face(np.asarray(Image.fromarray(photos[1]).convert("L")), fersk.detect_faces(photos[0])[0], 48)
    assert np.abs(crops[0].astype(int) - shifted.ravel()).mean() > 25  # what a crop of the wrong place looks like
    face = fersk.detect_faces(photos[0])[0]
    expected = extract_face(np.asarray(Image.fromarray(photos[0]).convert("L")), face, 48)
    assert np.abs(crops[0].astype(int) - expected.ravel()).mean() < 3  # grey conversions differ by rounding only


def test_a_crop_without_alignment_is_the_detected_box_with_its_margin():
    photo = _photo((10, 20))
    face = fersk.detect_faces(photo, detector="lbp")[0]
    row, col, height, width = round(face.box[1]), round(face.box[0]), round(face.height), round(face.width)
    cropper = FaceCropper(output_size=32, detector="lbp", align=False, margin=0.25)
    crops = cropper.fit_transform([photo, _photo((120, 300))])
    assert crops.shape == (2, 32 * 32) and crops.dtype == np.float32  # pixel rows as the loaders give them
    pad = round(0.25 * height)
    gray = Image.fromarray(photo).convert("L").crop((col - pad, row - pad, col + width + pad, row + height + pad))
    expected = np.asarray(gray.resize((32, 32), Image.BILINEAR), dtype=float).ravel()
    assert np.abs(crops[0] - expected).mean() < 3  # grey conversions differ by rounding only
    rgb = FaceCropper(output_size=16, grayscale=False).transform([photo])
    assert rgb.shape == (1, 16 * 16 * 3)
    with pytest.raises(ValueError, match="unknown face detector 'haar'"):
        FaceCropper(detector="haar").fit([photo])


def test_the_policy_for_images_without_a_face():
    photos = [_photo((10, 20)), _noise()]
    with pytest.warns(UserWarning, match="no face found in 1 of 2"):
        kept = FaceCropper(output_size=16).transform(photos)
    assert kept.shape == (2, 256)
    with pytest.raises(ValueError, match=r"no face found in 1 of 2 images \(indices \[1\]\)"):
        FaceCropper(on_missing="error").transform(photos)
    with pytest.raises(ValueError, match="crop_faces"):
        FaceCropper(on_missing="skip").fit(photos)
    with pytest.warns(UserWarning, match="dropped them"):
        faces, index = crop_faces(photos, output_size=16)
    assert faces.shape == (1, 256) and index.tolist() == [0]


def test_files_of_any_size_and_bad_input(tmp_path):
    paths = []
    for i, size in enumerate([(300, 300), (400, 520)]):
        path = tmp_path / f"photo{i}.jpg"
        Image.fromarray(_photo((20, 40), size=size)).save(path)
        paths.append(path)
    assert FaceCropper(output_size=24).transform(paths).shape == (2, 576)
    (tmp_path / "bad.jpg").write_bytes(b"not an image")
    with pytest.raises(ValueError, match=r"cannot read image .*bad\.jpg: not an image"):
        FaceCropper().transform([tmp_path / "bad.jpg"])
    with pytest.raises(ValueError, match=r"cannot read image .*gone\.jpg: no such file"):
        FaceCropper().transform([tmp_path / "gone.jpg"])
    with pytest.raises(ValueError, match="NaN"):
        FaceCropper().transform([np.full((50, 50), np.nan)])


@pytest.mark.slow
def test_a_pipeline_learns_from_photos():
    X, y = make_faces(84, image_size=48, difficulty=0.0, random_state=0)
    rng = np.random.default_rng(0)
    photos = []
    for x in X:  # each face upscaled into a larger canvas of its own size
        h, w = rng.integers(130, 180, 2)
        canvas = rng.integers(90, 130, (h, w)).astype(np.uint8)
        face = np.asarray(Image.fromarray(x.reshape(48, 48)).resize((96, 96)))
        r, c = rng.integers(0, h - 96), rng.integers(0, w - 96)
        canvas[r : r + 96, c : c + 96] = face
        photos.append(canvas)
    model = make_pipeline(FaceCropper(output_size=24, on_missing="whole"), cnn())
    with pytest.warns(UserWarning, match="no face found"):
        model.fit(photos, y)
        predicted = model.predict(photos[:5])
    assert set(predicted) <= set(y)


def test_face_crops_are_named_pixels_and_come_out_as_pandas():
    import pandas as pd

    cropper = FaceCropper(output_size=8, grayscale=False).set_output(transform="pandas")
    crops = cropper.fit_transform([astronaut()])
    assert isinstance(crops, pd.DataFrame) and crops.shape == (1, 8 * 8 * 3)
    assert crops.columns[[0, -1]].tolist() == ["pixel0", "pixel191"]


def test_the_cropper_keeps_scikit_learns_contract_on_pixel_rows():
    """What the common checks cannot test on their 0-1 floats, on 0-255 pixel rows: pickling, clones,
    dtypes, and lists for arrays."""
    import pickle

    from sklearn.base import clone

    rows = np.random.default_rng(0).integers(0, 256, (5, 40 * 30)).astype(np.float64)
    cropper = FaceCropper(image_shape=(40, 30), output_size=8)
    with pytest.warns(UserWarning, match="no face found in 5 of 5"):
        crops = cropper.fit_transform(rows)
        again = pickle.loads(pickle.dumps(cropper)).transform(rows)
        cloned = clone(cropper).fit_transform(rows.astype(np.uint8))
        listed = cropper.transform(list(rows.reshape(5, 40, 30)))
    assert crops.shape == (5, 64) and crops.dtype == np.float32
    np.testing.assert_array_equal(again, crops)
    np.testing.assert_array_equal(cloned, crops)
    np.testing.assert_array_equal(listed, crops)
    with pytest.raises(ValueError, match=r"pass image \* 255"):
        cropper.transform(rows / 255)


@pytest.mark.parametrize("make", [lambda: HOGTransformer(), lambda: FaceCropper(output_size=16)])
def test_the_transformers_validate_once_per_fit_and_honour_skip_parameter_validation(make, monkeypatch):
    # they called _validate_params themselves, whatever scikit-learn's configuration said
    import sklearn

    X = np.random.default_rng(0).uniform(0, 255, (4, 24 * 24))
    transformer = make()
    calls = []
    validate = type(transformer)._validate_params
    monkeypatch.setattr(type(transformer), "_validate_params", lambda self: calls.append(1) or validate(self))
    transformer.fit(X)
    assert calls == [1]
    with sklearn.config_context(skip_parameter_validation=True):
        transformer.fit(X)
        transformer.transform(X)
    assert calls == [1]
