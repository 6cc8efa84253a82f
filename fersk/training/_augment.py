"""Augmentation on batches of tensors: one warp per batch, random per image."""

import math

import numpy as np
import torch
from torch.nn import functional as F

POLICIES = ("none", "basic", "strong")


def _affine_grid(n, size, device, *, rotate, zoom, shift, shear, perspective, generator):
    """Per-image random affine (+ perspective) sampling grids, shape (n, h, w, 2)."""
    h, w = size

    def uniform(low, high):
        return torch.rand(n, device=device, generator=generator) * (high - low) + low

    angle = uniform(-rotate, rotate) * math.pi / 180
    scale = uniform(1 - zoom, 1 + zoom)
    shear_x = uniform(-shear, shear)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [
            torch.stack([cos, -sin + shear_x, uniform(-shift, shift)], 1),
            torch.stack([sin, cos, uniform(-shift, shift)], 1),
        ],
        1,
    )
    grid = F.affine_grid(theta, (n, 1, h, w), align_corners=False)
    if perspective:
        g = uniform(-perspective, perspective).view(n, 1, 1)
        k = uniform(-perspective, perspective).view(n, 1, 1)
        denominator = 1 + g * grid[..., 0] + k * grid[..., 1]
        grid = grid / denominator.unsqueeze(-1)
    return grid


def augment_batch(x, policy="basic", *, generator=None):
    """Augment a batch of images, drawing new parameters for every image.

    ``"basic"`` is the published reports' Keras policy: rotation up to 20 degrees,
    zoom 0.2, horizontal flip. ``"strong"`` adds shifts, shear, perspective, an
    elastic warp, brightness and contrast jitter and random erasing. All of it is
    one ``grid_sample`` call per batch, on whatever device the batch is on.

    Parameters
    ----------
    x : Tensor, shape (n, c, h, w)
        Images in [0, 1].
    policy : {"none", "basic", "strong"}
    generator : torch.Generator, optional
        For reproducible draws.

    Returns
    -------
    Tensor
        The augmented batch, same shape, values in [0, 1].

    Examples
    --------
    >>> import torch
    >>> x = torch.rand(8, 1, 48, 48)
    >>> augment_batch(x, "strong").shape
    torch.Size([8, 1, 48, 48])
    """
    if policy not in POLICIES:
        raise ValueError(f"augment must be one of {POLICIES}, got {policy!r}")
    if policy == "none":
        return x
    n, _, h, w = x.shape
    strong = policy == "strong"
    grid = _affine_grid(
        n,
        (h, w),
        x.device,
        rotate=20,
        zoom=0.2,
        shift=0.1 if strong else 0.0,
        shear=0.15 if strong else 0.0,
        perspective=0.15 if strong else 0.0,
        generator=generator,
    )
    flip = torch.rand(n, device=x.device, generator=generator) < 0.5
    grid[..., 0] = torch.where(flip.view(n, 1, 1), -grid[..., 0], grid[..., 0])
    if strong:  # elastic: a smooth random displacement field
        coarse = torch.randn(n, 2, 4, 4, device=x.device, generator=generator) * 0.03
        grid = grid + F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=False).permute(0, 2, 3, 1)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    if strong:
        brightness = (torch.rand(n, 1, 1, 1, device=x.device, generator=generator) - 0.5) * 0.4
        contrast = 1 + (torch.rand(n, 1, 1, 1, device=x.device, generator=generator) - 0.5) * 0.6
        mean = out.mean(dim=(1, 2, 3), keepdim=True)
        out = ((out - mean) * contrast + mean + brightness).clamp(0, 1)
        out = _random_erase(out, generator)
    return out


def _random_erase(x, generator, p=0.5):
    """Replace a random rectangle (2-20% of the area) with noise, in half the images."""
    n, _, h, w = x.shape
    r = torch.rand(n, 5, device=x.device, generator=generator)
    area = (0.02 + 0.18 * r[:, 0]) * h * w
    aspect = torch.exp((r[:, 1] - 0.5) * 1.2)
    eh = (area * aspect).sqrt().clamp(1, h)
    ew = (area / aspect).sqrt().clamp(1, w)
    top = r[:, 2] * (h - eh)
    left = r[:, 3] * (w - ew)
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    mask = (
        (rows >= top.view(n, 1, 1))
        & (rows < (top + eh).view(n, 1, 1))
        & (cols >= left.view(n, 1, 1))
        & (cols < (left + ew).view(n, 1, 1))
        & (r[:, 4] < p).view(n, 1, 1)
    ).unsqueeze(1)
    noise = torch.rand(x.shape, device=x.device, generator=generator)
    return torch.where(mask, noise, x)


def mix_batch(x, y, *, mixup=0.0, cutmix=0.0, generator=None):
    """Mixup or CutMix a batch: returns ``(x, y_a, y_b, lam)`` for a mixed loss.

    With both enabled, each batch takes one of them at random.

    Parameters
    ----------
    x : Tensor, shape (n, c, h, w)
        Images.
    y : Tensor, shape (n,)
        Their labels.
    mixup, cutmix : float, default=0.0
        Alpha of the Beta distribution the mixing weight is drawn from; 0 disables.
    generator : torch.Generator, optional
        Every draw (the choice between mixup and CutMix, the mixing weight, the pairing
        and the CutMix box) comes from it; it must be on the device of ``x``. None: torch's
        global generator.

    Returns
    -------
    x : Tensor
        The mixed batch.
    y_a, y_b : Tensor
        The labels of the images mixed together.
    lam : float
        The weight of ``y_a`` in the loss.

    Examples
    --------
    >>> import torch
    >>> x, y = torch.rand(8, 1, 48, 48), torch.arange(8)
    >>> one = mix_batch(x, y, mixup=0.2, generator=torch.Generator().manual_seed(0))
    >>> two = mix_batch(x, y, mixup=0.2, generator=torch.Generator().manual_seed(0))
    >>> torch.equal(one[0], two[0]) and one[3] == two[3]
    True
    """
    if not mixup and not cutmix:
        return x, y, y, 1.0

    def uniform():
        return torch.rand(1, device=x.device, generator=generator).item()

    use_cutmix = bool(cutmix) and (not mixup or uniform() < 0.5)
    alpha = cutmix if use_cutmix else mixup
    # torch's Beta samples from the global generator and takes no other: numpy's, seeded from ours
    seed = int(torch.randint(2**62, (1,), device=x.device, generator=generator).item())
    lam = float(np.random.default_rng(seed).beta(alpha, alpha))
    perm = torch.randperm(len(x), device=x.device, generator=generator)
    if not use_cutmix:
        return lam * x + (1 - lam) * x[perm], y, y[perm], lam
    _, _, h, w = x.shape
    ch, cw = int(h * math.sqrt(1 - lam)), int(w * math.sqrt(1 - lam))
    top = int(torch.randint(0, h - ch + 1, (1,), device=x.device, generator=generator).item())
    left = int(torch.randint(0, w - cw + 1, (1,), device=x.device, generator=generator).item())
    x = x.clone()
    x[:, :, top : top + ch, left : left + cw] = x[perm, :, top : top + ch, left : left + cw]
    return x, y, y[perm], 1 - ch * cw / (h * w)
