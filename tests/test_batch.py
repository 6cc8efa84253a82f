"""fersk.batch: many photos and videos, partition by partition, in this process and on a two-worker
LocalCluster: the records of the local call, unreadable files listed, a cut-short run resumed without
writing anything twice."""

import json
import warnings

import av
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from skimage.data import astronaut

import fersk
from fersk import CNNClassifier, FerskDataWarning, analyze_faces, analyze_video, make_faces
from fersk.batch import _analyze as batch_analyze
from fersk.batch import analyze_photos, analyze_videos

distributed = pytest.importorskip("distributed", reason="dask.distributed is optional: pip install fersk[dask]")


@pytest.fixture(scope="module")
def model():
    X, y = make_faces(70, image_size=24, random_state=0)
    return CNNClassifier(max_epochs=1, module__channels=(4, 8), module__hidden=8, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def model_file(model, tmp_path_factory):
    return fersk.save(model, tmp_path_factory.mktemp("model") / "m.fersk")


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Seven small photos of the astronaut, shifted, one of them unreadable, in a folder."""
    folder = tmp_path_factory.mktemp("photos")
    face = astronaut()[:300, 80:380]
    for i in range(6):
        canvas = np.full((160, 200, 3), 40 * i, np.uint8)
        canvas[20:140, 10 + 10 * i : 130 + 10 * i] = np.asarray(Image.fromarray(face).resize((120, 120)))
        Image.fromarray(canvas).save(folder / f"p{i}.png")
    (folder / "p3b.jpg").write_text("not a photo")
    return folder


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            yield client


def local_frame(model, folder):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FerskDataWarning)
        return analyze_faces(model, sorted(str(p) for p in folder.iterdir()), on_error="skip", n_jobs=None).to_frame()


def assert_same_records(frame, expected):
    assert list(frame.columns) == list(expected.columns)
    numbers = expected.select_dtypes("number").columns
    pd.testing.assert_frame_equal(frame.drop(columns=numbers), expected.drop(columns=numbers), check_dtype=False)
    # the same faces, probabilities within 1e-5; MTCNN batches photos by size, and a box moves by 1e-5 pixel
    # with the batch it is found in
    boxes = [c for c in numbers if c in ("left", "top", "right", "bottom")]
    rest = [c for c in numbers if c not in boxes]
    np.testing.assert_allclose(frame[boxes].to_numpy(float), expected[boxes].to_numpy(float), atol=1e-3)
    np.testing.assert_allclose(frame[rest].to_numpy(float), expected[rest].to_numpy(float), atol=1e-5)


def test_photos_in_this_process_give_the_records_of_analyze_faces(model, photos, tmp_path):
    run = analyze_photos(model, photos, tmp_path / "out", partition_size=3)
    assert [t.name for t in run.tables] == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    assert run.written == [0, 1, 2] and run.resumed == [] and run.n_inputs == 7
    assert list(run.unreadable) == [str(photos / "p3b.jpg")]  # listed, not dropped
    assert_same_records(run.read(), local_frame(model, photos))
    marker = json.loads((tmp_path / "out" / "part-00001.json").read_text())
    assert marker["inputs"] == 3 and list(marker["unreadable"]) == [str(photos / "p3b.jpg")]


def test_a_cut_short_run_resumes_and_writes_nothing_twice(model, photos, tmp_path, monkeypatch):
    out = tmp_path / "out"
    calls = []
    task = batch_analyze.photo_partition

    def killed_at_the_third(model, paths, *args, **kwargs):
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl-C, or the machine going away, while the third partition runs
        calls.append(paths)
        return task(model, paths, *args, **kwargs)

    monkeypatch.setattr(batch_analyze, "photo_partition", killed_at_the_third)
    with pytest.raises(KeyboardInterrupt):
        analyze_photos(model, photos, out, partition_size=2, format="csv")
    monkeypatch.undo()
    written = {p.name: p.stat().st_mtime_ns for p in out.glob("part-*")}
    assert sorted(written) == ["part-00000.csv", "part-00000.json", "part-00001.csv", "part-00001.json"]
    run = analyze_photos(model, photos, out, partition_size=2, format="csv")
    assert run.resumed == [0, 1] and run.written == [2, 3]
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("part-0000[01]*")} == written  # not written again
    whole = analyze_photos(model, photos, tmp_path / "whole", partition_size=2, format="csv")
    for a, b in zip(run.tables, whole.tables):
        assert a.read_text() == b.read_text()
    assert run.unreadable == whole.unreadable


def test_a_folder_of_another_run_is_refused(model, photos, tmp_path):
    out = tmp_path / "out"
    analyze_photos(model, photos, out, partition_size=4, format="csv")
    with pytest.raises(ValueError, match=r"holds the output of another run \(it differs in partitions\)"):
        analyze_photos(model, photos, out, partition_size=3, format="csv")
    with pytest.raises(ValueError, match=r"differs in .*settings"):
        analyze_photos(model, photos, out, partition_size=4, format="csv", margin=0.3)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "mine.txt").write_text("a user's file")
    with pytest.raises(ValueError, match="not empty and holds no fersk run"):
        analyze_photos(model, photos, tmp_path / "busy")


def test_bad_arguments_say_what_to_do(model, photos, tmp_path):
    with pytest.raises(ValueError, match=r"takes detector, .* not \['n_jobs'\]"):
        analyze_photos(model, photos, tmp_path / "o", n_jobs=2)
    with pytest.raises(ValueError, match="partition_size must be a positive whole number"):
        analyze_photos(model, photos, tmp_path / "o", partition_size=0)
    with pytest.raises(ValueError, match="format must be one of"):
        analyze_photos(model, photos, tmp_path / "o", format="xlsx")
    with pytest.raises(ValueError, match="scheduler must be None, 'local', a scheduler address"):
        analyze_photos(model, photos, tmp_path / "o2", scheduler=2)
    with pytest.raises(ValueError, match="no photos to analyse"):
        analyze_photos(model, [], tmp_path / "o3")
    with pytest.raises(ValueError, match="no model file at"):
        analyze_photos(tmp_path / "missing.fersk", photos, tmp_path / "o4")


def test_photos_on_two_workers_give_the_local_records_and_load_the_model_once_each(
    model, model_file, photos, client, tmp_path
):
    expected = local_frame(model, photos)
    run = analyze_photos(str(model_file), photos, tmp_path / "out", scheduler=client, partition_size=1)
    assert len(run.tables) == 7 and list(run.unreadable) == [str(photos / "p3b.jpg")]
    assert_same_records(run.read(), expected)
    from fersk.batch import _run

    loaded = client.run(lambda: len(_run._LOADED))
    assert sorted(loaded.values()) == [1, 1]  # both workers worked, and each loaded the file once
    run = analyze_photos(model, photos, tmp_path / "scattered", scheduler=client, partition_size=3)
    assert_same_records(run.read(), expected)


def write_clip(path, n=8, shift=3):
    face = np.asarray(Image.fromarray(astronaut()[:300, 80:380]).resize((90, 90)))
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 112, "yuv420p"
        for i in range(n):
            frame = np.full((112, 160, 3), 80, np.uint8)
            frame[10:100, 5 + shift * i : 95 + shift * i] = face
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        out.mux(stream.encode())
    return path


@pytest.mark.parametrize("where", ["here", "cluster"])
def test_videos_one_table_each_with_the_records_of_analyze_video(where, model, tmp_path, request):
    folder = tmp_path / "videos"
    folder.mkdir()
    clips = [write_clip(folder / "a.mp4", shift=2), write_clip(folder / "b.mp4", shift=4)]
    (folder / "c.mp4").write_text("not a video")
    scheduler = request.getfixturevalue("client") if where == "cluster" else None
    run = analyze_videos(model, folder, tmp_path / "out", scheduler=scheduler, detect_every=2, format="csv")
    assert [t.name for t in run.tables] == ["part-00000.csv", "part-00001.csv", "part-00002.csv"]
    assert list(run.unreadable) == [str(folder / "c.mp4")]
    frame = run.read()
    for clip in clips:
        expected = analyze_video(model, clip, detect_every=2, n_jobs=None).to_frame()
        mine = frame[frame.video == str(clip)].drop(columns="video").reset_index(drop=True)
        assert_same_records(mine, expected)
    assert (frame.video == str(folder / "c.mp4")).sum() == 0


def test_the_commands_run_a_folder_into_partitions_and_resume(model_file, photos, client, tmp_path, capsys):
    from fersk.cli import main

    address = client.scheduler.address
    out = tmp_path / "out"
    argv = ["predict", str(photos), "--model", str(model_file), "--scheduler", address, "--out", str(out)]
    assert main([*argv, "--format", "csv"]) == 1  # one file could not be read: named, and the status says so
    captured = capsys.readouterr()
    assert f"could not read {photos / 'p3b.jpg'}" in captured.err
    assert "photos: 7, partitions written: 1, done before: 0, unreadable: 1" in captured.out
    assert main([*argv, "--format", "csv"]) == 1
    assert "partitions written: 0, done before: 1" in capsys.readouterr().out
    assert main([*argv, "--csv", str(tmp_path / "rows.csv")]) == 2
    assert "--csv belong to a run in this process" in capsys.readouterr().err
    assert main(["predict", str(photos), "--model", str(model_file), "--scheduler", address]) == 2
    assert "give --out DIR" in capsys.readouterr().err

    videos = tmp_path / "videos"
    videos.mkdir()
    write_clip(videos / "a.mp4")
    write_clip(videos / "b.mp4", shift=5)
    argv = ["video", str(videos / "a.mp4"), str(videos / "b.mp4"), "--model", str(model_file)]
    assert main([*argv, "--scheduler", address, "--out", str(tmp_path / "v"), "--format", "csv"]) == 0
    assert "videos: 2, partitions written: 2" in capsys.readouterr().out
    frame = pd.concat([pd.read_csv(tmp_path / "v" / f"part-0000{i}.csv") for i in (0, 1)])
    assert sorted(set(frame.video)) == [str(videos / "a.mp4"), str(videos / "b.mp4")]
    # a video of 0.8 s in segments of 0.3 s: three tasks (the last one 0.2 s longer), the ids joined
    argv = ["video", str(videos / "a.mp4"), "--model", str(model_file), "--segment-seconds", "0.3"]
    assert main([*argv, "--out", str(tmp_path / "s"), "--format", "csv"]) == 0
    assert "videos: 1, partitions written: 3" in capsys.readouterr().out
    assert "segment_face_id" in pd.read_csv(tmp_path / "s" / "part-00002.csv").columns


def write_long_clip(path, n=40):
    """Four seconds at 10 frames per second: one face moving right, a second, larger one from 2.5 s on
    (found first where both are: the last segment's own ids are the other way round)."""
    face = np.asarray(Image.fromarray(astronaut()[:300, 80:380]).resize((70, 70)))
    large = np.asarray(Image.fromarray(astronaut()[:300, 80:380]).resize((84, 84)))[:, ::-1]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 320, 112, "yuv420p"
        stream.gop_size = 8  # key frames every 0.8 s: segments start by seeking
        for i in range(n):
            frame = np.full((112, 320, 3), 80, np.uint8)
            frame[20:90, 5 + 2 * i : 75 + 2 * i] = face
            if i >= 25:
                frame[14:98, 226:310] = large
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        out.mux(stream.encode())
    return path


@pytest.mark.parametrize(("where", "format"), [("here", "csv"), ("cluster", "parquet")])
def test_a_long_video_split_into_segments_keeps_its_face_ids(where, format, model, tmp_path, request):
    clip = write_long_clip(tmp_path / "long.mp4")
    scheduler = request.getfixturevalue("client") if where == "cluster" else None
    settings = dict(segment_seconds=1.5, detect_every=1, format=format)
    run = analyze_videos(model, clip, tmp_path / "out", scheduler=scheduler, **settings)
    assert len(run.tables) == 3  # 0-1.5 s, 1.5-3 s, and 3 s to the end (a short remainder joins the last)
    frame = run.read()
    segment_ids = frame.pop("segment_face_id")
    expected = analyze_video(model, clip, detect_every=1, n_jobs=None).to_frame()
    assert sorted(set(expected.face_id.dropna())) == [0, 1]
    assert_same_records(frame.drop(columns="video"), expected)  # the ids of one run over the whole video
    assert (segment_ids.dropna() != frame.face_id.dropna()).any()  # the join changed some
    # resumed: nothing written again, and the join gives the same ids
    again = analyze_videos(model, clip, tmp_path / "out", scheduler=scheduler, **settings)
    assert again.written == [] and again.resumed == [0, 1, 2]
    pd.testing.assert_frame_equal(again.read(), run.read())


def test_segments_cover_a_video_once():
    from fersk.batch._run import video_segments

    assert video_segments("missing.mp4", 10) == [("missing.mp4", None, None)]  # unreadable: one task lists it
    assert video_segments("any.mp4", None) == [("any.mp4", None, None)]
    with pytest.raises(ValueError, match="segment_seconds must be a number of seconds above 0"):
        analyze_videos(None, "any.mp4", "out", segment_seconds=0)


def test_long_videos_are_cut_at_whole_segments(monkeypatch):
    from fersk.batch import _run

    monkeypatch.setattr(_run, "video_info", lambda path: type("Info", (), {"duration": float(path)})())
    assert _run.video_segments("14", 10) == [("14", None, None)]  # under 1.5 segments: whole
    assert _run.video_segments("31", 10) == [("31", None, 10), ("31", 10, 20), ("31", 20, None)]  # 1 s joins
    assert _run.video_segments("36", 10) == [("36", None, 10), ("36", 10, 20), ("36", 20, 30), ("36", 30, None)]


def test_a_face_gone_long_before_the_seam_is_not_joined_to_one_after_it(tmp_path):
    from fersk.batch._seams import join_segments

    header = "video,frame,time,face_id,face_found,left,top,right,bottom\n"
    left = [f"v,{i},{i / 10},0,True,10,10,50,50" for i in range(5)]  # seen from 0 to 0.4 s
    right = [f"v,{i},{i / 10},{int(i >= 5)},True,200,10,240,50" for i in range(5, 100)]  # from 0.5 s to the seam
    (tmp_path / "a.csv").write_text(header + "\n".join(sorted(left + right, key=lambda r: int(r.split(",")[1]))))
    # a face where the left one was, at 10.1 s, is someone else; the one at right carries on
    (tmp_path / "b.csv").write_text(header + "v,101,10.1,0,True,10,10,50,50\nv,101,10.1,1,True,201,10,241,50\n")
    assert join_segments([tmp_path / "a.csv", tmp_path / "b.csv"], [10.0]) == 3
    rows = (tmp_path / "b.csv").read_text().splitlines()[1:]
    assert [row.split(",")[3] for row in rows] == ["2", "1"]  # face_id: a new face, then the one carried on
    join_segments([tmp_path / "a.csv", tmp_path / "b.csv"], [10.0])  # again: nothing changes
    assert (tmp_path / "b.csv").read_text().splitlines()[1:] == rows
