"""
Learning curve
==============

How much would more data help? scikit-learn's ``learning_curve`` refits a model on
growing fractions of the training folds and scores each fit. The smallest steps train on
a handful of faces, where a class may have one image or none: fersk's estimators fit
them anyway and count a face of a class they never saw as wrong, as scikit-learn's own
classifiers do, so the curve starts where the data does.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import LearningCurveDisplay, StratifiedKFold

from fersk import HOGSVMClassifier, make_faces

X, y = make_faces(560, image_size=48, difficulty=0.5, random_state=0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # the smallest steps miss classes, and say so
    display = LearningCurveDisplay.from_estimator(
        HOGSVMClassifier(random_state=0),
        X,
        y,
        train_sizes=np.linspace(0.02, 1, 6),
        cv=StratifiedKFold(4, shuffle=True, random_state=0),
        scoring="f1_macro",
        score_name="macro-F1",
        n_jobs=1,
    )
display.ax_.set_title("HOG+SVM on synthetic faces at difficulty 0.5")
plt.show()
