"""
HOG+SVM vs a CNN vs transfer learning
=====================================

The three approaches the FER literature compares, each one scikit-learn estimator, on
the same split. The transfer row starts from fersk's own pretrained FER2013 network
(offline: it ships with fersk); ``weights="imagenet"`` would use torchvision's ImageNet
weights when they are in the local cache.
"""

import time

from sklearn.model_selection import train_test_split

from fersk import CNNClassifier, HOGSVMClassifier, TransferClassifier, make_faces
from fersk.evaluation import evaluate, plot_model_comparison

X, y = make_faces(840, image_size=48, difficulty=0.5, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)

models = {
    "HOG+SVM": HOGSVMClassifier(random_state=0),
    "CNN": CNNClassifier(max_epochs=8, random_state=0),
    "fernet from FER2013": TransferClassifier("fernet", weights="fer2013", max_epochs=4, head_epochs=1, random_state=0),
}
results = {}
for name, model in models.items():
    start = time.perf_counter()
    model.fit(X_train, y_train)
    results[name] = evaluate(model, X_test, y_test)
    print(f"{name:22s} accuracy {results[name]['accuracy']:.3f}  ({time.perf_counter() - start:.0f} s)")

fig = plot_model_comparison(results)
