"""The dataset cache writes an entry whole or not at all: a full disk leaves no temporary file behind."""

import errno

import numpy as np
import pytest

from fersk.datasets._cache import cached


def test_a_full_disk_warns_and_leaves_no_partial_file(tmp_path, monkeypatch):
    def savez_then_disk_full(file, **arrays):
        file.write(b"PK\x03\x04 half an entry")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", savez_then_disk_full)
    with pytest.warns(UserWarning, match="could not write its cache file .*No space left on device"):
        result = cached(tmp_path, "images", ["a.png"], lambda: {"X": np.arange(3)})
    np.testing.assert_array_equal(result["X"], np.arange(3))  # loading goes on without the cache
    assert list(tmp_path.iterdir()) == []  # no entry, and no .tmp file beside it


def test_an_entry_written_is_read_back(tmp_path):
    first = cached(tmp_path, "images", ["a.png"], lambda: {"X": np.arange(3)})
    again = cached(tmp_path, "images", ["a.png"], lambda: pytest.fail("computed again instead of read"))
    np.testing.assert_array_equal(again["X"], first["X"])
    assert [p.suffix for p in tmp_path.iterdir()] == [".npz"]
