"""
Emotions over time in a video
=============================

:func:`fersk.analyze_video` decodes a video with PyAV (FFmpeg comes inside its wheel),
finds every face, follows each one from frame to frame under one id and classifies it:
one record per face per analysed frame. :func:`fersk.video.plot_emotion_timeline` draws
each face's emotions over time, smoothed. The clip here is written on the spot: two
faces, the astronaut's portrait from scikit-image and a smaller, mirrored copy, drifting
towards each other for 1.6 seconds.
"""

import tempfile
from pathlib import Path

import av
import numpy as np
from PIL import Image
from skimage.data import astronaut

import fersk
from fersk.video import plot_emotion_timeline

portrait = Image.fromarray(astronaut()[:300, 80:380])
left = np.asarray(portrait.resize((120, 120), Image.Resampling.LANCZOS))
right = np.asarray(portrait.resize((90, 90), Image.Resampling.LANCZOS))[:, ::-1]

path = Path(tempfile.mkdtemp()) / "two_faces.mp4"
with av.open(str(path), "w") as out:
    stream = out.add_stream("mpeg4", rate=10)
    stream.width, stream.height, stream.pix_fmt = 320, 160, "yuv420p"
    for i in range(16):
        frame = np.full((160, 320, 3), 70, np.uint8)
        frame[20:140, 10 + 2 * i : 130 + 2 * i] = left
        frame[35:125, 220 - 2 * i : 310 - 2 * i] = right
        out.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")))
    out.mux(stream.encode())

# %%
# Analyse every second frame with the model fersk ships (48x48 grayscale, FER2013's seven
# emotions). Each record has the frame, its time, the face's id, its box and the model's
# probabilities; ``records.to_csv("frames.csv")`` writes them as rows.
model = fersk.load_pretrained("fer2013")
records = fersk.analyze_video(model, path, every=2)
print(len(records.frames_analysed), "frames analysed, faces", records.face_ids)
for record in records[:4]:
    print(record.frame, f"{record.time:.1f} s", "face", record.face_id, record.predicted)
for face_id, face in records.summary().items():
    print(f"face {face_id}: mostly {face['dominant']} over {face['frames']} frames")

# %%
# One panel per face; each emotion's probability over time, a moving average of three
# analysed frames (the gallery's scraper finds the figure among the example's variables).
fig = plot_emotion_timeline(records, window=3)
