"""The detectors find every face where it is, largest first; the registry and the Face record."""

import csv
import dataclasses
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from skimage.data import astronaut

import fersk
from fersk.faces import (
    Face,
    FaceDetector,
    LBPDetector,
    MTCNNDetector,
    detect_faces,
    detect_faces_batch,
    get_detector,
    list_detectors,
    register_detector,
)
from fersk.faces._mtcnn_networks import WEIGHTS, ONet, PNet, RNet, cascade

# the astronaut's face in her photo, as (left, top, right, bottom): about columns 177-268, rows 59-175
HEAD = astronaut()[0:256, 120:320]  # her head and shoulders: the face at columns 57-148, rows 59-175
FACE_IN_HEAD = np.array([57, 59, 148, 175])


def _canvas(size=(300, 420), seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(90, 130, (*size, 3)).astype(np.uint8)


def _paste(canvas, image, row, col):
    canvas[row : row + image.shape[0], col : col + image.shape[1]] = image
    return canvas


def _small(image, factor):
    h, w = image.shape[:2]
    return np.asarray(Image.fromarray(image).resize((round(w * factor), round(h * factor)), Image.BILINEAR))


@pytest.mark.parametrize("detector", ["mtcnn", "lbp"])
def test_a_face_is_found_where_it_was_pasted(detector):
    head = _small(HEAD, 0.6)
    for row, col in [(10, 15), (120, 280)]:
        faces = detect_faces(_paste(_canvas(), head, row, col), detector=detector)
        assert len(faces) == 1
        expected = FACE_IN_HEAD * 0.6 + [col, row, col, row]
        # MTCNN's box is tight on the face; the cascade's square is larger: both centre on it
        assert np.allclose(faces[0].center, [(expected[0] + expected[2]) / 2, (expected[1] + expected[3]) / 2], atol=9)
        assert 0.8 < faces[0].height / (expected[3] - expected[1]) < 1.4


def test_mtcnn_gives_a_score_and_five_landmarks_in_place():
    face = detect_faces(_paste(_canvas(), _small(HEAD, 0.6), 10, 15))[0]
    assert 0.95 < face.score <= 1
    left_eye, right_eye, nose, mouth_left, mouth_right = face.landmarks
    assert left_eye[0] < nose[0] < right_eye[0] and mouth_left[0] < mouth_right[0]
    assert left_eye[1] < nose[1] < mouth_left[1] and right_eye[1] < nose[1] < mouth_right[1]
    left, top, right, bottom = face.box
    assert np.all((face.landmarks[:, 0] > left) & (face.landmarks[:, 0] < right))
    assert np.all((face.landmarks[:, 1] > top) & (face.landmarks[:, 1] < bottom))


def test_two_faces_give_two_records_largest_first():
    photo = _paste(_paste(_canvas((300, 460)), _small(HEAD, 0.4), 150, 30), _small(HEAD, 0.9), 20, 220)
    faces = detect_faces(photo)
    assert len(faces) == 2
    assert faces[0].area > 3 * faces[1].area
    assert faces[0].center[0] > 220 > faces[1].center[0]  # the large face is the one pasted on the right


def test_no_face_and_images_too_small_to_hold_one():
    noise = np.random.default_rng(0).integers(0, 255, (120, 160)).astype(np.uint8)
    for detector in list_detectors():
        assert detect_faces(noise, detector=detector) == []
        assert detect_faces(np.zeros((1, 9)), detector=detector) == []
        assert detect_faces(np.full((8, 8, 3), 128.0), detector=detector) == []


def test_grey_rgba_and_float_images_are_searched_alike():
    photo = _paste(_canvas(), _small(HEAD, 0.6), 10, 15)
    rgb = detect_faces(photo)[0]
    rgba = detect_faces(np.dstack([photo, np.full(photo.shape[:2], 255, np.uint8)]))[0]
    assert rgb == rgba
    assert detect_faces(photo.astype(np.float64))[0] == rgb
    grey = detect_faces(np.asarray(Image.fromarray(photo).convert("L")))[0]
    assert np.allclose(grey.box, rgb.box, atol=6)


def test_only_floats_from_0_to_1_are_refused_one_by_one_and_in_a_batch(tmp_path):
    scaled = astronaut() / 255.0  # as skimage.img_as_float gives a photo: no face would be found in it
    for call in (lambda: detect_faces(scaled), lambda: detect_faces_batch([np.zeros((60, 80)), scaled])):
        with pytest.raises(ValueError, match=r"run from 0 to 1 .*pass image \* 255"):
            call()
    dark = np.ones((64, 64, 3), np.uint8)  # a near-black photo: uint8, values 0-1
    mask = np.zeros((64, 64), bool)
    mask[16:48, 16:48] = True
    Image.fromarray(dark).save(tmp_path / "dark.png")  # read as uint8 too
    for image in (dark, mask, tmp_path / "dark.png"):
        assert detect_faces(image) == []
    assert detect_faces_batch([dark, mask, tmp_path / "dark.png"]) == [[], [], []]


def _batch():
    return [
        _paste(_canvas(), _small(HEAD, 0.6), 10, 15),
        _paste(_canvas(), _small(HEAD, 0.6), 100, 200),  # same size: batched together with the first
        _small(astronaut(), 0.4),
        np.zeros((60, 80)),
    ]


def test_a_batch_finds_the_faces_one_by_one_finds():
    images = _batch()
    one_by_one = [detect_faces(image) for image in images]
    assert [len(f) for f in one_by_one] == [1, 1, 1, 0]
    batched = detect_faces_batch(images)
    for alone, together in zip(one_by_one, batched):
        assert len(alone) == len(together)
        for a, b in zip(alone, together):  # P-Net's batch arithmetic may differ in the last bits
            assert np.allclose(a.box, b.box, atol=1e-3) and np.allclose(a.landmarks, b.landmarks, atol=1e-3)


@pytest.mark.slow  # starting two worker processes that import torch takes a while on a busy machine
@pytest.mark.slow
def test_a_batch_in_two_processes_finds_the_same_faces():
    images = _batch()
    in_two = detect_faces_batch(images, n_jobs=2)
    assert [len(f) for f in in_two] == [1, 1, 1, 0]
    assert np.allclose(in_two[2][0].box, detect_faces(images[2])[0].box, atol=1e-3)


def test_border_finds_a_face_cut_by_the_edge_and_maps_its_box_back():
    cut = HEAD[59 + 30 : 175 + 10, 57 - 10 : 148 + 10]  # the face with its top third cut off
    cut = _small(cut, 0.8)
    found = detect_faces(cut)
    assert len(found) == 1 and found[0].box[1] < 0  # the box reaches above the image
    assert found[0].landmarks[2, 1] > 0  # the nose is in the image


def test_pnet_skips_the_far_grey_border_and_finds_what_searching_all_of_it_finds():
    # cascade(border=pad) lets P-Net skip the grey beyond 12 pixels of the image; border=0 searches all of it
    photo = _paste(_paste(_canvas((300, 460)), _small(HEAD, 0.4), 150, 0), _small(HEAD, 1.2)[90:], 0, 220)
    pad = 92  # a wide grey border, far beyond the 12 pixels P-Net needs
    batch = torch.full((2, 3, 300 + 2 * pad, 460 + 2 * pad), 127.5)
    batch[0, :, pad:-pad, pad:-pad] = torch.from_numpy(photo).permute(2, 0, 1)
    batch[1, :, pad:-pad, pad:-pad] = torch.from_numpy(photo[:, ::-1].copy()).permute(2, 0, 1)
    trimmed, whole = cascade(batch, border=pad), cascade(batch, border=0)
    assert [len(scores) for _, scores, _ in trimmed] == [2, 2]
    for found, expected in zip(trimmed, whole):
        for a, b in zip(found, expected):
            assert np.allclose(a, b, atol=1e-4)


@settings(max_examples=20, deadline=None)
@given(height=st.integers(12, 40), width=st.integers(12, 40), seed=st.integers(0, 2**16))
def test_pnet_every_window_holds_every_second_window(height, width, seed):
    # stride=1 (the pooling's stride taken out, the convolutions after it dilated) gives each 12x12 window
    # of the level; its windows at even pixels are those stride=2 gives, but for ceil_mode's last half-window
    pnet = PNet().eval().requires_grad_(False)
    pnet.load_state_dict(torch.load(WEIGHTS / "pnet.pt", weights_only=True))
    x = torch.from_numpy(np.random.default_rng(seed).uniform(-1, 1, (2, 3, height, width)).astype(np.float32))
    (offsets2, prob2), (offsets1, prob1) = pnet(x), pnet(x, stride=1)
    assert prob1.shape[2:] == (height - 11, width - 11)  # every window that fits
    rows, cols = (height - 10) // 2, (width - 10) // 2  # the windows stride=2 gives wholly inside
    assert torch.allclose(prob1[:, :, ::2, ::2][:, :, :rows, :cols], prob2[:, :, :rows, :cols], atol=1e-6)
    assert torch.allclose(offsets1[:, :, ::2, ::2][:, :, :rows, :cols], offsets2[:, :, :rows, :cols], atol=1e-5)
    # and its windows at odd pixels are those stride=2 gives on the level shifted by a pixel
    for dy, dx in ((0, 1), (1, 0), (1, 1)):
        _, shifted = pnet(x[:, :, dy:, dx:])
        odd = prob1[:, :, dy::2, dx::2]
        r, c = min(odd.shape[2], shifted.shape[2]) - 1, min(odd.shape[3], shifted.shape[3]) - 1
        assert torch.allclose(odd[:, :, :r, :c], shifted[:, :, :r, :c], atol=1e-6)


def test_every_window_on_every_level_finds_the_faces_every_second_window_finds(monkeypatch):
    # the windows' boxes on levels searched at every pixel map back where those at every second pixel do:
    # searching every level so, the faces are where they were, within 2 pixels
    from fersk.faces import _mtcnn_networks

    photo = _paste(_paste(_canvas((300, 460)), _small(HEAD, 0.4), 150, 0), _small(HEAD, 1.2)[90:], 0, 220)
    expected = detect_faces(photo)
    monkeypatch.setattr(_mtcnn_networks, "DENSE_SIDE", 10**6)
    found = detect_faces(photo)
    assert len(found) == len(expected) == 2
    for a, b in zip(found, expected):
        assert np.abs(np.subtract(a.box, b.box)).max() < 3 and np.abs(a.landmarks - b.landmarks).max() < 3


@pytest.mark.realdata
@pytest.mark.parametrize("first", [94, 288])
def test_two_faces_that_fill_their_halves_of_a_photo_are_both_found(shared_data, first):
    # benchmarks/bench_peers.py's two-face photos 47 and 144: with P-Net's windows two pixels apart on every
    # level of the pyramid, one of the two enlarged faces fell between windows and was lost
    root = shared_data / "muxspace"
    with open(root / "data" / "split.csv", newline="") as f:
        names = [row["image"] for row in csv.DictReader(f) if row["split"] == "test"]
    canvas = Image.new("RGB", (1024, 512), (128, 128, 128))
    for side, name in enumerate(names[first : first + 2]):
        face = Image.open(root / "images" / name).convert("RGB")
        grow = 512 / max(face.size)
        face = face.resize((round(face.width * grow), round(face.height * grow)), Image.Resampling.BICUBIC)
        canvas.paste(face, (512 * side + (512 - face.width) // 2, (512 - face.height) // 2))
    found = detect_faces(np.asarray(canvas))
    assert len(found) == 2
    assert sorted(face.box[0] < 512 < face.box[2] for face in found) == [False, False]  # one in each half
    assert sorted((face.box[0] + face.box[2]) / 2 > 512 for face in found) == [False, True]


def test_a_large_photo_is_searched_downscaled_and_its_boxes_map_back():
    head = _small(HEAD, 2.0)
    photo = _paste(_canvas((900, 1300)), head, 300, 700)
    face = detect_faces(photo, detect_size=400)[0]  # searched at 400 px wide, a third of its size
    expected = FACE_IN_HEAD * 2.0 + [700, 300, 700, 300]
    assert np.allclose(face.center, [(expected[0] + expected[2]) / 2, (expected[1] + expected[3]) / 2], atol=15)
    assert 0.8 < face.height / (expected[3] - expected[1]) < 1.3
    assert np.all(face.landmarks[:, 0] > expected[0]) and np.all(face.landmarks[:, 0] < expected[2])


def test_a_large_photo_costs_little_more_memory_than_itself():
    # a 6000x6000 photo took 2.3 GB beyond itself: the border was added at full size (twice the pixels),
    # in float32, before the photo was shrunk to detect_size
    script = """
import resource, sys
import numpy as np
from skimage.data import astronaut
from fersk.faces import MTCNNDetector
detector = MTCNNDetector()
detector.detect(astronaut())  # torch and the networks in memory
photo = np.full((4000, 4000, 3), 90, np.float32)  # 192 MB
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
detector.detect(photo)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * (1 if sys.platform == "darwin" else 1024))
"""
    grown = int(subprocess.run([sys.executable, "-c", script], capture_output=True, check=True, text=True).stdout)
    assert grown < 1.5 * 4000 * 4000 * 3 * 4  # was 3.8 times the photo


def test_the_weights_load_with_weights_only_and_fill_every_parameter():
    for name, cls in (("pnet", PNet), ("rnet", RNet), ("onet", ONet)):
        state = torch.load(WEIGHTS / f"{name}.pt", map_location="cpu", weights_only=True)
        net = cls()
        assert set(state) == set(net.state_dict())
        net.load_state_dict(state)  # strict: every parameter has its weights
    assert "MIT License" in (WEIGHTS / "LICENSE-facenet-pytorch.md").read_text()


def test_the_registry():
    assert list_detectors() == ["lbp", "mtcnn"]
    assert isinstance(get_detector(), MTCNNDetector)
    assert get_detector("mtcnn", min_face_size=40).min_face_size == 40
    configured = LBPDetector(min_size=30)
    assert get_detector(configured) is configured
    assert get_detector(configured, min_size=40).min_size == 40 and configured.min_size == 30
    with pytest.raises(ValueError, match=r"unknown face detector 'retina'; choose from \['lbp', 'mtcnn'\]"):
        detect_faces(np.zeros((20, 20)), detector="retina")
    with pytest.raises(TypeError, match="detector 'mtcnn'.*min_size"):
        get_detector("mtcnn", min_size=3)
    with pytest.raises(ValueError, match="min_face_size must be at least 12"):
        detect_faces(np.zeros((20, 20)), min_face_size=5)


def test_a_registered_detector_is_used_by_name_and_by_the_cropper():
    @register_detector("corner")
    class Corner(FaceDetector):
        def __init__(self, side=10):
            self.side = side

        def _detect(self, image):
            return [Face((0, 0, self.side, self.side), 1.0), Face((0, 0, 2 * self.side, 2 * self.side), 0.5)]

    try:
        faces = detect_faces(np.zeros((40, 40)), detector="corner")
        assert [f.width for f in faces] == [20, 20 // 2]  # largest first, whatever the detector's order
        image = np.zeros((40, 40), np.uint8)
        image[:20, :20] = 200
        crop = fersk.FaceCropper(detector="corner", align=False, margin=0, output_size=8).fit_transform([image])
        crop = crop.reshape(8, 8)
        assert crop[:6, :6].min() == 200 and crop.mean() > 190  # the largest face: the bright corner
        assert fersk.FaceCropper(detector=Corner(side=4)).get_params()["detector__side"] == 4
    finally:
        from fersk.faces._registry import _DETECTORS

        del _DETECTORS["corner"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU, so device='cuda' is not refused")
def test_mtcnn_on_a_gpu_this_machine_lacks_is_refused_saying_what_to_pass():
    with pytest.raises(ValueError, match=r"device='cuda' asks for a CUDA GPU.*device='cpu'"):
        detect_faces(HEAD, device="cuda")
    with pytest.raises(ValueError, match="device='gpu' is not a device torch knows"):
        detect_faces_batch([HEAD, HEAD], device="gpu")
    # "auto", the default, is the CPU here: what device="cpu" finds
    auto, cpu = detect_faces(HEAD), detect_faces(HEAD, device="cpu")
    assert len(auto) == 1 and np.allclose(auto[0].box, cpu[0].box)


def test_mtcnn_searches_in_this_process_where_its_device_is_a_gpu(monkeypatch):
    assert not MTCNNDetector()._in_this_process()  # "auto" is the CPU here
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert MTCNNDetector()._in_this_process() and MTCNNDetector(device="cuda:0")._in_this_process()
    assert not MTCNNDetector(device="cpu")._in_this_process()
    with pytest.raises(ValueError, match=r"device='cuda:1' asks for GPU 1, and torch finds 1"):
        MTCNNDetector(device="cuda:1")._in_this_process()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (the machine it was written on had none)")
def test_mtcnn_on_a_gpu_finds_the_faces_it_finds_on_the_cpu():
    photo = _paste(_paste(_canvas((300, 460)), _small(HEAD, 0.4), 150, 0), _small(HEAD, 1.2)[90:], 0, 220)
    images = [photo, photo[:, ::-1], HEAD, np.zeros((60, 80, 3), np.uint8)]
    on_cpu = detect_faces_batch(images, device="cpu")
    on_gpu = detect_faces_batch(images, device="cuda", n_jobs=2)  # n_jobs is set aside on a GPU
    assert [len(f) for f in on_gpu] == [len(f) for f in on_cpu] == [2, 2, 1, 0]
    for a, b in zip(sum(on_gpu, []), sum(on_cpu, [])):
        assert np.abs(np.subtract(a.box, b.box)).max() < 0.5


class _Pids(FaceDetector):
    """Each image's one face, scored with the id of the process that found it."""

    def __init__(self, on_gpu=False):
        self.on_gpu = on_gpu

    def _detect(self, image):
        import os

        return [Face((0, 0, 4, 4), float(os.getpid()))]

    def _in_this_process(self):
        return self.on_gpu


def test_a_detector_on_a_gpu_searches_in_this_process_whatever_n_jobs_says():
    import os

    images = [np.zeros((20, 20))] * 6
    on_gpu = _Pids(on_gpu=True).detect_batch(images, n_jobs=2)
    assert {faces[0].score for faces in on_gpu} == {float(os.getpid())}  # no worker processes started
    # (on the CPU, n_jobs=2 starts two worker processes: test_a_batch_in_two_processes_finds_the_same_faces)


def test_the_face_record():
    face = Face((10, 20, 60, 80), 0.9, np.arange(10).reshape(5, 2))
    assert (face.width, face.height, face.area, face.center) == (50.0, 60.0, 3000.0, (35.0, 50.0))
    with pytest.raises(dataclasses.FrozenInstanceError):
        face.score = 1.0
    with pytest.raises(ValueError, match="read-only"):
        face.landmarks[0, 0] = 5
    assert face == Face((10.0, 20.0, 60.0, 80.0), 0.9, np.arange(10.0).reshape(5, 2))
    assert face != Face((10, 20, 60, 80), 0.9)
    row = face.to_dict()
    assert row["left"] == 10 and row["right_eye_x"] == 2 and row["mouth_right_y"] == 9
    with pytest.raises(ValueError, match="right >= left"):
        Face((10, 20, 5, 80), 1.0)
    assert fersk.Face is Face and fersk.detect_faces is detect_faces
