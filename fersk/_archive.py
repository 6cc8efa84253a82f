"""The fersk model file: a zip of JSON and raw tensors, checksummed, with no pickle in it.

This container knows nothing of estimators (``fersk.io`` builds on it), so that the
backbones can read a fersk model's weights without importing the classifiers.
"""

import hashlib
import io
import json
import lzma
import zipfile
import zlib
from pathlib import Path

import torch

from ._atomic import write_atomically

MAGIC = "fersk-model"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHECKSUM = "manifest.sha256"
MODULE = "module.pt"

# What zipfile and its decompressors raise on a damaged archive. fersk writes none of these
# cases itself, so each one means a changed byte: read_archive re-raises every one as an
# "is corrupted" ValueError (none is ignored), and is_fersk_file answers False.
_DAMAGE = (
    zipfile.BadZipFile,  # a broken header, directory or CRC
    zlib.error,  # a broken deflate stream
    lzma.LZMAError,  # a method byte flipped to LZMA, then its stream
    NotImplementedError,  # a compression-method or version byte changed to one zipfile cannot read
    RuntimeError,  # the encryption flag set: zipfile asks for a password
    OSError,  # an offset flipped to before the file's start (bz2 stream errors too)
    EOFError,  # an offset or size past the file's end
    KeyError,  # a member name in the manifest that the directory lacks
    json.JSONDecodeError,  # only after a matching manifest checksum, i.e. a forged file
    UnicodeDecodeError,  # the UTF-8 name flag, or the checksum member, damaged
)


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _entry(name, compress):
    """A zip entry stamped 1980-01-01 rather than now, so that one model always gives the same bytes."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16  # read-write for the owner, readable by all, when unzipped
    return info


def write_archive(path, manifest, members, compress=True):
    """Write ``manifest`` (JSON-able dict) and ``members`` (name -> bytes) to ``path`` atomically.

    The archive goes to a temporary file beside ``path``, which ``os.replace`` then
    puts in its place: a reader, or a process killed mid-write, only ever sees the
    old file or the new one. ``compress=False`` stores the members as they are. The
    archive carries no time stamp, so the same contents always give the same bytes.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory; give the path of a file in it, such as {path / 'model.fersk'}")
    manifest = {"format": MAGIC, "format_version": FORMAT_VERSION, **manifest}
    manifest["files"] = {name: _sha256(data) for name, data in members.items()}
    manifest_bytes = json.dumps(manifest, indent=1, sort_keys=True).encode()
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(f):
        with zipfile.ZipFile(f, "w") as zf:
            entries = {MANIFEST: manifest_bytes, CHECKSUM: _sha256(manifest_bytes).encode(), **members}
            for name, data in entries.items():
                zf.writestr(_entry(name, compress), data)

    return write_atomically(path, write)


def read_archive(path):
    """Read and verify a fersk model file; returns ``(manifest, members)``.

    Raises
    ------
    ValueError
        When the file is not a fersk model file (a pickle, say), or is corrupted or
        modified: a damaged zip structure or compressed stream, or a checksum that
        does not match. Nothing in the file is executed.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no fersk model file at {path}")
    with open(path, "rb") as f:
        head = f.read(4)
        if not zipfile.is_zipfile(f):
            if head == b"PK\x03\x04":  # a zip's first entry, and no directory at the end
                raise ValueError(
                    f"{path} is corrupted: it begins as a zip archive, as a fersk model file does, but its "
                    "end is missing or damaged (a copy or download cut short?); copy the file again"
                )
            kind = "a pickle" if head[:1] == b"\x80" else "not a zip archive"
            raise ValueError(
                f"{path} is not a fersk model file ({kind}). fersk.load never unpickles, because "
                "unpickling runs code from the file; if you trust its source, open it with pickle or joblib"
            )
        # The file is open, so an OSError from here on comes from the archive's own offsets.
        try:
            with zipfile.ZipFile(f) as zf:
                return _read_verified(path, zf)
        except _DAMAGE as exc:
            raise ValueError(f"{path} is corrupted: {exc}") from None


def _read_verified(path, zf):
    names = set(zf.namelist())
    if MANIFEST not in names or CHECKSUM not in names:
        raise ValueError(
            f"{path} is a zip archive but not a fersk model file (no {MANIFEST}); save models with fersk.save"
        )
    manifest_bytes = zf.read(MANIFEST)
    if zf.read(CHECKSUM).decode().strip() != _sha256(manifest_bytes):
        raise ValueError(f"{path} is corrupted or was modified: its manifest checksum does not match")
    manifest = json.loads(manifest_bytes)
    if manifest.get("format") != MAGIC:
        raise ValueError(f"{path} is not a fersk model file")
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(f"{path} was written by a newer fersk (format {manifest['format_version']}); upgrade fersk")
    members = {}
    for name, digest in manifest["files"].items():
        data = zf.read(name)
        if _sha256(data) != digest:
            raise ValueError(f"{path} is corrupted or was modified: the checksum of {name} does not match")
        members[name] = data
    return manifest, members


def tensors_to_bytes(state_dict):
    """A state dict as bytes that :func:`tensors_from_bytes` reads back without pickle code."""
    buffer = io.BytesIO()
    torch.save(state_dict, buffer)
    return buffer.getvalue()


def tensors_from_bytes(data):
    """Read a state dict with torch's ``weights_only`` loader: tensors and plain containers only."""
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def is_fersk_file(path):
    """True when ``path`` is a zip holding a fersk manifest."""
    try:
        with zipfile.ZipFile(path) as zf:
            return MANIFEST in zf.namelist()
    except _DAMAGE:
        return False


def read_module_state(path):
    """The network weights stored in a fersk model file, and the name of its backbone (None for a CNN).

    For gated experts (``fersk.gate_experts``), the last expert's backbone: the one that transfers.
    """
    manifest, members = read_archive(path)
    if MODULE not in members:
        raise ValueError(f"{path} holds a {manifest.get('estimator')}, which has no network weights to transfer")
    params = manifest.get("params", {})
    experts = params.get("module__backbones")  # a list, or a tuple written as {"__tuple__": [names]}
    if isinstance(experts, dict):
        experts = experts["__tuple__"]
    source = experts[-1] if experts else params.get("backbone")
    return tensors_from_bytes(members[MODULE]), source
