"""
Probability calibration
=======================

An emotion classifier behind an application should mean 70% when it says 70%.
``CalibratedClassifierCV`` wraps any fersk estimator; the reliability diagram and the
Brier score show the difference.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.calibration import CalibratedClassifierCV, calibration_curve
from sklearn.model_selection import train_test_split

from fersk import CNNClassifier, make_faces

X, y = make_faces(1050, image_size=32, difficulty=0.8, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)

models = {
    "CNN": CNNClassifier(max_epochs=6, random_state=0),
    "CNN, isotonic calibration": CalibratedClassifierCV(
        CNNClassifier(max_epochs=6, random_state=0), method="isotonic", cv=3
    ),
}
fig, ax = plt.subplots(figsize=(5, 4.5))
ax.plot([0, 1], [0, 1], "k:", label="perfectly calibrated")
for name, model in models.items():
    proba = model.fit(X_train, y_train).predict_proba(X_test)
    confidence = proba.max(axis=1)
    correct = model.classes_[proba.argmax(axis=1)] == y_test
    truth, mean_confidence = calibration_curve(correct, confidence, n_bins=8, strategy="quantile")
    onehot = (y_test[:, None] == model.classes_[None, :]).astype(float)
    brier = np.mean(np.sum((proba - onehot) ** 2, axis=1))
    ax.plot(mean_confidence, truth, "o-", label=f"{name} (Brier {brier:.3f})")
    print(f"{name:28s} accuracy {correct.mean():.3f}  Brier {brier:.3f}")
ax.set_xlabel("confidence of the predicted class")
ax.set_ylabel("fraction correct")
ax.legend()
