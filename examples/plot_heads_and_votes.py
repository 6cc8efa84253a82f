"""
Heads and votes on a network's features
=======================================

A fitted network is also a feature extractor: ``transform`` gives what its head takes in.
A second, cheap classifier on those features (a k-nearest-neighbour model, or a linear head
with the rare classes weighted up) can find faces the network's own head misses, on a new
dataset without training the network again, and a soft vote of the network and its heads
can keep the best of each. All of it is scikit-learn:

- :class:`~sklearn.frozen.FrozenEstimator` keeps the fitted network as it is inside a
  pipeline, a search or a vote: its ``fit`` does nothing, and ``transform`` and
  ``predict_proba`` are the network's.
- :class:`~sklearn.model_selection.PredefinedSplit` makes the validation set the one
  held-out fold, so that ``GridSearchCV`` chooses on val with train to fit on, then refits
  the chosen model on train and val together.
- :class:`~sklearn.ensemble.VotingClassifier` averages the probabilities, its weights
  searched on the same split; :class:`~sklearn.ensemble.StackingClassifier` learns the
  combination on val instead. Both combine heads fit on train alone, frozen in turn.

Here the network is fersk's shipped FER2013 model, used as it is on imbalanced synthetic
faces. Choose everything on val and score the test set once.
``benchmarks/bench_muxspace_transfer.py`` and ``benchmarks/bench_muxspace_cnn.py`` run the
same heads on muxspace, where a network fine-tuned on it finds no disgust face and the
heads on its features do (``benchmarks/README.md``).
"""

import itertools

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import StackingClassifier, VotingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, PredefinedSplit, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer, StandardScaler

from fersk import load_pretrained, make_faces
from fersk.evaluation import evaluate, plot_model_comparison

# synthetic faces, imbalanced: 30% neutral, 30% happy, 5% each of disgust and fear
emotions = ["neutral", "happy", "surprise", "sad", "angry", "disgust", "fear"]
proportions = [0.3, 0.3, 0.1, 0.1, 0.1, 0.05, 0.05]
X, y = make_faces(420, emotions=emotions, weights=proportions, difficulty=0.5, random_state=0)
X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
X_train, X_val, y_train, y_val = train_test_split(X_rest, y_rest, test_size=0.3, stratify=y_rest, random_state=0)

# %%
# The network: fersk's FER2013 model, with one view per face (``tta=None``) for speed. It
# is not trained here; frozen, no search or vote below trains it either.
net = load_pretrained("fer2013").set_params(tta=None)
network = FrozenEstimator(net)

# %%
# Train and val in one array, val the held-out fold: a search fits each candidate on train,
# scores it on val, and refits the best on both.
X_fit, y_fit = np.concatenate([X_train, X_val]), np.concatenate([y_train, y_val])
on_val = PredefinedSplit(np.r_[np.full(len(y_train), -1), np.zeros(len(y_val))])


def chosen_on_val(model, grid):
    return GridSearchCV(model, grid, scoring="f1_macro", cv=on_val).fit(X_fit, y_fit).best_estimator_


# the frozen network's features, L2-normalised (so that the distance is the cosine one), then a head
knn = chosen_on_val(
    make_pipeline(network, Normalizer(), KNeighborsClassifier()),
    {"kneighborsclassifier__n_neighbors": [3, 5, 10]},
)
linear = chosen_on_val(
    make_pipeline(
        network,
        Normalizer(),
        StandardScaler(),
        LogisticRegression(class_weight="balanced", max_iter=2000),
    ),
    {"logisticregression__C": [0.1, 1.0]},
)

# %%
# The vote and the stack combine the models on val, so their heads are fit on train alone,
# then frozen: the searches below only predict.
on_train = [
    ("network", network),
    ("knn", FrozenEstimator(clone(knn).fit(X_train, y_train))),
    ("linear", FrozenEstimator(clone(linear).fit(X_train, y_train))),
]

# a soft vote, its weights (steps of 0.25) chosen by macro-F1 on val
weights = [w for w in itertools.product(range(5), repeat=3) if sum(w) == 4]
vote = chosen_on_val(VotingClassifier(on_train, voting="soft"), {"weights": weights})
print("vote weights chosen on val:", vote.weights)

# stacking learns the combination instead: a logistic regression on the three models'
# probabilities of the val faces (3-fold cross-validated within val, whose rarest class has 4 faces)
final = LogisticRegression(class_weight="balanced", max_iter=2000)
stack = StackingClassifier(on_train, final_estimator=final, cv=3)
stack.fit(X_val, y_val)

# %%
# The test set, scored once. The heads alone are the ones their searches refit on train and val.
models = {"network": net, "k-NN head": knn, "linear head": linear, "vote": vote, "stacking": stack}
results = {name: evaluate(model, X_test, y_test) for name, model in models.items()}
for name, m in results.items():
    print(f"{name:12s} accuracy {m['accuracy']:.3f}  macro-F1 {m['macro_f1']:.3f}")
fig = plot_model_comparison(results, metrics=("accuracy", "balanced_accuracy", "macro_f1"))
