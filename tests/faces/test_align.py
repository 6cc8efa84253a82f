"""Aligned crops: the eyes level, the face framed as FER2013 frames its faces."""

import numpy as np
import pytest
from PIL import Image
from skimage.data import astronaut
from skimage.transform import rotate

from fersk.faces import FER2013_LANDMARKS, Face, detect_faces, extract_face

HEAD = astronaut()[0:256, 120:320]


def _eye_angle(face):
    dx, dy = face.landmarks[1] - face.landmarks[0]
    return np.degrees(np.arctan2(dy, dx))


def _tilted(degrees):
    image = rotate(HEAD, degrees, resize=True, mode="edge", preserve_range=True).astype(np.uint8)
    return np.asarray(Image.fromarray(image).resize((image.shape[1] // 2, image.shape[0] // 2), Image.BILINEAR))


@pytest.mark.parametrize("degrees", [-20, 25])
def test_a_tilted_face_comes_out_level_and_framed_like_fer2013(degrees):
    photo = _tilted(degrees)
    face = detect_faces(photo)[0]
    assert abs(_eye_angle(face) + degrees) < 8  # skimage turns counter-clockwise: the eye line tilts by -degrees
    # detect again in a large crop with context (margin), where the detector can see the whole face
    crop = extract_face(photo, face, 160, margin=0.5)
    again = detect_faces(crop)[0]
    assert abs(_eye_angle(again)) < 3
    expected = 80 + (FER2013_LANDMARKS[:2] - 0.5) * 160 / 2  # margin 0.5: the frame is twice the face's
    assert np.abs(again.landmarks[:2] - expected).max() < 6


def test_without_align_the_crop_is_the_box_made_square():
    image = np.zeros((100, 120), np.uint8)
    image[20:60, 30:70] = 255
    face = Face((30, 20, 70, 60), 1.0)
    np.testing.assert_array_equal(extract_face(image, face, 8, align=False, margin=0), np.full((8, 8), 255))
    # a margin of 0.5 shows the box in the middle half of the crop, the rest black
    wide = extract_face(image, face, 16, align=False, margin=0.5).astype(int)
    assert wide[5:11, 5:11].min() == 255 and wide[:3].max() == 0 and wide[:, :3].max() == 0
    # a tall box is made square about its centre
    narrow = np.zeros((100, 120), np.uint8)
    narrow[20:60, 40:60] = 255
    tall = extract_face(narrow, Face((40, 20, 60, 60), 1.0), 8, align=False, margin=0)
    assert tall[:, 2:6].min() == 255 and tall[:, :2].max() == 0 and tall[:, 6:].max() == 0


def test_a_face_without_landmarks_is_framed_but_not_turned():
    photo = _tilted(25)
    boxed = Face(detect_faces(photo)[0].box, 1.0)  # no landmarks, as the LBP cascade gives
    crop = extract_face(photo, boxed, 160, margin=0.5)
    assert crop.shape == (160, 160, 3)
    assert abs(_eye_angle(detect_faces(crop)[0]) + 25) < 8  # framed, still tilted


def test_an_already_framed_crop_is_kept_as_it_is():
    # a FER2013-like 48x48 face: the cropper finds it and frames it as it already was
    face = detect_faces(astronaut())[0]
    framed = extract_face(astronaut().mean(axis=2), face, 48)
    from fersk import FaceCropper

    again = FaceCropper().fit_transform([framed])[0].astype(float)
    assert np.corrcoef(again, framed.ravel())[0, 1] > 0.9


def test_shapes_channels_and_bad_arguments():
    photo = astronaut()
    face = detect_faces(photo)[0]
    assert extract_face(photo, face).shape == (48, 48, 3)
    assert extract_face(photo.mean(axis=2), face, (40, 30)).shape == (40, 30)
    assert extract_face(photo, face).dtype == np.uint8
    with pytest.raises(TypeError, match="fersk.faces.Face"):
        extract_face(photo, (1, 2, 3, 4))
    with pytest.raises(ValueError, match="margin"):
        extract_face(photo, face, margin=-1)
    with pytest.raises(ValueError, match="output_shape"):
        extract_face(photo, face, 0)
