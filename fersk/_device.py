"""Where torch runs: ``device="auto"`` resolved, and a device that is not here refused before any work."""


def resolve_device(device):
    """The device ``device`` names: ``"auto"`` is ``"cuda"`` when torch finds a GPU, else ``"cpu"``.

    Parameters
    ----------
    device : str, torch.device or None
        A device as fersk's estimators take it (``device="auto"``, ``"cpu"``, ``"cuda:1"``, ...).

    Returns
    -------
    str, torch.device or None
        ``device`` itself, unless it is ``"auto"``.

    Examples
    --------
    >>> from fersk.classifiers import resolve_device
    >>> resolve_device("cpu")
    'cpu'
    >>> resolve_device("auto") in ("cuda", "cpu")
    True
    """
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def check_device(device, fix="pass device='cpu', or device='auto' to use a GPU where there is one"):
    """``device`` resolved, refused with a ``ValueError`` that says ``fix`` when torch cannot run there."""
    import torch

    device = resolve_device(device)
    try:
        kind = torch.device(device).type
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a device torch knows: {exc}") from None
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} asks for a CUDA GPU, and this PyTorch finds none (torch.cuda.is_available() "
            f"is False: a CPU-only build of torch, or no GPU driver). {fix[0].upper()}{fix[1:]}"
        )
    index = torch.device(device).index
    if kind == "cuda" and index is not None and index >= torch.cuda.device_count():
        raise ValueError(
            f"device={device!r} asks for GPU {index}, and torch finds {torch.cuda.device_count()} "
            f"(numbered from 0). {fix[0].upper()}{fix[1:]}"
        )
    if kind == "mps" and not torch.backends.mps.is_available():
        raise ValueError(
            f"device={device!r} asks for Apple's GPU (MPS), and this PyTorch finds none. {fix[0].upper()}{fix[1:]}"
        )
    return device
