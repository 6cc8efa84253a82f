"""
Every face in a photo
=====================

:func:`fersk.analyze_faces` finds every face in each photo, cuts each out as FER2013 frames
its faces and classifies them all in one call: one record per face, with its box, the
detector's confidence and the model's probability for each emotion. A photo without a face
is kept, as one record that says so. :func:`fersk.draw_faces` draws the boxes and labels.
Here the "group photo" is scikit-image's astronaut beside a smaller copy of herself, and
the model is the one fersk ships, trained on FER2013.
"""

import matplotlib.pyplot as plt
import numpy as np
from skimage.data import astronaut

import fersk

model = fersk.load_pretrained("fer2013")
small = np.pad(astronaut()[::2, ::2], ((0, 256), (0, 256), (0, 0)), mode="edge")
group = np.concatenate([astronaut(), small], axis=1)  # two people, the larger at left
wall = np.full((128, 128, 3), 200, np.uint8)  # a photo with no face

records = fersk.analyze_faces(model, [group, wall])
for record in records:
    box = "no face" if record.box is None else "box " + ", ".join(f"{v:.0f}" for v in record.box)
    print(f"image {record.image}, face {record.face}: {box}; {record.predicted} ({record.probability:.0%})")

# %%
# Each record is a row for a CSV or JSON: ``record.to_dict()`` gives the image, face index,
# box corners, score, prediction and one column per emotion.
print(records[0].to_dict())

# %%
# The photo with its faces marked, the label's colour naming the emotion.
fig, ax = plt.subplots(figsize=(9, 4.6))
ax.imshow(fersk.draw_faces(group, [r for r in records if r.image == 0]))
ax.set_axis_off()
fig.tight_layout()
plt.show()
