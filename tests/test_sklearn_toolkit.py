"""scikit-learn's toolkit driving fersk's estimators: ensembles, incremental and warm-started
training, and the parameter sweeps of ``validation_curve``.

Each test here failed before fersk fixed what it names.
"""

import re
import warnings
from functools import partial

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.ensemble import BaggingClassifier, VotingClassifier
from sklearn.model_selection import KFold, cross_val_predict, learning_curve
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.semi_supervised import SelfTrainingClassifier
from skorch.callbacks import EpochScoring
from skorch.dataset import Dataset as SkorchDataset

from fersk import HOGTransformer, make_faces

from .classifiers.test_estimators import cnn, hog
from .classifiers.test_estimators import transfer as two_phase_transfer


def transfer(**kw):
    return two_phase_transfer(**{"max_epochs": 1, "head_epochs": 0, **kw})


FAMILIES = {"hog": hog, "cnn": cnn, "transfer": transfer}
NETWORKS = {"cnn": cnn, "transfer": transfer}


@pytest.fixture(scope="module")
def faces():
    return make_faces(56, image_size=16, difficulty=0.0, random_state=0)


# -- sample weights of zero: BaggingClassifier draws its bootstrap samples as weights -----------


def test_hog_svm_learns_nothing_from_images_of_weight_zero(faces):
    X, y = faces
    weights = (y != "fear").astype(float)
    weights[np.flatnonzero(y == "happy")[1:]] = 0.0  # happy keeps one image that counts
    with pytest.warns(UserWarning, match=r"\['happy'\] have a single image"):
        weighted = hog().fit(X, y, sample_weight=weights)
    kept = weights > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        unweighted = hog().fit(X[kept], y[kept])
    # as if the images of weight 0 were absent: fear is no class of the model
    assert weighted.classes_.tolist() == unweighted.classes_.tolist() == sorted(set(y) - {"fear"})
    np.testing.assert_allclose(weighted.predict_proba(X), unweighted.predict_proba(X), rtol=1e-10)


def test_hog_svm_with_weight_on_one_class_only_says_so(faces):
    X, y = faces
    with pytest.raises(ValueError, match=r"sample_weight is positive on images of 1 class\(es\) only \(\['happy'\]\)"):
        hog().fit(X, y, sample_weight=(y == "happy").astype(float))


@pytest.mark.parametrize("family", FAMILIES)
def test_bagging(faces, family):
    X, y = faces
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        bagged = BaggingClassifier(FAMILIES[family](), n_estimators=2, max_samples=0.2, random_state=0).fit(X, y)
    proba = bagged.predict_proba(X)
    assert proba.shape == (len(X), 7)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    if family == "hog":  # a bootstrap sample that missed a class: that model learnt without it
        assert any(len(model.classes_) < 7 for model in bagged.estimators_)


def test_hog_svm_refuses_negative_weights_saying_what_to_do(faces):
    X, y = faces
    weights = np.ones(len(y))
    weights[:3] = -1.0
    with pytest.raises(ValueError, match=r"sample_weight holds 3 negative value\(s\).*clip the weights at 0"):
        hog().fit(X, y, sample_weight=weights)


# -- class_weight as a dict, on training subsets that lack a class ----------------------------


@pytest.mark.parametrize("family", FAMILIES)
def test_a_class_weight_dict_of_every_class_fits_a_subset_that_lacks_some(faces, family):
    # a small learning_curve step, a successive-halving round or a bootstrap sample lacks classes
    X, y = faces
    weights = {label: {"fear": 3.0, "happy": 2.0}.get(label, 1.0) for label in set(y)}
    subset = ~np.isin(y, ["fear", "sad"])
    model = FAMILIES[family](class_weight=weights).fit(X[subset], y[subset])
    assert model.classes_.tolist() == ["angry", "disgust", "happy", "neutral", "surprise"]
    np.testing.assert_array_equal(model.class_weight_, [1, 1, 2, 1, 1])  # happy's weight, at happy's place


@pytest.mark.parametrize("family", ["hog", "cnn"])
def test_a_class_weight_dict_with_a_misspelt_class_is_refused(faces, family):
    X, y = faces
    with pytest.raises(ValueError, match=r"class_weight names classes not in y: \['hapy'\]"):
        FAMILIES[family](class_weight={"hapy": 2.0}).fit(X, y)


# -- warm_start and partial_fit: training that continues --------------------------------------


@pytest.mark.parametrize("family", NETWORKS)
def test_warm_start_on_other_classes_says_so_and_keeps_the_model(faces, family):
    X, y = faces
    model = NETWORKS[family](warm_start=True).fit(X[y != "fear"], y[y != "fear"])
    proba = model.predict_proba(X)
    with pytest.raises(ValueError, match=r"warm_start continues the network fitted on 6 classes.*'fear'"):
        model.fit(X, y)
    with pytest.raises(ValueError, match=r"set classes=model.classes_"):  # images of some of its classes
        model.fit(X[y == "happy"], y[y == "happy"])
    assert "fear" not in model.classes_
    np.testing.assert_array_equal(model.predict_proba(X), proba)
    model.fit(X[y != "fear"], y[y != "fear"])  # the same classes: training continues
    assert len(model.history) == 2


def test_warm_start_on_colour_images_of_a_grayscale_cnn_says_so_and_keeps_the_model(faces):
    X, y = faces
    model = cnn(warm_start=True).fit(X, y)
    proba = model.predict_proba(X)
    colour = np.repeat(X.reshape(len(X), 16, 16, 1), 3, axis=3)
    with pytest.raises(ValueError, match=r"FERNet takes grayscale images, and X holds 3-channel 16x16 images"):
        model.fit(colour, y)
    assert model.image_shape_ == (16, 16, 1)
    np.testing.assert_array_equal(model.predict_proba(X), proba)
    model = transfer(warm_start=True).fit(X, y).fit(colour, y)  # a backbone takes either: training goes on
    assert model.image_shape_ == (16, 16, 3) and len(model.history) == 2


@pytest.mark.parametrize("family", NETWORKS)
def test_partial_fit_takes_all_the_classes_on_the_first_batch(faces, family):
    X, y = faces
    first = y != "fear"
    model = NETWORKS[family]().partial_fit(X[first], y[first], classes=np.unique(y))
    assert model.classes_.tolist() == sorted(set(y)) and model.predict_proba(X).shape == (len(X), 7)
    model.partial_fit(X[~first], y[~first])  # the batch of the class the first one lacked
    assert len(model.history) == 2
    with pytest.raises(ValueError, match=r"differ from those of the first partial_fit"):
        model.partial_fit(X, y, classes=["happy", "sad"])


def test_one_vs_rest_learns_incrementally_from_batches_that_lack_classes(faces):
    X, y = faces
    model = OneVsRestClassifier(cnn())
    first = np.isin(y, ["happy", "sad", "angry"])
    model.partial_fit(X[first], y[first], classes=np.unique(y))  # each binary net sees one class only
    model.partial_fit(X[~first], y[~first])
    assert model.predict_proba(X).shape == (len(X), 7)


def test_the_skorch_classes_parameter_is_classes_(faces):
    X, y = faces
    model = cnn(classes=np.unique(y)).fit(X[y != "fear"], y[y != "fear"])
    assert model.classes_.tolist() == sorted(set(y))
    three = np.isin(y, ["happy", "sad", "fear"])
    with pytest.raises(ValueError, match=r"y holds label\(s\) \['fear'\] that are not among classes="):
        cnn(classes=["happy", "sad"]).fit(X[three], y[three])


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(class_weight="balanced"), r"class_weight='balanced' weighs each class by its count in y"),
        (dict(prior_shift=0.5), r"prior_shift=0.5 divides by each class's frequency in y"),
    ],
)
def test_settings_that_need_every_class_in_the_first_batch_say_so(faces, params, message):
    X, y = faces
    with pytest.raises(ValueError, match=message + r".*\['fear'\]"):
        cnn(**params).partial_fit(X[y != "fear"], y[y != "fear"], classes=np.unique(y))


# -- validation_curve over a network's parameters -------------------------------------------


@pytest.mark.parametrize("family", NETWORKS)
def test_max_epochs_of_zero_is_refused_by_its_constraint(faces, family):
    # a validation_curve over max_epochs from 0 failed inside skorch's EarlyStopping (IndexError)
    X, y = faces
    message = r"'max_epochs' parameter of \w+Classifier must be an int in the range \[1, inf\)"
    with pytest.raises(ValueError, match=message):
        NETWORKS[family](max_epochs=0).fit(X, y)


# -- skorch's scoring callbacks, given a scikit-learn scorer's name ----------------------------


@pytest.mark.parametrize("family", NETWORKS)
def test_epoch_scoring_by_a_scorer_name_scores_each_epoch(faces, family):
    # EpochScoring("f1_macro") hands the epoch's skorch Dataset (labels: class indices) to
    # predict, which failed inside np.asarray ("inhomogeneous shape")
    X, y = faces
    callbacks = [
        ("valid_f1", EpochScoring("f1_macro", name="valid_f1", lower_is_better=False)),
        ("valid_accuracy", EpochScoring("accuracy", name="valid_accuracy", lower_is_better=False)),
        ("train_accuracy", EpochScoring("accuracy", name="train_accuracy", on_train=True, lower_is_better=False)),
    ]
    model = NETWORKS[family](callbacks=callbacks).fit(X, y)
    history = model.history
    assert history[:, "valid_accuracy"] == history[:, "valid_acc"]  # the scorer agrees with fersk's own
    assert history[:, "train_accuracy"] == history[:, "train_acc"]
    assert all(0 <= f1 <= acc or f1 == acc == 0 for f1, acc in zip(history[:, "valid_f1"], history[:, "valid_acc"]))
    assert model.predict(X[:2]).tolist()[0] in model.classes_  # arrays still predict labels


def test_a_torch_dataset_of_ones_own_is_refused_not_predicted_as_class_indices(faces):
    # predict gives class indices for the datasets skorch's callbacks score during fit only: a
    # Dataset of the user's own went through the network unscaled and came back as indices
    X, y = faces
    model = cnn().fit(X, y)
    h, w, c = model.image_shape_
    images = X.reshape(len(X), c, h, w).astype(np.float32)
    for dataset in (SkorchDataset(images, None), torch.utils.data.TensorDataset(torch.as_tensor(images))):
        for method in (model.predict, model.predict_proba, model.predict_log_proba):
            with pytest.raises(TypeError, match="torch Dataset .* np.stack"):
                method(dataset)
        with pytest.raises(TypeError, match="torch Dataset"):
            model.score(dataset, y)
    assert model.epoch_datasets_ == ()  # the fit's datasets are not kept


# -- set_params on a fitted network, then partial_fit or warm_start ---------------------------


def test_flat_parameters_set_after_fit_reach_the_next_partial_fit(faces):
    # weight_decay reached the optimizer, and early_stopping the callbacks, at fit only
    X, y = faces
    model = cnn(optimizer="sgd").fit(X, y)
    model.set_params(weight_decay=0.25, early_stopping=None)
    assert [group["weight_decay"] for group in model.optimizer_.param_groups] == [0.25]
    model.partial_fit(X, y)
    assert "early_stopping" not in dict(model.callbacks_)
    assert model.optimizer_.param_groups[0]["weight_decay"] == 0.25 and len(model.history) == 2
    with pytest.raises(ValueError, match=r"'lr' parameter of CNNClassifier must be a float"):
        model.set_params(lr=-1.0).partial_fit(X, y)  # checked as fit checks it


# -- images of the wrong size at predict ------------------------------------------------------


@pytest.fixture(scope="module")
def fitted(faces):
    X, y = faces
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return {name: make().fit(X, y) for name, make in FAMILIES.items()}


@pytest.mark.parametrize(
    "case, message",
    [
        ("one flattened image", r"X is a single image, given as a 1-D array of 256 values; Reshape your data with"),
        ("one 16x16 image", r"X has 16 features, .* 16x16 grayscale images .* like one such image; give it as X\[np"),
        ("12x12 images", r"X has 144 features, but \w+ is expecting 256 features .*rows would be 12x12 images; give"),
        ("RGB images", r"X has 768 features, .*rows would be 16x16 RGB images: convert them to grayscale"),
    ],
)
@pytest.mark.parametrize("family", FAMILIES)
def test_images_of_the_wrong_size_at_predict_say_so_in_images(fitted, faces, family, case, message):
    # scikit-learn's message counted features, and for a 1-D image printed the whole array
    X = faces[0]
    bad = {
        "one flattened image": X[0],
        "one 16x16 image": X[0].reshape(16, 16),
        "12x12 images": X[:3, :144],
        "RGB images": np.repeat(X[:3], 3, axis=1),
    }[case]
    with pytest.raises(ValueError, match=message):
        fitted[family].predict(bad)
    if family != "hog":
        with pytest.raises(ValueError, match=message):
            fitted[family].transform(bad)


def test_hog_transformer_says_so_in_images_too(faces):
    X = faces[0]
    with pytest.raises(ValueError, match=r"X has 144 features, .*12x12 images"):
        HOGTransformer(pixels_per_cell=(6, 6)).fit(X).transform(X[:3, :144])


# -- missing labels: a blank cell of a labels CSV --------------------------------------------


@pytest.mark.parametrize("missing", [None, np.nan], ids=["None", "NaN"])
@pytest.mark.parametrize("family", FAMILIES)
def test_missing_labels_are_named_with_their_rows(faces, family, missing):
    # pandas reads a blank label as NaN among strings: scikit-learn said "Input contains NaN"
    # without naming y, and a None failed in numpy's sort with a TypeError
    X, y = faces
    blank = y.astype(object)
    blank[[3, 20]] = missing
    message = r"y holds 2 missing label\(s\) \(None or NaN\), at rows \[3, 20\]; leave those images out"
    with pytest.raises(ValueError, match=message):
        FAMILIES[family]().fit(X, blank)
    if family == "hog":
        with pytest.raises(ValueError, match=message):
            hog().fit(X, blank, sample_weight=np.ones(len(y)))
        with pytest.raises(ValueError, match=message):
            hog().fit(X, y).score(X, blank)
    else:
        with pytest.raises(ValueError, match=message):
            NETWORKS[family]().partial_fit(X, blank, classes=np.unique(y))


@pytest.mark.parametrize("family", FAMILIES)
def test_labels_of_mixed_types_are_named_with_their_rows(faces, family):
    # a -1 for "unlabelled" among emotion names got scikit-learn's "Unknown label type" at fit
    # and numpy's "'<' not supported between 'str' and 'int'" at score
    X, y = faces
    mixed = y.astype(object)
    mixed[[5, 9]] = -1
    message = r"y mixes strings with labels of other types \(int: -1\), at rows \[5, 9\]; give labels of one type"
    with pytest.raises(ValueError, match=message):
        FAMILIES[family]().fit(X, mixed)
    if family == "hog":
        with pytest.raises(ValueError, match=message):
            hog().fit(X, y).score(X, mixed)
    # SelfTrainingClassifier hands its estimator the labelled images only, so -1 there is fine
    labelled = SelfTrainingClassifier(FAMILIES[family](), max_iter=1).fit(X, mixed)
    assert -1 not in labelled.estimator_.classes_


# -- a fixed validation set holding a class that a learning_curve step lacks --------------------


def test_learning_curve_with_a_fixed_validation_set(faces):
    # the first step lacked a class of y_val: "y holds label(s) ['surprise'] that this model never saw"
    X, y = faces
    order = np.argsort(y, kind="stable")  # the small step holds the first classes only
    X_val, y_val = X[::4], y[::4]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, train, test = learning_curve(
            cnn(),
            X[order],
            y[order],
            train_sizes=[0.5],
            cv=KFold(2, shuffle=True, random_state=0),
            params={"X_val": X_val, "y_val": y_val},
            error_score="raise",
        )
    left_out = r"y_val holds \d+ image\(s\) of label\(s\) \[.*'surprise'\] that y lacks; .* validation leaves them out"
    assert any(re.search(left_out, str(w.message)) for w in caught)
    assert train.shape == test.shape == (1, 2)
    labels = np.unique(y)  # with every label, the network keeps them all and validates on every image
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model = cnn(classes=labels).fit(X[y != "surprise"], y[y != "surprise"], X_val=X_val, y_val=y_val)
    assert model.classes_.tolist() == labels.tolist()


# -- predict_log_proba, as scikit-learn's classifiers have it --------------------------------


def test_cross_val_predict_of_log_probabilities(faces):
    # cross_val_predict(method="predict_log_proba"): "object has no attribute 'predict_log_proba'"
    X, y = faces
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        log_proba = cross_val_predict(hog(), X, y, cv=2, method="predict_log_proba")
        proba = cross_val_predict(hog(), X, y, cv=2, method="predict_proba")
    np.testing.assert_allclose(np.exp(log_proba), proba, rtol=1e-12)


@pytest.mark.parametrize("family", NETWORKS)
def test_a_network_gives_log_probabilities(fitted, faces, family):
    X = faces[0][:5]
    model = fitted[family]
    np.testing.assert_allclose(np.exp(model.predict_log_proba(X)), model.predict_proba(X), rtol=1e-12)


# -- images as a list, and images ordered channels-first ------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
def test_a_list_of_images_is_the_array_it_stacks_to(fitted, faces, family):
    # a list of (h, w) images, as [imread(f) for f in files] gives them: "Found array with dim 3"
    X, y = faces
    images = list(X.reshape(-1, 16, 16))
    model = fitted[family]
    np.testing.assert_array_equal(model.predict_proba(images), model.predict_proba(X))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        refit = FAMILIES[family]().fit(images, y.tolist())
    assert refit.image_shape_ == (16, 16, 1)
    np.testing.assert_allclose(refit.predict_proba(X), model.predict_proba(X), rtol=1e-6)


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("family", FAMILIES)
def test_images_ordered_channels_first_are_refused_saying_how_to_reorder_them(fitted, faces, family, channels):
    # (n, c, h, w) as PyTorch orders images: the CNN trained on 1x16 images of 16 channels without a
    # word, the others failed on "1x16 images" or "16 channels"
    X, y = faces
    chw = np.repeat(X.reshape(-1, 1, 16, 16), channels, axis=1)
    message = (
        rf"X holds images of shape \({channels}, 16, 16\), which looks channels-first .*: "
        r"give X\.transpose\(0, 2, 3, 1\)"
    )
    with pytest.raises(ValueError, match=message):
        FAMILIES[family]().fit(chw, y)
    with pytest.raises(ValueError, match=message):
        fitted[family].predict(chw)
    if channels == 1:  # reordered, they are the images the model was fitted on
        reordered = chw.transpose(0, 2, 3, 1)
        np.testing.assert_array_equal(fitted[family].predict(reordered), fitted[family].predict(X))
    with pytest.raises(ValueError, match=message):
        HOGTransformer().fit(chw)


@pytest.mark.parametrize("family", FAMILIES)
def test_a_single_image_with_a_channel_axis_says_to_add_the_image_axis(fitted, faces, family):
    # one (16, 16, 1) face was taken for 16 images of 16x1 pixels: predict said "X holds images of
    # shape (16, 1, 1)", and a network fitted on it trained on 16 one-pixel-wide images
    X, y = faces
    face = X[0].reshape(16, 16, 1)
    with pytest.raises(
        ValueError, match=r"single image of shape \(16, 16, 1\) .*: give one image as X\[np\.newaxis\]$"
    ):
        fitted[family].predict(face)
    np.testing.assert_array_equal(fitted[family].predict(face[np.newaxis]), fitted[family].predict(X[:1]))
    with pytest.raises(ValueError, match=r"X\[np\.newaxis\]; if X holds 16 images of 16x1 pixels, pass image_shape"):
        FAMILIES[family]().fit(face, y[:16])


@pytest.mark.parametrize("family", FAMILIES)
def test_features_before_a_model_in_a_pipeline_are_not_taken_for_images(faces, family):
    # PCA(20) before a model: "not a square grayscale image; pass image_shape", which fits 4x5 "images";
    # a StandardScaler (or PCA(16), 4x4 "images"): fitted without a word
    X, y = faces
    with pytest.raises(ValueError, match=r"If X's rows are features, not pixels \(a PCA before this step"):
        make_pipeline(PCA(20), FAMILIES[family]()).fit(X, y)
    with pytest.warns(UserWarning, match=r"X holds negative values \(down to -.*A StandardScaler or PCA before"):
        make_pipeline(StandardScaler(), FAMILIES[family]()).fit(X, y)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"lrr": 0.1}, r"got unexpected argument\(s\) lrr\. Either you made a typo"),  # skorch's own check
        (
            {"iterator_train_shuffle": True},
            r"unexpected argument iterator_train_shuffle, did you mean iterator_train__shuffle\?",
        ),
        ({"modul__dropout": 0.1}, r"got unexpected argument\(s\) modul__dropout\. Either you made a typo"),
    ],
)
@pytest.mark.parametrize("family", NETWORKS)
def test_misspelt_parameters_are_refused_naming_them(faces, family, params, message):
    # fersk's parameter validation had replaced skorch's, which refuses misspelt routes: modul__dropout
    # trained without a word, and a misspelt plain name (a grid-search typo) failed with KeyError: 'lrr'
    X, y = faces
    with pytest.raises(ValueError, match=message):
        NETWORKS[family](**params).fit(X, y)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"module__hidden": -1}, r"FERNet's hidden is the width of its head's hidden layer, 1 or more; got -1"),
        ({"module__channels": (0, 8)}, r"FERNet's channels are the widths of its stages, one or more .*got \(0, 8\)"),
        ({"module__channels": ()}, r"FERNet's channels are the widths of its stages, one or more from 1 up; got \(\)"),
        ({"module__hidden": 0}, r"FERNet's hidden is the width of its head's hidden layer, 1 or more; got 0"),
        ({"module__in_chans": 2}, r"FERNet fails on a blank image, of 16x16 pixels or larger .*'module__in_chans': 2"),
        ({"criterion__gamma": -1}, r"gamma must be 0 or more \(0 is cross-entropy"),
    ],
)
def test_bad_values_routed_to_the_network_are_named(faces, params, message):
    # module__hidden=-1 raised torch's RuntimeError from deep in nn.Linear; module__channels=(0, 8) was
    # blamed on images too small for the network; criterion__gamma=-1 trained without a word
    X, y = faces
    with pytest.raises(ValueError, match=message):
        cnn(**params).fit(X, y)


def test_a_network_that_torch_cannot_build_names_the_module_parameters(faces):
    # module__hidden=-1 of a transfer head raised torch's RuntimeError from deep in nn.Linear
    X, y = faces
    message = r"could not build its network \(Trying to create tensor .*\); check .* \{'module__hidden': -1\}$"
    with pytest.raises(ValueError, match=message) as caught:
        transfer(head="mlp", module__hidden=-1, optimizer__weight_decay=0.0).fit(X, y)
    assert isinstance(caught.value.__cause__, RuntimeError)  # torch's own error, kept for the traceback


@pytest.mark.parametrize(
    "make, batch",
    [
        (cnn, {"batch_size": 1}),  # FERNet's head has a BatchNorm1d
        (partial(transfer, head="mlp"), {"iterator_train__batch_size": 1}),
    ],
)
def test_a_batch_size_of_one_is_refused_saying_why(faces, make, batch):
    # torch's "Expected more than 1 value per channel when training, got input size torch.Size([1, 16])"
    X, y = faces
    name = next(iter(batch))
    with pytest.raises(ValueError, match=rf"^{name}=1 cannot train \w+: its BatchNorm1d layers need 2 images or more"):
        make(**batch).fit(X, y)


def test_a_batch_size_of_one_trains_a_network_without_batchnorm1d(faces):
    # a linear head on convolutions with BatchNorm2d: torch trains it one image at a time
    X, y = faces
    model = transfer(head="linear", batch_size=1).fit(X[:20], y[:20])
    assert len(model.history) == 1 and model.predict(X[:3]).shape == (3,)


@pytest.mark.parametrize(
    "name, value", [("pixels_per_cell", (0, 6)), ("cells_per_block", (2, 0)), ("cells_per_block", (2,))]
)
def test_hog_cells_and_blocks_of_no_pixels_are_refused(faces, name, value):
    # pixels_per_cell=(0, 6): ZeroDivisionError in scikit-image; cells_per_block=(2, 0): "Found array with
    # 0 feature(s) ... required by StandardScaler"
    X, y = faces
    message = rf"{name} must be two positive integers, \(rows, columns\); got {re.escape(repr(value))}"
    with pytest.raises(ValueError, match=message):
        HOGTransformer(**{name: value}).fit(X)
    with pytest.raises(ValueError, match=message):
        FAMILIES["hog"](**{name: value}).fit(X, y)


def test_hog_cells_given_as_whole_floats_are_taken(faces):
    X, _ = faces
    as_floats = HOGTransformer(pixels_per_cell=(4.0, 4.0), cells_per_block=(2.0, 2.0)).fit_transform(X)
    np.testing.assert_array_equal(
        as_floats, HOGTransformer(pixels_per_cell=(4, 4), cells_per_block=(2, 2)).fit_transform(X)
    )


# -- classes= in a model that a meta-estimator fits on encoded labels --------------------------


@pytest.mark.parametrize("family", NETWORKS)
def test_classes_in_a_model_fitted_on_encoded_labels_says_to_leave_it_out(faces, family):
    # VotingClassifier, StackingClassifier and cross_val_predict(method="predict_proba") fit on labels
    # encoded as 0..n-1: "y holds label(s) [0, 1, ...] that are not among classes=[...]" said no more
    X, y = faces
    message = r"y holds integers and classes does not: VotingClassifier, .* leave classes=None in models"
    network = NETWORKS[family](classes=np.unique(y))
    with pytest.raises(ValueError, match=message):
        VotingClassifier([("net", network)], voting="soft").fit(X, y)
    with pytest.raises(ValueError, match=message):
        cross_val_predict(network, X, y, cv=2, method="predict_proba")
    # as it says: without classes=, cross_val_predict gives the classes a training fold lacks a column of 0
    order = np.argsort(y, kind="stable")  # the second half lacks angry, disgust and fear
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scikit-learn's: a training fold lacks classes
        proba = cross_val_predict(NETWORKS[family](), X[order], y[order], cv=KFold(2), method="predict_proba")
    assert proba.shape == (len(y), 7)
    assert (proba[:28, :3] == 0).all() and (proba[28:, :3] > 0).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
