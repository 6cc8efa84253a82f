"""Region shares: the eyes and brows, the mouth and the rest, from landmarks or FER2013's framing."""

import numpy as np
import pytest

from fersk import Face
from fersk.explain import REGIONS, region_masks, region_shares
from fersk.faces import FER2013_LANDMARKS


def test_the_masks_split_the_face_and_sit_on_fer2013s_landmarks():
    masks = region_masks((48, 48))
    assert list(masks) == list(REGIONS)
    assert (sum(mask.astype(int) for mask in masks.values()) == 1).all()  # every pixel in exactly one
    points = (FER2013_LANDMARKS * 48).astype(int)
    for x, y in points[:2]:
        assert masks["eyes_brows"][y, x] and masks["eyes_brows"][y - 6, x]  # the eye, and the brow above it
    for x, y in points[3:]:
        assert masks["mouth"][y, x]
    x, y = points[2]
    assert masks["elsewhere"][y, x]  # the nose tip is neither
    assert masks["elsewhere"][0, 0] and masks["elsewhere"][47, 24]  # the forehead's corner, the chin
    # the regions scale with the image
    small = region_masks((24, 24))
    assert abs(small["mouth"].mean() - masks["mouth"].mean()) < 0.02


def test_shares_follow_the_evidence_and_leave_out_negative_values():
    heat = np.zeros((3, 48, 48))
    heat[0][region_masks((48, 48))["mouth"]] = 1.0
    heat[1][region_masks((48, 48))["eyes_brows"]] = 2.0
    heat[1][region_masks((48, 48))["mouth"]] = -5.0  # evidence against: not counted
    heat[2] = 1.0
    shares = region_shares(heat)
    np.testing.assert_allclose([shares[r][0] for r in REGIONS], [0, 1, 0])
    np.testing.assert_allclose([shares[r][1] for r in REGIONS], [1, 0, 0])
    np.testing.assert_allclose([shares[r][2] for r in REGIONS], [shares["area"][r][2] for r in REGIONS])
    assert sum(shares[r][2] for r in REGIONS) == pytest.approx(1.0)
    assert np.isnan(region_shares(-np.ones((48, 48)))["mouth"]).all()  # nothing positive: no share


def test_landmarks_from_a_face_move_the_regions():
    fer = (FER2013_LANDMARKS * 48).copy()
    lower = fer + [0, 8]  # the same face, 8 pixels lower
    heat = np.zeros((48, 48))
    heat[region_masks((48, 48), lower)["eyes_brows"] & ~region_masks((48, 48))["eyes_brows"]] = 1.0
    assert region_shares(heat)["eyes_brows"][0] < 0.01  # with FER2013's framing, not on the eyes
    assert region_shares(heat, Face((0.0, 0.0, 48.0, 48.0), 0.99, lower))["eyes_brows"][0] == pytest.approx(1.0)
    # per-map landmarks, and a face without any (the LBP cascade) falls back to FER2013's framing
    both = region_shares(np.stack([heat, heat]), [Face((0, 0, 48, 48), 1.0, lower), Face((0, 0, 48, 48), 1.0)])
    assert both["eyes_brows"][0] == pytest.approx(1.0) and both["eyes_brows"][1] < 0.01


def test_a_tilted_face_has_tilted_regions():
    centre = np.array([24.0, 24.0])
    angle = np.deg2rad(30)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    tilted = (FER2013_LANDMARKS * 48 - centre) @ rotation.T + centre
    masks = region_masks((48, 48), tilted)
    for x, y in tilted[[0, 1, 3, 4]].astype(int):
        assert masks["eyes_brows"][y, x] or masks["mouth"][y, x]
    upright = region_masks((48, 48))
    assert (masks["eyes_brows"] != upright["eyes_brows"]).sum() > 100
    assert abs(masks["eyes_brows"].sum() - upright["eyes_brows"].sum()) < 0.1 * upright["eyes_brows"].sum()


def test_bad_landmarks_say_what_was_expected():
    with pytest.raises(ValueError, match="five"):
        region_masks((48, 48), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="same point"):
        region_masks((48, 48), np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"\(2, 5, 2\)"):
        region_shares(np.zeros((2, 48, 48)), np.zeros((3, 5, 2)))
    with pytest.raises(ValueError, match="one per map"):
        region_shares(np.zeros((2, 48, 48)), [Face((0, 0, 48, 48), 1.0)])
    with pytest.raises(ValueError, match="maps of shape"):
        region_shares(np.zeros(48))
