import os
from pathlib import Path

import pytest
import torch
from torch import nn

from fersk.backbones import register_backbone

# On a GPU of the Ampere generation or newer, float32 convolutions run in TF32 by default, whose 10-bit
# mantissa parts two computations of the same probabilities by about 1e-3 (BatchNorm folded or not, say);
# the tests compare them in float32 there as on a CPU.
torch.backends.cudnn.allow_tf32 = False
torch.backends.cuda.matmul.allow_tf32 = False


# A tiny two-stage network for fast tests, registered here and not in fersk: a user's list_backbones() holds
# networks to train, not the tests' fixtures.
@register_backbone("test_tiny", input_size=0)
def _test_tiny():
    stages = [
        nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True)),
        nn.Sequential(nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU()),
    ]
    body = nn.Sequential(*stages, nn.AdaptiveAvgPool2d(1), nn.Flatten())
    return body, 16, stages


SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data():
    """The real datasets beside the checkout (../shared/data), as CI has them.

    Missing, they skip the real-data tests with the reason, except in CI (``CI=true``),
    where they must run.
    """
    if not SHARED_DATA.is_dir():
        message = f"the real datasets are missing: expected them at {SHARED_DATA}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return SHARED_DATA
