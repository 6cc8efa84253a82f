"""analyze_faces finds every face, classifies each crop, keeps images without one; draw_faces marks them."""

import csv
import json

import numpy as np
import pytest
from PIL import Image
from skimage.data import astronaut
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import fersk
from fersk import CNNClassifier, make_faces
from fersk.faces import (
    FaceRecord,
    analyze_faces,
    detect_faces,
    draw_faces,
    extract_face,
    face_inputs,
    write_annotated,
)
from fersk.faces._image import gray

# the astronaut's face in her photo, (left, top, right, bottom): about columns 177-268, rows 59-175
FACE = np.array([177, 59, 268, 175])


def _two_people():
    """The astronaut at left, and again at half size at right (a smaller face, so listed second)."""
    small = np.pad(astronaut()[::2, ::2], ((0, 256), (0, 256), (0, 0)), mode="edge")
    return np.concatenate([astronaut(), small], axis=1)


@pytest.fixture(scope="module")
def model():
    X, y = make_faces(84, image_size=48, random_state=0)
    params = dict(max_epochs=1, module__channels=(4, 8), module__hidden=16, batch_size=32, random_state=0)
    return CNNClassifier(**params).fit(X, y)


@pytest.fixture(scope="module")
def photos():
    return [_two_people(), np.full((128, 128, 3), 200, np.uint8)]


@pytest.fixture(scope="module")
def records(model, photos):
    return analyze_faces(model, photos)


def test_two_faces_give_two_records_at_their_places_largest_first(records):
    first, second, blank = records
    assert [(r.image, r.face, r.face_found) for r in records] == [(0, 0, True), (0, 1, True), (1, None, False)]
    assert np.allclose(first.box, FACE, atol=8)
    assert np.allclose(second.box, FACE / 2 + [512, 0, 512, 0], atol=6)
    assert first.score > 0.95 and second.score > 0.95


def test_each_records_probabilities_are_the_estimators_on_that_crop(model, photos, records):
    image = gray(photos[0].astype(np.float32))
    for record, face in zip(records[:2], detect_faces(photos[0])):
        crop = extract_face(image, face, 48).reshape(1, -1).astype(np.float32)
        expected = model.predict_proba(crop)[0]
        assert list(record.probabilities) == list(model.classes_)
        assert np.allclose(list(record.probabilities.values()), expected, atol=1e-5)
        assert record.predicted == model.classes_[np.argmax(expected)]
        assert record.probability == pytest.approx(expected.max())


def test_an_image_without_a_face_is_kept_and_classified_whole(model, records):
    blank = records[2]
    assert blank.box is None and blank.score is None and blank.face is None
    whole = np.full((1, 48 * 48), 200, np.float32)  # the whole grey image at the model's size
    assert np.allclose(list(blank.probabilities.values()), model.predict_proba(whole)[0], atol=1e-5)


def test_skip_gives_the_no_face_record_without_a_prediction(model, photos):
    records = analyze_faces(model, [photos[1], photos[1]], on_missing="skip")
    assert [(r.image, r.face_found, r.probabilities, r.predicted) for r in records] == [
        (0, False, None, None),
        (1, False, None, None),
    ]
    assert records[0].to_dict()["predicted"] is None


def test_detector_none_classifies_each_crop_whole(model):
    X, _ = make_faces(3, image_size=48, random_state=1)
    expected = model.predict_proba(X)
    for images in (X, X.reshape(3, 48, 48), list(X.reshape(3, 48, 48).astype(np.uint8))):
        records = analyze_faces(model, images, detector=None)
        assert [(r.image, r.face, r.face_found, r.box) for r in records] == [
            (i, 0, True, (0.0, 0.0, 48.0, 48.0)) for i in range(3)
        ]
        assert np.allclose([list(r.probabilities.values()) for r in records], expected, atol=1e-5)
    assert analyze_faces(model, X[:1], detector="none")[0].score is None


def test_paths_pipelines_and_rgb_models(model, tmp_path):
    path = tmp_path / "astronaut.jpg"
    Image.fromarray(astronaut()).save(path)
    pipeline = make_pipeline(FunctionTransformer(), model)
    by_path, by_array = analyze_faces(pipeline, path), analyze_faces(model, [astronaut()])
    assert by_path[0].path == str(path) and by_path[0].to_dict()["image"] == str(path)
    assert by_array[0].path is None and by_array[0].to_dict()["image"] == 0
    assert np.allclose(by_path[0].box, by_array[0].box, atol=4)  # (the JPEG differs a little)

    X, y = make_faces(42, image_size=24, random_state=0)
    rgb = CNNClassifier(max_epochs=1, module__channels=(4,), module__hidden=8, random_state=0)
    rgb.fit(np.repeat(X.reshape(-1, 24, 24, 1), 3, axis=3), y)
    (record,) = analyze_faces(rgb, [astronaut()])
    face = detect_faces(astronaut())[0]
    crop = extract_face(astronaut(), face, 24).reshape(1, -1).astype(np.float32)  # a colour crop
    assert np.allclose(list(record.probabilities.values()), rgb.predict_proba(crop)[0], atol=1e-5)


def test_a_pil_image_is_taken_as_the_photo_it_shows(model):
    by_array = analyze_faces(model, astronaut())
    for given in (Image.fromarray(astronaut()), [Image.fromarray(astronaut()).convert("P")]):
        (record,) = analyze_faces(model, given)
        assert record.face_found and np.allclose(record.box, by_array[0].box, atol=4)
    assert detect_faces(Image.fromarray(astronaut()))[0] == detect_faces(astronaut())[0]


def test_pixel_values_from_0_to_1_are_refused_saying_to_scale_them(model):
    scaled = astronaut() / 255.0  # as skimage.img_as_float and matplotlib's imread give a PNG
    for call in (lambda: analyze_faces(model, [scaled]), lambda: detect_faces(scaled)):
        with pytest.raises(ValueError, match=r"run from 0 to 1 .*pass image \* 255"):
            call()
    assert analyze_faces(model, [np.zeros((48, 48))])[0].face_found is False  # a black image is still one


def test_records_serialise_to_json_and_flat_rows(records):
    row = records[0].to_dict()
    assert list(row)[:9] == ["image", "face", "face_found", "left", "top", "right", "bottom", "score", "predicted"]
    assert json.loads(json.dumps(row)) == row  # plain Python values, numpy labels included
    assert records[2].to_dict()["left"] is None


def test_the_records_write_one_csv_row_each_and_count_images_without_a_face(records, tmp_path):
    assert records.n_images == 2 and records.images_without_face == [1]
    with open(records.to_csv(tmp_path / "faces.csv", decimals=3)) as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["image"], r["face"], r["face_found"]) for r in rows] == [
        ("0", "0", "True"),
        ("0", "1", "True"),
        ("1", "", "False"),
    ]
    assert float(rows[0]["happy"]) == round(records[0].probabilities["happy"], 3)


def test_face_inputs_are_the_rows_analyze_faces_classifies(model, photos, records):
    X, bare = face_inputs(model, photos)
    assert X.shape == (3, 48 * 48) and X.dtype == np.float32
    assert np.allclose(model.predict_proba(X), [list(r.probabilities.values()) for r in records], atol=1e-5)
    assert [(r.image, r.face, r.box, r.probabilities) for r in bare] == [
        (r.image, r.face, r.box, None) for r in records
    ]
    X, bare = face_inputs(model, photos, on_missing="skip")
    assert len(X) == 2 and len(bare) == 3  # the blank image keeps its record, without a row


def test_bad_input_is_refused_with_the_reason(model, tmp_path):
    with pytest.raises(ValueError, match="missing.jpg"):
        analyze_faces(model, [str(tmp_path / "missing.jpg")])
    (tmp_path / "notes.jpg").write_text("not a photo")
    with pytest.raises(ValueError, match="notes.jpg"):
        analyze_faces(model, [tmp_path / "notes.jpg"])
    with pytest.raises(ValueError, match="on_missing"):
        analyze_faces(model, [astronaut()], on_missing="drop")
    with pytest.raises(ValueError, match="fitted fersk classifier"):
        analyze_faces(CNNClassifier(), [astronaut()])


def test_on_error_skip_goes_on_past_an_unreadable_file_and_lists_it(model, tmp_path):
    good = tmp_path / "good.png"
    Image.fromarray(np.full((48, 48), 120, np.uint8)).save(good)
    (tmp_path / "notes.jpg").write_text("not a photo")
    images = [tmp_path / "notes.jpg", good, tmp_path / "missing.jpg"]
    with pytest.warns(fersk.FerskDataWarning, match=r"skipped 2 of 3 images that cannot be read: .*notes\.jpg"):
        records = analyze_faces(model, images, detector=None, on_error="skip")
    assert [(r.image, r.path) for r in records] == [(1, str(good))]  # its position in the images given
    assert records.unreadable == {str(images[0]): "not an image", str(images[2]): "no such file"}
    written = write_annotated(images, records, tmp_path / "drawn")
    assert [p.name for p in written] == ["good.png"]


def test_images_read_a_few_at_a_time_give_the_records_of_all_at_once(model, photos, records, monkeypatch, capsys):
    monkeypatch.setattr("fersk.faces._crop.CHUNK_IMAGES", 1)
    assert analyze_faces(model, photos, progress=True) == records
    assert "finding faces" in capsys.readouterr().err  # the progress bar, on stderr


def test_draw_faces_marks_each_box_in_its_colour_and_leaves_the_rest(photos, records):
    photo = photos[0]
    drawn = draw_faces(photo, records[:2])
    assert drawn.shape == photo.shape and drawn.dtype == np.uint8
    changed = np.any(drawn != photo, axis=2)
    left, top, right, bottom = (round(v) for v in records[0].box)
    assert changed[top + 10 : bottom - 10, left].all()  # the box's left edge
    assert changed[top + 10 : bottom - 10, int(records[0].box[2]) - 2].all()  # and its right edge
    second = records[1].box
    assert changed[round(second[1]) + 5 : round(second[3]) - 5, round(second[0])].all()
    assert not changed[300:, :].any()  # below the faces (and their labels) nothing is drawn
    assert not changed[top + 10 : bottom - 10, left + 10 : right - 10].any()  # the face itself is left clear


def test_write_annotated_never_overwrites_the_photos_it_draws(tmp_path):
    photo = tmp_path / "me.png"
    Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(photo)
    before = photo.read_bytes()
    record = FaceRecord(0, str(photo), None, False, None, None, None)
    with pytest.raises(ValueError, match=r"would overwrite the photos .*me\.png: choose another folder"):
        write_annotated([photo], [record], tmp_path)
    assert photo.read_bytes() == before
    assert [p.name for p in write_annotated([photo], [record], tmp_path / "drawn")] == ["me.png"]


def test_draw_faces_refuses_the_records_of_several_images(photos, records):
    assert {r.image for r in records} == {0, 1}
    with pytest.raises(ValueError, match=r"records of 2 images .* r\.image == i"):
        draw_faces(photos[0], records)  # the second photo's "no face" label would land on the first


def test_draw_faces_enlarges_small_images_and_labels_a_photo_without_a_face(records):
    blank = np.full((128, 128, 3), 200, np.uint8)
    drawn = draw_faces(blank, [records[2]])
    assert drawn.shape == (256, 256, 3)  # enlarged so the label reads
    labelled = np.any(drawn != 200, axis=2)
    assert labelled[:8, :60].mean() > 0.5 and not labelled[40:].any()  # the label band at the top left
    assert draw_faces(blank, [], min_size=0).shape == (128, 128, 3)
    assert draw_faces(np.zeros((2, 500)), []).shape == (16, 4000, 3)  # a banner: not 256 x 64000 pixels
    big = draw_faces(
        np.zeros((1024, 1600, 3)), [FaceRecord(0, None, 0, True, (100, 300, 400, 700), 1.0, {"a": 1.0}, "a")]
    )
    small = draw_faces(
        np.zeros((256, 400, 3)), [FaceRecord(0, None, 0, True, (25, 75, 100, 175), 1.0, {"a": 1.0}, "a")]
    )
    # line width and label height grow with the image
    assert np.any(big[500, 100:120] > 0, axis=1).sum() > np.any(small[125, 25:45] > 0, axis=1).sum()
    assert np.any(big[:300, 100:400] > 0, axis=(1, 2)).sum() > 2 * np.any(small[:75, 25:100] > 0, axis=(1, 2)).sum()


def test_top_level_names():
    assert fersk.analyze_faces is analyze_faces and fersk.draw_faces is draw_faces
