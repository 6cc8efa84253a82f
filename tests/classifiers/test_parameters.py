"""The parameters of the estimators: validated by scikit-learn once per fit, names checked by skorch,
and each documented in its own numpydoc entry."""

import doctest
import inspect
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.utils._param_validation import InvalidParameterError

from fersk import CNNClassifier, HOGSVMClassifier, TransferClassifier, make_faces
from fersk.backbones import FERNet
from fersk.classifiers import NeuralImageClassifier
from fersk.classifiers._neural import _params

from .test_estimators import cnn, hog, transfer


@pytest.fixture(scope="module")
def faces():
    return make_faces(40, image_size=16, difficulty=0.0, random_state=0)


def tiny_cnn(**kw):
    return cnn(**{"module__channels": (4,), "module__hidden": 8, **kw})


def tiny_transfer(**kw):
    return transfer(**{"max_epochs": 1, "head_epochs": 0, **kw})


def tiny_hog(**kw):
    return hog(**{"pixels_per_cell": (4, 4), **kw})


FAMILIES = {"hog": tiny_hog, "cnn": tiny_cnn, "transfer": tiny_transfer}
# a value the constraints refuse, which the code after them does not refuse alike
INVALID = {"hog": {"C": -1.0}, "cnn": {"lr": -1.0}, "transfer": {"lr": -1.0}}


@pytest.fixture
def validations(monkeypatch):
    """The estimators' checks of their parameters' values, by the estimator's class name."""
    calls = []
    networks = _params.validate_parameter_constraints

    def spy(constraints, params, caller_name):
        calls.append(caller_name)
        return networks(constraints, params, caller_name)

    monkeypatch.setattr(_params, "validate_parameter_constraints", spy)
    hog_validate = HOGSVMClassifier._validate_params

    def hog_spy(self):
        calls.append(type(self).__name__)
        return hog_validate(self)

    monkeypatch.setattr(HOGSVMClassifier, "_validate_params", hog_spy)
    return calls


@pytest.mark.parametrize("family", FAMILIES)
def test_the_parameters_are_validated_once_per_fit(faces, family, validations):
    # the networks checked their values as fit began, as initialize began, and again as skorch's initialize
    # ended: three times a fit
    X, y = faces
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model = FAMILIES[family]().fit(X, y)
    assert validations == [type(model).__name__]


@pytest.mark.parametrize("family", FAMILIES)
def test_skip_parameter_validation_is_honoured(faces, family, validations):
    # fersk checked its parameters whatever scikit-learn's configuration said
    X, y = faces
    name, value = next(iter(INVALID[family].items()))
    message = rf"The '{name}' parameter of \w+Classifier must be"
    with pytest.raises(InvalidParameterError, match=message):
        FAMILIES[family](**INVALID[family]).fit(X, y)
    assert validations
    validations.clear()
    with sklearn.config_context(skip_parameter_validation=True), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(ValueError) as caught:  # what the SVM or torch's optimizer says of it
            FAMILIES[family](**INVALID[family]).fit(X, y)
        assert not isinstance(caught.value, InvalidParameterError)
        if family != "hog":
            model = FAMILIES[family]().partial_fit(X, y)
            model.partial_fit(X, y)
    assert validations == []


def test_every_partial_fit_validates_the_parameters_set_since(faces, validations):
    # set_params on a fitted network applies to the next partial_fit, which checks its values as fit does
    X, y = faces
    model = tiny_cnn().partial_fit(X, y)
    model.partial_fit(X, y)
    assert validations == ["CNNClassifier"] * 2
    with pytest.raises(InvalidParameterError, match=r"The 'lr' parameter of CNNClassifier must be"):
        model.set_params(lr=-1.0).partial_fit(X, y)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"lrr": 0.1}, r"got unexpected argument\(s\) lrr\. Either you made a typo"),
        (
            {"iterator_train_shuffle": True},
            r"unexpected argument iterator_train_shuffle, did you mean iterator_train__shuffle\?",
        ),
        ({"module_hidden": 8}, r"unexpected argument module_hidden, did you mean module__hidden\?"),
        ({"modul__dropout": 0.1}, r"got unexpected argument\(s\) modul__dropout\. Either you made a typo"),
    ],
)
def test_misspelt_names_are_refused_by_skorchs_check(faces, params, message):
    # fersk refused plain names with a check of its own, beside skorch's
    X, y = faces
    with pytest.raises(ValueError, match=message):
        tiny_cnn(**params).fit(X, y)


def test_the_warnings_of_a_fit_point_at_the_users_call(faces):
    # _fit_context's wrapper is one more frame between the user's call and fersk's checks
    X, y = faces
    fear = y == "fear"
    one_happy = np.flatnonzero(y != "happy").tolist() + [np.flatnonzero(y == "happy")[0]]
    calls = [
        lambda: tiny_cnn().fit(X / 255.0, y),  # "X looks scaled to [0, 1]"
        lambda: tiny_cnn().partial_fit(X - 1.0, y),  # "X holds negative values"
        lambda: tiny_cnn().fit(X[~fear], y[~fear], X_val=X, y_val=y),  # "y_val holds ... that y lacks"
        lambda: tiny_hog().fit(X - 1.0, y),
        lambda: tiny_hog().fit(X[one_happy], y[one_happy]),  # a class of one image: calibration on it
    ]
    for call in calls:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call()
        fersk_warnings = [w for w in caught if w.category is UserWarning]
        assert fersk_warnings and {w.filename for w in fersk_warnings} == {__file__}


# -- docs ----------------------------------------------------------------------------------------

PUBLIC = {
    "HOGSVMClassifier": HOGSVMClassifier(),
    "CNNClassifier": CNNClassifier(),
    "TransferClassifier": TransferClassifier(),
    "NeuralImageClassifier": NeuralImageClassifier(FERNet),
}


@pytest.mark.parametrize("name", PUBLIC)
def test_every_parameter_has_its_own_entry_in_the_docstring(name):
    # NeuralImageClassifier had no Parameters section, TransferClassifier's sent the reader to
    # CNNClassifier's for most of its own, and HOGSVMClassifier's and CNNClassifier's grouped some in one entry
    docscrape = pytest.importorskip("numpydoc.docscrape")
    estimator = PUBLIC[name]
    documented = [p.name for p in docscrape.NumpyDocString(inspect.getdoc(type(estimator)))["Parameters"]]
    params = {k for k in estimator.get_params(deep=False) if not k.startswith("_")}  # "_": skorch's bookkeeping
    assert len(documented) == len(set(documented))
    assert set(documented) - {"**kwargs"} == params


@pytest.mark.parametrize("name", PUBLIC)
def test_the_composed_docstrings_keep_their_doctests(name):
    cls = type(PUBLIC[name])
    examples = [example for test in doctest.DocTestFinder().find(cls, name) for example in test.examples]
    assert any(".fit(" in example.source for example in examples)  # pytest --doctest-modules runs them
