"""Every file fersk writes for a user to keep is written whole or not at all: a failure half-way leaves the
old file as it was and nothing beside it."""

from pathlib import Path

import pytest
from matplotlib.figure import Figure

from fersk._atomic import save_figure, write_atomically, write_text


def _half_then_disk_full(file, *args, **kwargs):
    """Write a few bytes to ``file`` (a path or an open binary file), then fail as a full disk does."""
    if hasattr(file, "write"):
        file.write(b"half")
    else:
        Path(file).write_bytes(b"half")
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize("writer", ["bytes", "text", "figure"])
def test_a_write_that_fails_half_way_leaves_the_old_file_whole(writer, tmp_path, monkeypatch):
    target = tmp_path / "out.png"
    target.write_bytes(b"the old file")
    figure = Figure()
    monkeypatch.setattr(figure, "savefig", _half_then_disk_full)
    with pytest.raises(OSError, match="No space"):
        if writer == "bytes":
            write_atomically(target, _half_then_disk_full)
        elif writer == "text":
            monkeypatch.setattr(Path, "write_text", lambda self, *a, **k: _half_then_disk_full(self))
            write_text(target, "a report")
        else:
            save_figure(figure, target, dpi=50)
    assert target.read_bytes() == b"the old file"
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_a_figure_is_saved_in_the_format_of_its_suffix(tmp_path):
    figure = Figure(figsize=(1, 1))
    figure.add_subplot().plot([0, 1])
    assert save_figure(figure, tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"
    assert save_figure(figure, tmp_path / "a.svg").read_text().lstrip().startswith("<?xml")
    assert write_text(tmp_path / "r.md", "# report\n").read_text() == "# report\n"
