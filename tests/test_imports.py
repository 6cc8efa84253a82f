"""The package's import contract: the data and feature rooms load without torch."""

import subprocess
import sys

import pytest

import fersk


@pytest.mark.parametrize("module", ["fersk", "fersk.datasets", "fersk.preprocessing"])
def test_light_modules_do_not_import_torch(module):
    # joblib workers import the module their task lives in; torch there cost more than the task
    code = f"import sys, {module}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_public_name_resolves_and_is_listed_by_dir():
    for name in fersk.__all__:
        assert getattr(fersk, name) is not None
    assert set(fersk.__all__) <= set(dir(fersk))


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'CNNClasifier'"):
        getattr(fersk, "CNNClasifier")  # noqa: B009 - the attribute access is the test
