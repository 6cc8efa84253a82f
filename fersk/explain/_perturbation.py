"""LIME, Kernel SHAP and GradientSHAP through captum, on superpixels sized for small faces."""

from contextlib import contextmanager

import numpy as np
import torch

# Superpixels: a grid of 8x8 square cells, whatever the image's size (6 pixels at 48x48). At
# FER2013's framing the eyes are 18 pixels apart and the mouth is 15 pixels wide, so a cell is
# about an eye, a brow or half the mouth, and 64 features are few enough for a few hundred
# perturbations to fit. SLIC was the other choice: on 48x48 grayscale faces its segments follow
# shading and hair rather than the eyes and mouth, and change from face to face, so maps of
# different faces (and the region shares over them) would not be comparable.
GRID_CELLS = 8
GREY = 0.5  # what a removed superpixel becomes, as occlusion's patches: mid-grey in [0, 1]
DEFAULT_SAMPLES = {"lime": 256, "kernel_shap": 256, "gradient_shap": 16}


def superpixel_grid(image_shape, cell_size=None):
    """The superpixels of ``"lime"`` and ``"kernel_shap"``: square cells numbered row by row.

    Parameters
    ----------
    image_shape : tuple of int
        ``(height, width)`` or ``(height, width, channels)``.
    cell_size : int, optional
        Side of a cell in pixels; default the side that makes an 8x8 grid (6 pixels at
        48x48, 3 at 24x24). Cells at the right and bottom edges may be narrower.

    Returns
    -------
    ndarray of shape (height, width), int
        The superpixel of each pixel, from 0.

    Examples
    --------
    >>> grid = superpixel_grid((48, 48))
    >>> int(grid.max()) + 1, int((grid == 0).sum())
    (64, 36)
    >>> superpixel_grid((4, 4), cell_size=2)
    array([[0, 0, 1, 1],
           [0, 0, 1, 1],
           [2, 2, 3, 3],
           [2, 2, 3, 3]])
    """
    h, w = int(image_shape[0]), int(image_shape[1])
    if cell_size is None:
        cell_size = max(1, round(min(h, w) / GRID_CELLS))
    cell_size = int(cell_size)
    if cell_size < 1:
        raise ValueError(f"cell_size must be a whole number of pixels from 1 up, got {cell_size}")
    columns = -(-w // cell_size)
    return (np.arange(h) // cell_size)[:, None] * columns + (np.arange(w) // cell_size)[None, :]


@contextmanager
def seeded(seed, device):
    """captum draws from torch's and numpy's global generators: seed them for the block, then
    put back the states they had, so the caller's random streams are left as they were."""
    if seed is None:
        yield
        return
    devices = [device] if torch.device(device).type == "cuda" else []
    state = np.random.get_state()  # noqa: NPY002 (captum draws from the legacy global generator)
    try:
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            np.random.seed(seed)  # noqa: NPY002
            yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


def attribute_superpixels(method, forward, images, targets, device, *, n_samples=None, cell_size=None, seed=0):
    """LIME or Kernel SHAP, one image at a time (as captum asks), its perturbations in batches."""
    from captum._utils.models.linear_model import SkLearnRidge
    from captum.attr import KernelShap, Lime

    n_samples = DEFAULT_SAMPLES[method] if n_samples is None else int(n_samples)
    if n_samples < 2:
        raise ValueError(f"n_samples must be at least 2 for method={method!r}, got {n_samples}")
    mask = torch.as_tensor(superpixel_grid(images.shape[-2:], cell_size), device=device)[None, None]
    if method == "lime":
        # LIME's own choice of surrogate (ridge, alpha=1); captum's default, a lasso at 0.01,
        # zeroes most cells of a probability that moves by a few hundredths
        explainer = Lime(forward, interpretable_model=SkLearnRidge(alpha=1.0))
    else:
        explainer = KernelShap(forward)
    maps = []
    with seeded(seed, device), torch.no_grad():
        for image, target in zip(images, targets):
            attributions = explainer.attribute(
                image[None].to(device),
                baselines=GREY,
                target=int(target),
                feature_mask=mask,
                n_samples=n_samples,
                perturbations_per_eval=min(n_samples, 128),
            )
            maps.append(attributions.detach().cpu().sum(dim=1).numpy())
    return np.concatenate(maps) if maps else np.zeros((0, *images.shape[-2:]), dtype=np.float32)


def attribute_gradient_shap(forward, batch, targets, *, n_samples=None, seed=0):
    """GradientSHAP: expected gradients from constant baselines, black to white, with a little noise."""
    from captum.attr import GradientShap

    n_samples = DEFAULT_SAMPLES["gradient_shap"] if n_samples is None else int(n_samples)
    if n_samples < 1:
        raise ValueError(f"n_samples must be at least 1 for method='gradient_shap', got {n_samples}")
    levels = torch.linspace(0.0, 1.0, 5, device=batch.device)
    baselines = levels[:, None, None, None] * torch.ones_like(batch[:1])
    with seeded(seed, batch.device):
        attributions = GradientShap(forward).attribute(
            batch, baselines=baselines, target=targets, n_samples=n_samples, stdevs=0.05
        )
    return attributions.detach().cpu().sum(dim=1).numpy()
