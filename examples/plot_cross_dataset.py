"""
Across datasets
===============

A model is only as good as the faces it meets. Here two "datasets" of synthetic faces
differ as real ones do: one is clean, the other noisier, and it labels some faces
``contempt``, a class the first never had. A model trained on each is scored on both with
:func:`~fersk.evaluation.cross_dataset_evaluation`, on the classes each pair shares: the
faces labelled ``contempt`` are left out of the clean model's figures on the noisy data and
counted, never silently scored as wrong, and the noisy model's ``contempt`` is never
predicted on the clean data, which has none.
"""

import numpy as np

from fersk import HOGSVMClassifier, make_faces
from fersk.evaluation import cross_dataset_evaluation, cross_dataset_table, plot_cross_dataset

X_clean, y_clean = make_faces(700, image_size=32, difficulty=0.2, random_state=0)
X_noisy, y_noisy = make_faces(700, image_size=32, difficulty=0.6, random_state=1)
y_noisy = np.where(y_noisy == "disgust", "contempt", y_noisy)  # a vocabulary of its own

models = {
    "trained clean": HOGSVMClassifier(random_state=0).fit(X_clean[:500], y_clean[:500]),
    "trained noisy": HOGSVMClassifier(random_state=0).fit(X_noisy[:500], y_noisy[:500]),
}
datasets = {"clean test": (X_clean[500:], y_clean[500:]), "noisy test": (X_noisy[500:], y_noisy[500:])}
result = cross_dataset_evaluation(models, datasets)
print(cross_dataset_table(result))

fig = plot_cross_dataset(result, title="accuracy on each test set")
