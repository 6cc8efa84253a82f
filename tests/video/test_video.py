"""fersk.video on short clips the tests write with PyAV: tracking, sampling, figures, bad input."""

import copy
import csv
import io
import os
import re
import tempfile
import warnings
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from skimage.data import astronaut

import fersk
from fersk import CNNClassifier, FerskDataWarning, analyze_video, make_faces
from fersk.cli import main
from fersk.video import VideoReadError, iter_frames, plot_emotion_timeline, video_info, write_annotated_video
from fersk.video._reader import upright

FPS = 10


def write_clip(path, frames, fps=FPS, codec="mpeg4"):
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=fps)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")))
        out.mux(stream.encode())
    return path


def astronaut_small(side):
    return np.asarray(Image.fromarray(astronaut()[:300, 80:380]).resize((side, side), Image.Resampling.LANCZOS))


def one_face_frames(n=20, shift=2, width=160):
    """The astronaut's face in a ``width``x120 frame, moving right ``shift`` pixels per frame."""
    face = astronaut_small(100)
    frames = []
    for i in range(n):
        frame = np.full((120, width, 3), 90, np.uint8)
        frame[10:110, 10 + shift * i : 110 + shift * i] = face
        frames.append(frame)
    return frames


@pytest.fixture(scope="module")
def model():
    X, y = make_faces(70, image_size=24, random_state=0)
    params = dict(max_epochs=1, module__channels=(4, 8), module__hidden=16, batch_size=32, random_state=0)
    return CNNClassifier(**params).fit(X, y)


@pytest.fixture(scope="module")
def model_file(model, tmp_path_factory):
    from fersk import save

    path = tmp_path_factory.mktemp("model") / "m.fersk"
    save(model, path)
    return str(path)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("video") / "one.mp4", one_face_frames())


@pytest.fixture(scope="module")
def records(model, clip):
    return analyze_video(model, clip, every=5)


def test_every_5_analyses_frames_0_5_10_15_at_their_times(records):
    assert [r.frame for r in records] == [0, 5, 10, 15]
    np.testing.assert_allclose([r.time for r in records], [0.0, 0.5, 1.0, 1.5])
    assert records.frames_analysed == [0, 5, 10, 15] and records.frames_without_face == []
    first, face = records.describe().splitlines()
    assert first.endswith("4 frames analysed, 1 face tracked, no face in 0")
    dominant = records.summary()[0]["dominant"]
    assert face.startswith(f"face 0: {dominant} (") and face.endswith("in 4 frames, 0.00-1.50 s")


def test_one_moving_face_keeps_one_id_and_its_box_follows_it(model, clip):
    records = analyze_video(model, clip, detect_every=1)
    assert all(r.detected for r in records)
    assert [r.frame for r in records] == list(range(20))
    assert {r.face_id for r in records} == {0}
    lefts = [r.box[0] for r in records]
    assert lefts[-1] - lefts[0] == pytest.approx(2 * 19, abs=6)  # the face moved 38 pixels right
    for r in records:
        assert list(r.probabilities) == list(model.classes_)
        assert r.predicted == max(r.probabilities, key=r.probabilities.get)
        assert sum(r.probabilities.values()) == pytest.approx(1.0, abs=1e-5)


def test_two_faces_get_two_ids_that_stay_with_each_face(model, tmp_path):
    left, right = astronaut_small(100), np.ascontiguousarray(astronaut_small(80)[:, ::-1])
    frames = []
    for i in range(8):
        frame = np.full((120, 240, 3), 90, np.uint8)
        frame[10:110, 5 + i : 105 + i] = left
        frame[20:100, 150 - i : 230 - i] = right
        frames.append(frame)
    records = analyze_video(model, write_clip(tmp_path / "two.mp4", frames), detect_every=1)
    assert records.face_ids == [0, 1]
    for fid in (0, 1):
        centres = [(r.box[0] + r.box[2]) / 2 for r in records if r.face_id == fid]
        assert len(centres) == 8
        assert all(c < 120 for c in centres) or all(c > 120 for c in centres)  # the id never jumps sides


def test_fps_sampling_takes_the_frame_at_each_step(model, clip):
    records = analyze_video(model, clip, fps=4)  # a 10 fps clip: frames at 0, 0.3, 0.5, 0.8, 1.0...
    assert [r.frame for r in records] == [0, 3, 5, 8, 10, 13, 15, 18]


def test_tracking_mode_detects_every_kth_frame_and_interpolates_between(model, clip):
    every_frame = analyze_video(model, clip, detect_every=1)
    tracked = analyze_video(model, clip, detect_every=4)
    assert [r.frame for r in tracked] == list(range(20)) and {r.face_id for r in tracked} == {0}
    assert [r.frame for r in tracked if r.detected] == [0, 4, 8, 12, 16]
    for a, b in zip(every_frame[:17], tracked[:17]):
        assert np.abs(np.subtract(a.box, b.box)).max() < 3  # interpolated boxes stay on the moving face
    assert [r.box for r in tracked[17:]] == [tracked[16].box] * 3  # after the last detection: carried


@pytest.mark.parametrize(
    ("sampling", "step", "detected"),
    [({}, 2, [0, 2, 4, 6]), ({"every": 2}, 1, [0, 2, 4, 6]), ({"fps": 2.5}, 1, [0, 4])],
)
def test_auto_detects_about_five_times_a_second_of_video(model, clip, sampling, step, detected):
    records = analyze_video(model, clip, **sampling)  # a 10 fps clip
    assert records.detect_every == step
    assert [r.frame for r in records if r.detected][: len(detected)] == detected
    assert {r.face_id for r in records} == {0}


def test_a_fast_face_keeps_its_id_when_detections_are_far_apart(model, tmp_path):
    path = write_clip(tmp_path / "fast.mp4", one_face_frames(25, shift=4, width=220))
    records = analyze_video(model, path, detect_every=8)
    detected = [r for r in records if r.detected]
    assert [r.frame for r in detected] == [0, 8, 16, 24]
    moved = detected[1].box[0] - detected[0].box[0]
    assert moved > detected[0].box[2] - detected[0].box[0]  # no overlap between detections ...
    assert {r.face_id for r in records} == {0}  # ... yet one face, one id


def test_frames_without_faces_are_counted_and_kept(model, tmp_path):
    frames = one_face_frames(6)
    for i in (2, 3):
        frames[i] = np.full_like(frames[i], 90)
    path = write_clip(tmp_path / "gap.mp4", frames)
    with pytest.warns(FerskDataWarning, match=r"no face in 2 of 6 analysed frames \(frames 2, 3\)"):
        records = analyze_video(model, path, detect_every=1)
    assert records.frames_without_face == [2, 3]
    assert [(r.frame, r.face_found) for r in records if r.frame in (1, 2, 3, 4)] == [
        (1, True),
        (2, False),
        (3, False),
        (4, True),
    ]
    assert {r.face_id for r in records if r.face_found} == {0}  # the face comes back with its id


def test_frames_without_faces_between_detections_say_the_detector_did_not_run(model, tmp_path):
    frames = one_face_frames(10)
    for i in (3, 4, 5, 6):
        frames[i] = np.full_like(frames[i], 90)
    with pytest.warns(FerskDataWarning, match=r"one analysed frame in 2"):
        records = analyze_video(model, write_clip(tmp_path / "gap.mp4", frames))  # 10 fps: detection on 0, 2, 4...
    assert records.detect_every == 2
    assert [(r.frame, r.face_found, r.detected) for r in records] == [
        (0, True, True),
        (1, True, False),
        (2, True, True),
        (3, True, False),  # the face of frame 2, carried until the detection that misses it
        (4, False, True),
        (5, False, False),
        (6, False, True),
        (7, False, False),  # a face that comes back between detections is found at the next one
        (8, True, True),
        (9, True, False),
    ]
    assert records.frames_without_face == [4, 5, 6, 7]


def test_csv_has_one_row_per_record_with_probabilities(records, tmp_path):
    path = records.to_csv(tmp_path / "frames.csv")
    with open(path) as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["frame"]) for r in rows] == [0, 5, 10, 15]
    assert [float(r["time"]) for r in rows] == [0.0, 0.5, 1.0, 1.5]
    classes = records.classes
    for row, record in zip(rows, records):
        assert row["predicted"] == record.predicted
        assert float(row[classes[0]]) == pytest.approx(record.probabilities[classes[0]])
    buffer = io.StringIO()
    records.to_csv(buffer, delimiter="\t", decimals=2)
    header, first = buffer.getvalue().splitlines()[:2]
    assert header.split("\t")[-len(classes) :] == classes
    assert first.split("\t")[-len(classes) :] == [str(round(records[0].probabilities[c], 2)) for c in classes]


def test_cli_frames_csv_rounds_times_to_ms_boxes_to_a_tenth_and_probabilities_to_4_decimals(model_file, tmp_path):
    # frames.csv held times such as 0.033333 and probabilities such as 0.14285714984893799
    clip = write_clip(tmp_path / "thirty.mp4", one_face_frames(3), fps=30)
    assert main(["video", str(clip), "--model", model_file, "--out", str(tmp_path / "out")]) == 0
    with open(tmp_path / "out" / "frames.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["time"] for r in rows] == ["0.0", "0.033", "0.067"]

    def decimals(text):
        return len(text.partition(".")[2])

    header = list(rows[0])
    classes = header[header.index("predicted") + 1 :]
    assert max(decimals(r[field]) for r in rows for field in ("left", "top", "right", "bottom")) <= 1
    assert max(decimals(r[field]) for r in rows for field in ("score", *classes)) == 4


def test_timeline_has_one_panel_per_face_with_a_smoothed_line_per_class(model, records, tmp_path):
    fig = plot_emotion_timeline(records, window=3)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert ax.get_title().startswith("face 0: mostly ")
    assert [line.get_label() for line in ax.lines] == [str(c) for c in model.classes_]
    first = ax.lines[0].get_ydata()
    raw = [r.probabilities[model.classes_[0]] for r in records]
    assert first[1] == pytest.approx(np.mean(raw[:3]))  # centred moving average
    assert first[0] == pytest.approx(np.mean(raw[:2]))  # shorter at the ends
    fig.savefig(tmp_path / "timeline.png")
    assert Image.open(tmp_path / "timeline.png").size[0] > 400


def test_annotated_video_decodes_with_the_same_frames_and_shows_boxes(clip, records, tmp_path):
    out = write_annotated_video(clip, records, tmp_path / "annotated.mp4")
    info = video_info(out)
    assert (info.width, info.height) == (160, 120)
    with av.open(out) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 20
    original = one_face_frames()
    changed = [np.abs(a.astype(int) - b).mean() for a, b in zip(frames, original)]
    assert min(changed) > 2  # every frame carries a drawn box (frames 1-4 show frame 0's)


def test_a_variable_frame_rate_video_keeps_its_timing_annotated(model, tmp_path):
    # phones record at a variable rate: annotated.mp4 spaced every frame evenly, so it ran shorter than
    # the video and showed frame 4 (at 0.5 s in frames.csv) at 0.16 s
    times_ms = [0, 40, 160, 200, 500, 540]
    path = tmp_path / "phone.mkv"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for frame, ms in zip(one_face_frames(len(times_ms)), times_ms):
            picture = av.VideoFrame.from_ndarray(frame, format="rgb24")
            picture.pts, picture.time_base = ms, Fraction(1, 1000)
            out.mux(stream.encode(picture))
        out.mux(stream.encode())
    records = analyze_video(model, path, detect_every=1)
    assert [r.time for r in records] == pytest.approx([ms / 1000 for ms in times_ms])
    for codec in ("libx264", "mpeg4"):  # the default, and the fallback where the wheel lacks libx264
        if codec not in av.codecs_available:
            continue
        written = write_annotated_video(path, records, tmp_path / f"{codec}.mp4", codec=codec)
        with av.open(written) as container:
            assert [float(f.time) for f in container.decode(video=0)] == pytest.approx(
                [ms / 1000 for ms in times_ms], abs=1e-3
            )


def test_a_one_frame_clip_is_one_frame_analysed_and_said_so(model, tmp_path):
    # "1 frames analysed"
    records = analyze_video(model, write_clip(tmp_path / "one.mp4", one_face_frames(1)))
    assert [(r.frame, r.time, r.face_id) for r in records] == [(0, 0.0, 0)]
    assert records.describe().startswith(f"{tmp_path / 'one.mp4'}: 1 frame analysed, 1 face tracked, no face in 0")


def test_an_animated_gif_is_a_video_and_a_still_one_a_photo(model, model_file, tmp_path, capsys):
    # reaction GIFs: fersk video refused every .gif as "a photo", and fersk predict reads only its first frame
    frames = [Image.fromarray(frame) for frame in one_face_frames(3)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=[100, 300, 100])
    records = analyze_video(model, tmp_path / "anim.gif", detect_every=1)
    assert [(r.frame, r.face_id) for r in records] == [(0, 0), (1, 0), (2, 0)]
    assert [r.time for r in records] == pytest.approx([0.0, 0.1, 0.4])  # the GIF's own delays
    assert main(["video", str(tmp_path / "anim.gif"), "--model", model_file, "--out", str(tmp_path / "o")]) == 0
    assert "3 frames analysed, 1 face tracked" in capsys.readouterr().out
    frames[0].save(tmp_path / "still.gif")
    with pytest.raises(ValueError, match=r"still\.gif: it is a still image \(gif\)"):
        analyze_video(model, tmp_path / "still.gif")
    assert main(["video", str(tmp_path / "still.gif"), "--model", model_file]) == 2
    assert "is a photo: find and classify its faces with `fersk predict" in capsys.readouterr().err


def test_writing_the_annotated_video_shows_its_progress_when_asked(clip, records, tmp_path, capsys):
    # the second pass over a long video was silent, while the first had a bar
    write_annotated_video(clip, records, tmp_path / "shown.mp4", progress=True)
    assert re.search(r"writing .*shown\.mp4: .*\d+/20 \[", capsys.readouterr().err)  # a bar over its 20 frames
    write_annotated_video(clip, records, tmp_path / "hidden.mp4", progress=False)
    assert capsys.readouterr().err == ""


def test_cli_writes_csv_timeline_and_annotated_video(model_file, clip, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["video", str(clip), "--model", model_file, "--every", "5", "--out", str(out), "--annotate"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "4 frames analysed" in printed and "1 face tracked" in printed and "face 0:" in printed
    with open(out / "frames.csv") as handle:
        assert [int(r["frame"]) for r in csv.DictReader(handle)] == [0, 5, 10, 15]
    assert Image.open(out / "timeline.png").size[0] > 400
    with av.open(str(out / "annotated.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 20


def test_a_portrait_video_stored_on_its_side_is_analysed_and_drawn_upright(model, tmp_path):
    path = tmp_path / "phone.mp4"
    upright = one_face_frames(4, width=120)  # the face in 120x120 frames, in a 120 wide, 160 high portrait
    upright = [np.concatenate([frame, np.full((40, 120, 3), 90, np.uint8)]) for frame in upright]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=FPS)
        stream.width, stream.height = 160, 120  # stored on its side, as a phone stores it
        stream.pix_fmt = "yuv420p"
        if not hasattr(stream, "set_display_rotation"):
            pytest.skip("this PyAV cannot write rotation metadata")
        stream.set_display_rotation(90)  # shown turned 90 degrees counter-clockwise
        for frame in upright:
            out.mux(
                stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(np.rot90(frame, -1)), format="rgb24"))
            )
        out.mux(stream.encode())
    info = video_info(path)
    assert (info.height, info.width) == next(iter_frames(path))[2].shape[:2] == (160, 120)  # upright, as yielded
    records = analyze_video(model, path, detect_every=1)
    assert [r.face_found for r in records] == [True] * 4
    left, top, right, bottom = records[0].box
    assert 0 <= top < bottom < 120 and 0 <= left < right < 120  # in the upright frame, above the band
    drawn = tmp_path / "drawn.mp4"
    write_annotated_video(path, records, drawn)
    with av.open(str(drawn)) as container:
        frame = next(container.decode(video=0))
        assert (frame.height, frame.width) == (160, 120)


def test_a_video_cut_short_is_analysed_to_where_it_ends_with_a_warning(model, clip, tmp_path):
    whole = tmp_path / "whole.mp4"
    with av.open(str(clip)) as source, av.open(str(whole), "w", options={"movflags": "faststart"}) as out:
        stream = out.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    data = whole.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])  # the index first, then half the frames: FFmpeg decodes what is left
    with warnings.catch_warnings():
        warnings.simplefilter("error", FerskDataWarning)
        assert len(analyze_video(model, whole, every=5, detect_every=1)) == 4  # the whole clip: no warning
    with pytest.warns(FerskDataWarning, match=r"cut\.mp4: decoding stopped after \d+ frames .* says 20; .*truncated"):
        records = analyze_video(model, cut, every=5, detect_every=1)
    assert 0 < len(records.frames_analysed) < 4


def _talk(path, frames, sound_seconds):
    """A grey clip of ``frames`` frames at FPS with ``sound_seconds`` of silence in an AAC track."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("mpeg4", rate=FPS)
        video.width, video.height = 64, 48
        video.pix_fmt = "yuv420p"
        audio = out.add_stream("aac", rate=8000)
        audio.layout = "mono"
        for _ in range(frames):
            out.mux(video.encode(av.VideoFrame.from_ndarray(np.full((48, 64, 3), 90, np.uint8), format="rgb24")))
        out.mux(video.encode())
        for start in range(0, max(1024, int(8000 * sound_seconds)), 1024):
            sound = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            sound.sample_rate, sound.pts = 8000, start
            out.mux(audio.encode(sound))
        out.mux(audio.encode())
    return path


def test_a_whole_video_with_longer_audio_is_not_called_truncated(tmp_path):
    path = _talk(tmp_path / "talk.mkv", frames=10, sound_seconds=2)  # Matroska: no frame count, no duration
    assert video_info(path).duration > 1.5  # the container's duration: the audio's
    with warnings.catch_warnings():
        warnings.simplefilter("error", FerskDataWarning)
        assert len(list(iter_frames(path))) == 10


def test_cli_says_in_one_line_which_frames_have_no_face(model_file, tmp_path, capsys):
    path = write_clip(tmp_path / "wall.mp4", [np.full((64, 64, 3), 90, np.uint8)] * 3)
    assert main(["video", str(path), "--model", model_file, "--detect-every", "1", "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err.strip()
    assert err == (
        f"fersk video: {path}: no face in 3 of 3 analysed frames (frames 0, 1, 2); each has one record with "
        "face_found=False"
    )


def test_cli_never_writes_annotated_mp4_over_the_video_it_reads(model_file, clip, tmp_path, capsys):
    video = tmp_path / "annotated.mp4"
    video.write_bytes(clip.read_bytes())
    assert main(["video", str(video), "--model", model_file, "--out", str(tmp_path), "--annotate"]) == 2
    assert "over the video it reads: choose another --out" in capsys.readouterr().err
    assert video.read_bytes() == clip.read_bytes()


def test_cli_sends_a_photo_to_the_predict_command(model_file, tmp_path, capsys):
    photo = _jpeg(tmp_path / "me.jpg")
    assert main(["video", str(photo), "--model", model_file]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"fersk video: {photo} is a photo: find and classify its faces with `fersk predict {photo}`"
    assert main(["video", str(tmp_path / "missing.gif"), "--model", model_file]) == 2
    assert "is a photo" not in capsys.readouterr().err  # a missing file is not called a photo


# -- bad input --------------------------------------------------------------------------


def _no_frames(path):
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=FPS)
        stream.width, stream.height = 64, 64
        out.start_encoding()  # the header, and not one frame
    return path


def _truncated(path, clip):
    data = clip.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


def _corrupt(path, clip):
    data = bytearray(clip.read_bytes())
    rng = np.random.default_rng(0)
    data[48:] = rng.integers(0, 256, len(data) - 48, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    return path


def _jpeg(path):
    Image.fromarray(astronaut()).save(path, format="JPEG")
    return path


BAD = {
    "missing": (lambda p, clip: p, "no such file"),
    "text": (lambda p, clip: (p.write_text("not a video\n" * 50), p)[1], "not a video"),
    "jpeg renamed .mp4": (lambda p, clip: _jpeg(p), "still image"),
    "empty file": (lambda p, clip: (p.write_bytes(b""), p)[1], "empty"),
    "folder": (lambda p, clip: (p.mkdir(), p)[1], "a folder; give one video file"),
    "no frames": (lambda p, clip: _no_frames(p), "holds no video frames"),
    "truncated": (_truncated, "corrupt or truncated|no frames"),
    "corrupt": (_corrupt, "corrupt or truncated|not a video|no frames"),
}


@pytest.mark.parametrize("name", BAD)
def test_bad_input_is_a_value_error_naming_the_file(name, model, model_file, clip, tmp_path, capfd):
    make, reason = BAD[name]
    path = make(tmp_path / "bad.mp4", clip)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FerskDataWarning)  # no "no face in N frames" instead of the error
        with pytest.raises(ValueError, match=rf"bad\.mp4.*({reason})"):
            analyze_video(model, path)
    assert "Traceback" not in capfd.readouterr().err
    code = main(["video", str(path), "--model", model_file, "--out", str(tmp_path / "o")])
    err = capfd.readouterr().err
    assert code == 2 and "bad.mp4" in err and "Traceback" not in err


def test_video_info_decodes_a_file_once_until_it_changes(clip, tmp_path, monkeypatch):
    # video_info decoded the first frame (for the rotation) on every call
    from fersk.video import _reader

    decoded = []
    turned = _reader._quarter_turned
    monkeypatch.setattr(_reader, "_quarter_turned", lambda *args: decoded.append(1) or turned(*args))
    path = tmp_path / "mine.mp4"
    path.write_bytes(clip.read_bytes())
    first = video_info(path)
    assert [video_info(path), video_info(str(path))] == [first, replace(first, path=str(path))]
    assert len(decoded) == 1
    write_clip(path, one_face_frames(4))  # another video under the same name
    assert video_info(path).n_frames == 4 and len(decoded) == 2


@pytest.mark.parametrize(
    "camera",
    [
        0,
        "0",
        pytest.param(  # /dev/null is a character device, as /dev/video0 is
            os.devnull, marks=pytest.mark.skipif(os.name != "posix", reason="Windows' 'nul' is no device file")
        ),
    ],
)
def test_a_camera_is_refused_saying_fersk_reads_video_files(camera, model, model_file, tmp_path, monkeypatch, capsys):
    # OpenCV habits: VideoCapture(0) or /dev/video0; fersk said "no such file", or Path(0)'s TypeError
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="fersk reads video files, not cameras: record a clip first"):
        analyze_video(model, camera)
    assert main(["video", str(camera), "--model", model_file]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"fersk video: cannot read video {camera}: ") and len(err.splitlines()) == 1
    assert not (tmp_path / "fersk-video").exists()  # refused before anything was written


def test_video_command_has_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["video", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "usage: fersk video" in out and "--detect-every" in out and "--annotate" in out


@pytest.mark.parametrize("failure", ["no frames", "fails half-way"])
def test_an_annotated_video_is_written_whole_or_not_at_all(failure, clip, records, tmp_path, monkeypatch):
    target = tmp_path / "out" / "annotated.mp4"
    target.parent.mkdir()
    target.write_bytes(b"an older annotated video")
    source = clip
    if failure == "no frames":
        source = _no_frames(tmp_path / "bad.mp4")
    else:  # a decoding error, a full disk or Ctrl-C after some frames were written
        read = []

        def read_then_fail(frame):
            read.append(frame)
            if len(read) > 15:  # past the encoder's look-ahead: packets were written
                raise VideoReadError(f"cannot read video {clip}: corrupt or truncated, decoding failed after frame 15")
            return upright(frame)

        monkeypatch.setattr("fersk.video._write.upright", read_then_fail)
    with pytest.raises(ValueError, match=r"cannot read video"):
        write_annotated_video(source, records, target)
    assert target.read_bytes() == b"an older annotated video"  # left whole
    assert [p.name for p in target.parent.iterdir()] == ["annotated.mp4"]  # and nothing half-written beside it


def test_an_annotated_video_of_a_video_with_sound_says_the_sound_is_left_out(model, tmp_path):
    path = _talk(tmp_path / "talk.mkv", frames=3, sound_seconds=0.1)
    with pytest.warns(UserWarning, match=r"talk\.mkv has sound, and the annotated video is written without it"):
        written = write_annotated_video(path, [], tmp_path / "drawn.mp4")
    with av.open(written) as container:
        assert not container.streams.audio and container.streams.video[0].frames == 3


@pytest.mark.parametrize("name", BAD)
def test_on_error_skip_lists_a_bad_video_and_returns_what_was_read(name, model, clip, tmp_path):
    # a folder of videos must not stop at its first bad file: analyze_faces' on_error, for a video
    make, reason = BAD[name]
    path = make(tmp_path / "bad.mp4", clip)
    with pytest.warns(FerskDataWarning, match=rf"bad\.mp4.*({reason}).*listed in the records' unreadable"):
        records = analyze_video(model, path, on_error="skip")
    assert list(records.unreadable) == [str(path)] and re.search(reason, records.unreadable[str(path)])
    assert len(records) == len(records.frames_analysed) == 0 or name in ("truncated", "corrupt")


def test_on_error_skip_keeps_the_frames_analysed_before_decoding_failed(model, clip, monkeypatch):
    from fersk.video import _analyze

    whole = analyze_video(model, clip, detect_every=1, n_jobs=None)
    frames = _analyze.iter_frames

    def fail_after_12(*args, **kwargs):
        for i, item in enumerate(frames(*args, **kwargs)):
            if i == 12:
                raise VideoReadError(f"cannot read video {clip}: corrupt or truncated, decoding failed after frame 11")
            yield item

    monkeypatch.setattr(_analyze, "iter_frames", fail_after_12)
    with pytest.raises(VideoReadError, match="after frame 11"):
        analyze_video(model, clip, detect_every=1)
    with pytest.warns(FerskDataWarning, match=r"after frame 11; the records hold the 12 frames analysed before it"):
        part = analyze_video(model, clip, detect_every=1, on_error="skip", n_jobs=None)
    assert part.frames_analysed == list(range(12)) and part.unreadable
    # the same records: MTCNN batches the last 4 frames as 4, not within 8, and its boxes move by 1e-5 pixel
    assert [(r.frame, r.face_id, r.predicted) for r in part] == [(r.frame, r.face_id, r.predicted) for r in whole][:12]
    np.testing.assert_allclose([r.box for r in part], [r.box for r in whole][:12], atol=1e-3)


@pytest.mark.parametrize("detect_every", [1, 3])
def test_detection_on_worker_processes_gives_the_same_records(model, detect_every):
    frames = one_face_frames(20)[:5] + [np.full((120, 160, 3), 90, np.uint8)] * 4 + one_face_frames(20)[9:]
    path = write_clip(Path(tempfile.mkdtemp()) / "gap.mp4", frames)
    here = analyze_video(model, path, detect_every=detect_every, n_jobs=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FerskDataWarning)  # the four frames without a face, said by both
        workers = analyze_video(model, path, detect_every=detect_every, n_jobs=2)
    assert [(r.frame, r.face_id, r.face_found, r.detected) for r in workers] == [
        (r.frame, r.face_id, r.face_found, r.detected) for r in here
    ]
    np.testing.assert_allclose([r.box for r in workers if r.box], [r.box for r in here if r.box], atol=1e-3)
    np.testing.assert_allclose(
        [list(r.probabilities.values()) for r in workers if r.face_found],
        [list(r.probabilities.values()) for r in here if r.face_found],
        atol=1e-5,
    )
    assert detect_every > 1 or (sum(not r.face_found for r in here), len(here)) == (4, 20)


def test_on_error_and_n_jobs_are_checked(model, clip):
    with pytest.raises(ValueError, match=r"on_error must be one of \('raise', 'skip'\), got 'ignore'"):
        analyze_video(model, clip, on_error="ignore")


def test_detector_none_classifies_each_whole_frame_as_analyze_faces_does(model, clip):
    # analyze_faces(detector=None) takes each image as the face; the video door refused None
    records = analyze_video(model, clip, every=4, detector=None)
    frames = [rgb for _, _, rgb in iter_frames(clip, every=4)]
    photos = fersk.analyze_faces(model, frames, detector=None, n_jobs=None)
    assert [(r.frame, r.face_id, r.face_found, r.detected) for r in records] == [
        (i, 0, True, False) for i in (0, 4, 8, 12, 16)
    ]
    assert [r.box for r in records] == [(0.0, 0.0, 160.0, 120.0)] * 5 == [r.box for r in photos]
    np.testing.assert_allclose(
        [list(r.probabilities.values()) for r in records], [list(r.probabilities.values()) for r in photos], atol=1e-6
    )


def test_prediction_sets_and_unsure_reach_the_frame_records_and_the_csv(model, clip, tmp_path):
    from fersk.classifiers import calibrate

    X, y = make_faces(140, image_size=24, random_state=1)
    calibrated = calibrate(copy.deepcopy(model), X, y)
    with pytest.raises(ValueError, match="calibrate"):  # said before any frame is decoded
        analyze_video(model, clip, coverage=0.9)
    records = analyze_video(calibrated, clip, every=5, coverage=0.9, abstain_precision=0.1)
    photos = fersk.analyze_faces(
        calibrated, [rgb for _, _, rgb in iter_frames(clip, every=5)], coverage=0.9, abstain_precision=0.1, n_jobs=None
    )
    assert [r.prediction_set for r in records] == [r.prediction_set for r in photos]
    assert [r.unsure for r in records] == [r.unsure for r in photos]
    assert all(r.prediction_set[0] == r.predicted for r in records)
    header = next(csv.reader(io.StringIO(records.to_csv(io.StringIO()).getvalue())))
    assert header[header.index("predicted") + 1 : header.index("predicted") + 3] == ["prediction_set", "unsure"]


@pytest.mark.parametrize(
    ("start", "end", "match"),
    [(-1, None, "start must be a time in seconds"), (2.0, 1.0, "end must come after start"), (None, "x", "end must")],
)
def test_a_segment_that_cannot_be_is_refused(start, end, match):
    with pytest.raises(ValueError, match=match):
        fersk.analyze_video(None, "clip.mp4", start=start, end=end)


def test_records_written_as_they_are_made_are_the_records_kept_in_memory(model, tmp_path):
    frames = one_face_frames(12)
    frames[4] = np.full_like(frames[4], 90)  # a frame without a face: a row without a prediction
    path = write_clip(tmp_path / "rows.mp4", frames)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FerskDataWarning)
        kept = analyze_video(model, path, detect_every=2, batch_size=3)
        streamed = analyze_video(model, path, detect_every=2, batch_size=3, out=tmp_path / "rows.csv")
    assert len(streamed) == 0 and streamed.written_to == str(tmp_path / "rows.csv")
    kept.to_csv(tmp_path / "kept.csv")
    assert (tmp_path / "rows.csv").read_text() == (tmp_path / "kept.csv").read_text()
    assert streamed.summary() == kept.summary() and streamed.face_ids == kept.face_ids == [0]
    assert streamed.describe() == kept.describe()
    with pytest.raises(ValueError, match="wrote the records to .*rows.csv as it made them"):
        streamed.to_frame()
    with pytest.raises(ValueError, match="the timeline: analyze_video wrote the records"):
        fersk.video.plot_emotion_timeline(streamed)
    # a run that fails leaves no file, whole or half
    with pytest.raises(ValueError, match="no face in frame 4"):
        analyze_video(model, path, detect_every=1, on_missing="error", out=tmp_path / "failed.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.csv", "rows.csv", "rows.mp4"]


@pytest.mark.parametrize("sampling", [{"fps": 7}, {"fps": 3}, {"fps": 2.5}, {"every": 4}, {"every": 1}])
def test_segments_decode_the_frames_of_the_whole_video(sampling, tmp_path):
    from fersk.video._reader import iter_frames

    frames = [np.full((32, 48, 3), 5 * i, np.uint8) for i in range(47)]
    path = write_clip(tmp_path / "grey.mp4", frames)  # key frames every 12: segments start by seeking
    whole = [(i, round(t, 4)) for i, t, _ in iter_frames(path, **sampling)]
    for cuts in [(1.5,), (0.7, 2.05, 3.3), (1.0, 2.0)]:
        bounds = [None, *cuts, None]
        parts = [
            (i, round(t, 4))
            for start, end in zip(bounds[:-1], bounds[1:])
            for i, t, _ in iter_frames(path, start=start, end=end, **sampling)
        ]
        assert parts == whole, cuts
