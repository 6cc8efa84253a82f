"""
Grid search
===========

Every parameter is a scikit-learn parameter, including the network's own through
skorch's prefixes (``module__channels``, ``optimizer__*``), so ``GridSearchCV`` tunes
them like any other.
"""

import pandas as pd
from sklearn.model_selection import GridSearchCV

from fersk import CNNClassifier, make_faces

X, y = make_faces(420, image_size=32, difficulty=0.3, random_state=0)
search = GridSearchCV(
    CNNClassifier(max_epochs=4, random_state=0),
    {"lr": [1e-3, 3e-3], "module__channels": [(16, 32), (32, 64)]},
    cv=3,
    scoring="f1_macro",
)
search.fit(X, y)
print("best:", search.best_params_, f"macro-F1 {search.best_score_:.3f}")
results = pd.DataFrame(search.cv_results_)[["param_lr", "param_module__channels", "mean_test_score", "std_test_score"]]
print(results.sort_values("mean_test_score", ascending=False).to_string(index=False))
