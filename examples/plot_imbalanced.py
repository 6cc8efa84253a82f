"""
Imbalanced classes: resamplers and class weights
================================================

Real FER data is imbalanced (muxspace: 6,868 neutral faces, 21 fearful ones). Because
fersk's estimators take flattened rows, imbalanced-learn's resamplers work unchanged in
an ``imblearn`` pipeline; the neural estimators also weigh classes in the loss.
Compare plain training, oversampling and ``class_weight="balanced"`` by macro-F1, which,
unlike accuracy, does not reward ignoring the rare classes.
"""

import numpy as np
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import make_pipeline
from sklearn.model_selection import train_test_split

from fersk import HOGSVMClassifier, make_faces
from fersk.evaluation import evaluate, plot_model_comparison

X, y = make_faces(1400, image_size=48, difficulty=0.6, random_state=0)
# keep every neutral and happy face, and a tenth of the others
rng = np.random.default_rng(0)
keep = np.isin(y, ["neutral", "happy"]) | (rng.random(len(y)) < 0.1)
X, y = X[keep], y[keep]
print(dict(zip(*np.unique(y, return_counts=True))))
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)

models = {
    "plain": HOGSVMClassifier(random_state=0),
    "RandomOverSampler": make_pipeline(RandomOverSampler(random_state=0), HOGSVMClassifier(random_state=0)),
    "class_weight='balanced'": HOGSVMClassifier(class_weight="balanced", random_state=0),
}
results = {name: evaluate(model.fit(X_train, y_train), X_test, y_test) for name, model in models.items()}
for name, m in results.items():
    print(f"{name:24s} accuracy {m['accuracy']:.3f}  macro-F1 {m['macro_f1']:.3f}")
fig = plot_model_comparison(results, metrics=("accuracy", "balanced_accuracy", "macro_f1"))
