"""
Where the pretrained FER2013 model looks
========================================

``fersk.load_pretrained("fer2013")`` on real FER2013 PrivateTest faces: Grad-CAM over
correct predictions (top row) and mistakes (bottom row), then the mean heatmap per class.
Needs FER2013 at ``../shared/data/fer2013`` (or the path given as the first argument).
"""

import sys
from pathlib import Path

import fersk
from fersk.explain import plot_class_heatmaps, plot_explanations

root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013"
out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).resolve().parents[1] / "docs" / "images"

model = fersk.load_pretrained("fer2013")
data = fersk.load_fer2013(root)
private = data.usage == "PrivateTest"
X, y = data.data[private], data.target[private]
plot_explanations(model, X, y, n=8).savefig(out / "gradcam_fer2013.png", dpi=110)
plot_class_heatmaps(model, X, y, max_per_class=200).savefig(out / "gradcam_fer2013_classes.png", dpi=110)
print(f"wrote {out / 'gradcam_fer2013.png'} and {out / 'gradcam_fer2013_classes.png'}")
