"""Augmentation and mixing draw every random number from the generator they are given."""

import numpy as np
import pytest
import torch

from fersk.training import augment_batch, mix_batch


def batch():
    images = torch.rand(16, 1, 24, 24, generator=torch.Generator().manual_seed(0))
    return images, torch.arange(16)


@pytest.mark.parametrize(
    "options", [dict(mixup=0.4), dict(cutmix=1.0), dict(mixup=0.4, cutmix=1.0)], ids=["mixup", "cutmix", "both"]
)
def test_mix_batch_draws_from_its_generator_alone(options):
    x, y = batch()
    before = torch.get_rng_state()
    results = []
    for _ in range(2):
        torch.rand(3)  # draws from the global generator between the calls change nothing
        results.append(mix_batch(x, y, **options, generator=torch.Generator().manual_seed(7)))
    (x1, a1, b1, lam1), (x2, a2, b2, lam2) = results
    torch.testing.assert_close(x1, x2, rtol=0, atol=0)
    assert torch.equal(a1, a2) and torch.equal(b1, b2) and lam1 == lam2
    torch.manual_seed(0)
    after_seeding = torch.get_rng_state()
    mix_batch(x, y, **options, generator=torch.Generator().manual_seed(7))
    assert torch.equal(torch.get_rng_state(), after_seeding), "mix_batch drew from torch's global generator"
    torch.set_rng_state(before)


def test_mix_batch_draws_anew_from_another_seed():
    x, y = batch()
    weights = {mix_batch(x, y, mixup=0.4, generator=torch.Generator().manual_seed(s))[3] for s in range(5)}
    assert len(weights) == 5
    assert all(0.0 <= w <= 1.0 for w in weights)


def test_the_mixing_weight_follows_its_beta_distribution():
    # Beta(alpha, alpha) has mean 1/2 and variance 1 / (4 (2 alpha + 1))
    x, y = batch()
    generator = torch.Generator().manual_seed(0)
    weights = np.array([mix_batch(x, y, mixup=0.4, generator=generator)[3] for _ in range(4000)])
    assert abs(weights.mean() - 0.5) < 0.02
    assert abs(weights.var() - 1 / (4 * 1.8)) < 0.01


@pytest.mark.parametrize("policy", ["basic", "strong"])
def test_augment_batch_draws_from_its_generator_alone(policy):
    x, _ = batch()
    torch.manual_seed(0)
    seeded = torch.get_rng_state()
    one = augment_batch(x, policy, generator=torch.Generator().manual_seed(3))
    torch.rand(3)
    two = augment_batch(x, policy, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(one, two, rtol=0, atol=0)
    torch.manual_seed(0)
    augment_batch(x, policy, generator=torch.Generator().manual_seed(3))
    assert torch.equal(torch.get_rng_state(), seeded)
