"""
k-fold evaluation
=================

``cross_validate`` with stratified folds gives a mean and a spread rather than the luck
of one split; ``cross_val_predict`` gives one out-of-fold prediction per image, for a
confusion matrix over the whole dataset.
"""

from sklearn.model_selection import StratifiedKFold, cross_val_predict, cross_validate

from fersk import HOGSVMClassifier, make_faces
from fersk.evaluation import classification_metrics, plot_confusion_matrix

X, y = make_faces(700, image_size=48, difficulty=0.5, random_state=0)
cv = StratifiedKFold(5, shuffle=True, random_state=0)
model = HOGSVMClassifier(random_state=0)
scores = cross_validate(model, X, y, cv=cv, scoring=["accuracy", "f1_macro"])
for name in ("test_accuracy", "test_f1_macro"):
    print(f"{name}: {scores[name].mean():.3f} ± {scores[name].std():.3f}")

# %%
# Out-of-fold predictions for every image:
predicted = cross_val_predict(model, X, y, cv=cv)
fig = plot_confusion_matrix(classification_metrics(y, predicted), title="5-fold, out of fold")
