"""Test-time augmentation: views of a batch whose predictions are averaged."""

from torch.nn import functional as F

TTA_POLICIES = (None, "flip", "crops")


def _crop(x, top, left, size):
    # Python ints, also while torch.onnx traces the views into a graph (the image size is fixed there)
    h, w = (int(d) for d in x.shape[-2:])
    ch, cw = int(round(h * size)), int(round(w * size))
    y0, x0 = int(round(top * (h - ch))), int(round(left * (w - cw)))
    patch = x[..., y0 : y0 + ch, x0 : x0 + cw]
    return F.interpolate(patch, size=(h, w), mode="bilinear", align_corners=False)


def tta_views(x, policy):
    """The views of batch ``x`` (n, c, h, w) that ``policy`` averages over.

    ``None`` is the batch alone; ``"flip"`` adds its mirror image; ``"crops"`` takes
    the centre and four corner crops at 90% of the side, resized back, each with its
    mirror (ten views).

    Examples
    --------
    >>> import torch
    >>> len(tta_views(torch.rand(2, 1, 48, 48), "crops"))
    10
    """
    if policy not in TTA_POLICIES:
        raise ValueError(f"tta must be one of {TTA_POLICIES}, got {policy!r}")
    if policy is None:
        return [x]
    if policy == "flip":
        return [x, x.flip(-1)]
    corners = ((0.5, 0.5), (0, 0), (0, 1), (1, 0), (1, 1))
    crops = [_crop(x, top, left, 0.9) for top, left in corners]
    return crops + [c.flip(-1) for c in crops]
