"""One photo, the same pixels through every door: analyze_faces (fersk predict), FaceCropper, crop_faces,
load_test_faces (fersk evaluate), a saved Pipeline(FaceCropper, model), and a video's frames."""

import warnings

import av
import numpy as np
import pytest
from PIL import Image
from skimage.data import astronaut
from sklearn.pipeline import make_pipeline

import fersk
from fersk import CNNClassifier, FaceCropper, analyze_faces, analyze_video, make_faces
from fersk.evaluation._data import load_test_faces
from fersk.faces import MTCNNDetector, crop_face, face_inputs, split_face_cropper
from fersk.preprocessing import crop_faces
from fersk.video import iter_frames

SIDE = 24


def _photos():
    """name -> PIL image: faces and no faces, wide and tall, colour, grayscale and RGBA."""
    rng = np.random.default_rng(0)
    face = astronaut()[:300, 60:360]
    wide_noise = rng.integers(0, 255, (60, 220), dtype=np.uint8)
    wide_noise[:, 80:140] = 250  # a bright centre square: the fallback is that square, not the squashed whole
    rgba = np.dstack([face, np.full(face.shape[:2], 255, np.uint8)])
    rgba[:40, :, 3] = 0  # a transparent band, laid over white when read
    return {
        "face": Image.fromarray(face),
        "face_wide": Image.fromarray(np.pad(face, ((0, 0), (200, 200), (0, 0)), mode="edge")),
        "face_tall": Image.fromarray(np.pad(face, ((150, 150), (0, 0), (0, 0)), mode="edge")),
        "face_grey": Image.fromarray(face).convert("L"),
        "face_rgba": Image.fromarray(rgba, "RGBA"),
        "none_wide": Image.fromarray(wide_noise),
        "none_tall": Image.fromarray(np.ascontiguousarray(wide_noise.T)),
        "none_rgb": Image.fromarray(rng.integers(0, 255, (90, 130, 3), dtype=np.uint8)),
    }


@pytest.fixture(scope="module")
def model():
    X, y = make_faces(70, image_size=SIDE, random_state=0)
    return CNNClassifier(max_epochs=1, module__channels=(4, 8), module__hidden=8, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """The photos as files in two class folders, as fersk evaluate reads a dataset."""
    root = tmp_path_factory.mktemp("photos")
    paths = []
    for k, (name, image) in enumerate(_photos().items()):
        label = root / ("happy" if k % 2 else "sad")
        label.mkdir(exist_ok=True)
        image.save(label / f"{name}.png")
        paths.append(label / f"{name}.png")
    return root, paths


def _largest(X, records):
    """Each image's row for its largest face, or for the whole image when none was found."""
    return np.stack([x for x, r in zip(X, records) if not r.face])  # face 0, or None


def test_every_door_gives_the_same_rows(model, folder):
    _, paths = folder
    X, records = face_inputs(model, paths)
    predict_rows = _largest(X, records)
    assert [r.face_found for r in records if not r.face] == [True] * 5 + [False] * 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "no face found in 3 of 8 images"
        cropper_rows = FaceCropper(output_size=SIDE).fit_transform(paths)
        crop_rows, kept = crop_faces(paths, output_size=SIDE, on_missing="whole")
    assert cropper_rows.dtype == predict_rows.dtype == np.float32
    np.testing.assert_array_equal(cropper_rows, predict_rows)
    np.testing.assert_array_equal(crop_rows, predict_rows)
    assert kept.tolist() == list(range(len(paths)))
    # the fallback is the centre square, the same function every door calls
    for k in (5, 6, 7):
        np.testing.assert_array_equal(
            predict_rows[k], crop_face(np.asarray(Image.open(paths[k])), None, (SIDE, SIDE)).ravel()
        )
    assert predict_rows[5].min() > 240  # the bright square (250), not the squashed noise around it


def test_fersk_evaluate_scores_the_rows_fersk_predict_classifies(model, folder):
    root, paths = folder
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        faces = load_test_faces(root, image_size=SIDE, random_state=0, cache_dir=False)
    X, records = face_inputs(model, paths)
    rows = {row.tobytes() for row in _largest(X, records)}
    assert faces.detector == "mtcnn" and len(faces.data) >= 2
    assert all(row.tobytes() in rows for row in faces.data)


def test_a_pipeline_with_a_face_cropper_finds_each_face_once(model, folder, tmp_path, monkeypatch):
    _, paths = folder
    path = fersk.save(make_pipeline(FaceCropper(output_size=SIDE), model), tmp_path / "pipe.fersk")
    loaded = fersk.load(path)
    searched = []
    original = MTCNNDetector._detect_many

    def counting(self, images):
        searched.append(len(images))
        return original(self, images)

    monkeypatch.setattr(MTCNNDetector, "_detect_many", counting)
    through_pipeline = analyze_faces(loaded, paths, n_jobs=None)  # searched here, where the count is kept
    assert sum(searched) == len(paths)  # each photo searched once: no crop searched again
    direct = analyze_faces(model, paths, n_jobs=None)
    assert [r.box for r in through_pipeline] == [r.box for r in direct]
    for a, b in zip(through_pipeline, direct):
        assert a.predicted == b.predicted
        np.testing.assert_allclose(list(a.probabilities.values()), list(b.probabilities.values()), atol=1e-6)
    with pytest.raises(ValueError, match=r"facecropper__detector='lbp'"):
        analyze_faces(loaded, paths, detector="lbp")
    assert split_face_cropper(loaded)[1] == {"detector": "mtcnn", "align": True, "margin": 0.1}


def test_video_frames_get_the_rows_of_the_same_frames_as_photos(model, tmp_path):
    face = np.asarray(Image.fromarray(astronaut()[:300, 60:360]).resize((120, 120)))
    frames = [np.pad(np.roll(face, 3 * i, axis=1), ((20, 20), (60, 60), (0, 0)), mode="edge") for i in range(4)]
    path = tmp_path / "clip.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")))
        out.mux(stream.encode())
    decoded = [rgb for _, _, rgb in iter_frames(path)]  # the pixels analyze_video sees, after the codec
    video = analyze_video(model, path, detect_every=1, progress=False)
    # one photo a call; the video searches its frames 8 at a time, and MTCNN's batches of several images agree
    # with single images to about 1e-5 pixel: the same faces, boxes within a thousandth of a pixel
    photos = [record for frame in decoded for record in analyze_faces(model, frame)]
    assert [r.frame for r in video] == [0, 1, 2, 3] and len(photos) == 4
    np.testing.assert_allclose([r.box for r in video], [r.box for r in photos], atol=1e-3)
    for v, p in zip(video, photos):
        np.testing.assert_allclose(list(v.probabilities.values()), list(p.probabilities.values()), atol=1e-5)


def test_no_face_found_has_one_vocabulary_in_every_door(model, folder):
    _, paths = folder
    faceless = [p for p in paths if p.stem.startswith("none")]
    with pytest.raises(ValueError, match=r"no face found in 3 of 3 images .*none_wide\.png"):
        analyze_faces(model, faceless, on_missing="error")
    with pytest.raises(ValueError, match=r"no face found in 3 of 3 images"):
        FaceCropper(output_size=SIDE, on_missing="error").fit_transform(faceless)
    with pytest.raises(ValueError, match=r"no face found in 3 of 3 images"):
        crop_faces(faceless, output_size=SIDE, on_missing="error")
    skipped = analyze_faces(model, faceless, on_missing="skip")
    assert [r.predicted for r in skipped] == [None] * 3
    with pytest.warns(UserWarning, match="dropped them"):
        rows, kept = crop_faces(faceless, output_size=SIDE, on_missing="skip")
    assert rows.shape == (0, SIDE * SIDE) and kept.tolist() == []
    with pytest.raises(ValueError, match="crop_faces"):
        FaceCropper(on_missing="skip").fit(faceless)
    for old in ("keep", "drop"):  # the words of before: refused, naming the ones to use
        with pytest.raises(ValueError, match="on_missing"):
            crop_faces(faceless, on_missing=old)


def test_photos_and_videos_take_the_same_batch_size_and_no_face_words(model, tmp_path):
    photos = [
        np.asarray(Image.fromarray(astronaut()[:300, 60:360]).resize((96, 96))),
        np.full((64, 64, 3), 90, np.uint8),
    ]
    whole = analyze_faces(model, photos, n_jobs=None)
    for batch_size in (1, 2):
        again = analyze_faces(model, photos, batch_size=batch_size, n_jobs=None)
        for a, b in zip(again, whole):
            np.testing.assert_allclose(list(a.probabilities.values()), list(b.probabilities.values()), atol=1e-6)
    with pytest.raises(ValueError, match="batch_size must be a positive whole number"):
        analyze_faces(model, photos, batch_size=0)
    path = tmp_path / "wall.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height = 64, 64
        stream.pix_fmt = "yuv420p"
        for _ in range(3):
            out.mux(stream.encode(av.VideoFrame.from_ndarray(np.full((64, 64, 3), 90, np.uint8), format="rgb24")))
        out.mux(stream.encode())
    with pytest.warns(fersk.FerskDataWarning, match="no face in 3 of 3"):
        skipped = analyze_video(model, path, detect_every=1, progress=False)
        classified = analyze_video(model, path, detect_every=1, on_missing="whole", batch_size=2, progress=False)
    assert [r.predicted for r in skipped] == [None] * 3 and not any(r.face_found for r in classified)
    frame = next(iter_frames(path))[2]
    expected = model.predict_proba(crop_face(frame, None, (SIDE, SIDE)).reshape(1, -1).astype(np.float32))[0]
    np.testing.assert_allclose(list(classified[0].probabilities.values()), expected, atol=1e-6)
    with pytest.raises(ValueError, match=r"wall\.mp4: no face in frame 0"):
        analyze_video(model, path, detect_every=1, on_missing="error", progress=False)


def test_a_dark_uint8_photo_is_taken_by_every_door(model):
    # a uint8 photo whose pixels are all 0 or 1 is a dark photo, not 0-1 floats: as_photo let it in, and
    # detection refused its float copy, so FaceCropper and analyze_faces raised on it (found by fersk.testing)
    dark = np.ones((48, 48), np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # no face in it: the whole image is used, and said so
        crops = FaceCropper(output_size=24, on_missing="whole").fit_transform([dark])
        records = analyze_faces(model, [dark], n_jobs=None)
    np.testing.assert_array_equal(crops, np.ones((1, 24 * 24), np.float32))
    assert [r.face_found for r in records] == [False] and records[0].predicted is not None
    with pytest.raises(ValueError, match="from 0 to 1"):  # the float 0-1 image is still refused
        analyze_faces(model, [dark.astype(np.float32)], n_jobs=None)
