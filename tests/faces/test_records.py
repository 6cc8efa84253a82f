"""The records of photos and of videos offer the same things: rows, CSV, a pandas DataFrame, Parquet."""

import io

import numpy as np
import pandas as pd
import pytest

from fersk.faces import FaceRecord, FaceRecords, draw_faces
from fersk.video import FrameRecord, VideoInfo, VideoRecords

CLASSES = ["happy", "sad"]


def _photo_records():
    return FaceRecords(
        [
            FaceRecord(
                0, "a.jpg", 0, True, (1.04, 2.0, 30.0, 40.0), 0.98765, {"happy": 0.81234, "sad": 0.18766}, "happy"
            ),
            FaceRecord(0, "a.jpg", 1, True, (50.0, 2.0, 70.0, 30.0), 0.9, {"happy": 0.4, "sad": 0.6}, "sad"),
            FaceRecord(1, "b.jpg", None, False, None, None, None, None),
        ],
        classes=CLASSES,
        unreadable={"c.jpg": "not an image"},
    )


def _video_records():
    info = VideoInfo(
        path="v.mp4", fps=10.0, n_frames=3, width=64, height=48, duration=0.3, codec="mpeg4", container="mp4"
    )
    records = [
        FrameRecord(0, 0.0, 0, True, (1.0, 2.0, 30.0, 40.0), 0.99, {"happy": 0.7, "sad": 0.3}, "happy"),
        FrameRecord(1, 0.1000004, 0, True, (2.0, 2.0, 31.0, 40.0), 0.99, {"happy": 0.6, "sad": 0.4}, "happy", False),
        FrameRecord(2, 0.2, None, False, None, None, None, None),
    ]
    return VideoRecords(
        records, path="v.mp4", info=info, classes=CLASSES, frames_analysed=[0, 1, 2], frames_without_face=[2]
    )


@pytest.mark.parametrize("make", [_photo_records, _video_records])
def test_both_record_lists_give_the_same_table_as_csv_and_as_a_dataframe(make, tmp_path):
    records = make()
    frame = records.to_frame()
    assert list(frame.columns) == records.fields()
    assert list(frame.columns)[-4:] == ["bottom", "score", "predicted", *CLASSES][-4:]
    assert len(frame) == len(records) and frame["predicted"].tolist()[:2] == [r.predicted for r in records][:2]
    assert frame["happy"].isna().tolist() == [False, False, True]
    buffer = io.StringIO()
    records.to_csv(buffer)
    from_csv = pd.read_csv(io.StringIO(buffer.getvalue()))
    assert list(from_csv.columns) == records.fields()
    np.testing.assert_allclose(from_csv["happy"].to_numpy(), frame["happy"].to_numpy(dtype=float))
    path = records.to_parquet(tmp_path / "records.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(path), frame)
    assert [p.name for p in tmp_path.iterdir()] == ["records.parquet"]  # written whole, nothing beside it
    assert records.to_dict(decimals=2)[0]["happy"] == round(records[0].probabilities["happy"], 2)
    assert records.classes == CLASSES


def test_a_frame_record_rounds_as_a_photo_record_does():
    photo, frame = _photo_records()[0], _video_records()[1]
    assert photo.to_dict(decimals=2)["left"] == 1.0 and photo.to_dict(decimals=2)["score"] == 0.99
    row = frame.to_dict(decimals=2)
    assert row["time"] == 0.1 and row["happy"] == 0.6 and row["detected"] is False
    assert frame.to_dict()["time"] == 0.1  # to the microsecond without decimals


def test_photo_records_summarise_and_describe_themselves():
    records = _photo_records()
    assert records.summary() == {
        "images": 2,
        "faces": 2,
        "images_without_face": 1,
        "unreadable": 1,
        "predicted": {"happy": 1, "sad": 1},
    }
    assert records.describe().splitlines() == [
        "2 photos, 2 faces, no face in 1, unreadable 1",
        "happy: 1 face",
        "sad: 1 face",
    ]
    assert _video_records().describe().splitlines()[0] == "v.mp4: 3 frames analysed, 1 face tracked, no face in 1"


def test_a_csv_written_to_a_path_replaces_the_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "faces.csv"
    path.write_text("an older table\n")
    records = _photo_records()

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("csv.DictWriter.writerows", fail)
    with pytest.raises(OSError, match="No space"):
        records.to_csv(path)
    assert path.read_text() == "an older table\n" and [p.name for p in tmp_path.iterdir()] == ["faces.csv"]


def test_draw_faces_refuses_records_of_two_frames_and_of_two_images():
    with pytest.raises(ValueError, match="records of 2 images"):
        draw_faces(np.zeros((48, 64, 3)), _video_records()[:2])
    with pytest.raises(ValueError, match="records of 2 images"):
        draw_faces(np.zeros((48, 64, 3)), [_photo_records()[0], _photo_records()[2]])
    assert draw_faces(np.zeros((48, 64, 3)), _photo_records()[:2], min_size=0).shape == (48, 64, 3)
