"""
Quick start
===========

Fit a CNN on synthetic faces, predict, and look at the confusion matrix. The images
travel as scikit-learn's ``load_digits`` carries them: one flattened image per row.
"""

from sklearn.model_selection import train_test_split

from fersk import CNNClassifier, make_faces
from fersk.evaluation import evaluate, plot_confusion_matrix

X, y = make_faces(840, image_size=48, difficulty=0.3, random_state=0)
print(X.shape, y[:5])  # (840, 2304): 48x48 pixels per row, labels are emotion names

X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
clf = CNNClassifier(max_epochs=8, random_state=0).fit(X_train, y_train)
print(clf.predict(X_test[:5]), clf.predict_proba(X_test[:1]).round(2))

# %%
# :func:`fersk.evaluation.evaluate` returns every figure as a JSON-ready dict.
metrics = evaluate(clf, X_test, y_test)
print(f"accuracy {metrics['accuracy']:.3f}, macro-F1 {metrics['macro_f1']:.3f}")
fig = plot_confusion_matrix(metrics)
