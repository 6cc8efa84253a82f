"""
Test-time augmentation
======================

With ``tta="flip"`` a neural estimator averages its probabilities over each image and
its mirror; ``tta="crops"`` over ten views (centre and corners, each mirrored). It is a
parameter, so it can be set after fitting and chosen on a validation set, as fersk's
FER2013 benchmark does (none 66.01%, flip 66.70%, crops 67.43% on PublicTest).
"""

from sklearn.model_selection import train_test_split

from fersk import CNNClassifier, make_faces
from fersk.evaluation import evaluate, plot_model_comparison

X, y = make_faces(840, image_size=48, difficulty=0.7, random_state=0)
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
clf = CNNClassifier(max_epochs=8, random_state=0).fit(X_train, y_train)

results = {}
for tta in (None, "flip", "crops"):
    clf.set_params(tta=tta)
    results[str(tta)] = evaluate(clf, X_val, y_val)
    print(f"tta={tta!s:6s} accuracy {results[str(tta)]['accuracy']:.3f}")
fig = plot_model_comparison(results, title="test-time augmentation")
