"""The package's import contract: the data and feature rooms load without torch, and ``fersk.__all__``
names the public API, each name the object its room exports."""

import importlib
import inspect
import subprocess
import sys

import pytest
from sklearn.base import TransformerMixin, is_classifier

import fersk


@pytest.mark.parametrize("module", ["fersk", "fersk.datasets", "fersk.preprocessing"])
def test_light_modules_do_not_import_torch(module):
    # joblib workers import the module their task lives in; torch there cost more than the task
    code = f"import sys, {module}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_all_lists_each_public_name_once_and_no_private_one():
    assert len(fersk.__all__) == len(set(fersk.__all__))
    assert all(isinstance(name, str) and name.isidentifier() for name in fersk.__all__)
    assert not [name for name in fersk.__all__ if name.startswith("_")]
    assert set(fersk.__all__) <= set(dir(fersk))


@pytest.mark.parametrize("name", fersk.__all__)
def test_every_public_name_is_the_object_its_room_exports(name):
    value = getattr(fersk, name)
    if inspect.isclass(value) or inspect.isfunction(value):
        # defined in fersk under that very name, not a re-exported third-party object or an alias
        assert value.__module__.startswith("fersk.") and value.__name__ == name, (value.__module__, value.__name__)
        room_name = ".".join(value.__module__.split(".")[:2])  # fersk.faces._face -> fersk.faces
        room = importlib.import_module(room_name)
        if not room_name.split(".")[1].startswith("_"):  # a public room: the same object under the same name
            assert getattr(room, name) is value, room_name
            if hasattr(room, "__all__"):
                assert name in room.__all__, f"{room_name}.__all__ lacks {name}"
    else:  # a constant: the datasets' vocabulary
        assert name == "EMOTIONS" and value is importlib.import_module("fersk.datasets").EMOTIONS
        assert all(isinstance(label, str) and label == label.strip().lower() for label in value)


def test_the_public_estimators_and_warnings_are_of_their_kind():
    for name in ("CNNClassifier", "HOGSVMClassifier", "TransferClassifier"):
        assert is_classifier(getattr(fersk, name)()), name
    for name in ("FaceCropper", "HOGTransformer"):
        assert issubclass(getattr(fersk, name), TransformerMixin), name
    assert issubclass(fersk.FerskDataWarning, UserWarning)  # shown by default, filterable as the user's own


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'CNNClasifier'"):
        getattr(fersk, "CNNClasifier")  # noqa: B009 - the attribute access is the test
