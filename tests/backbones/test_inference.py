"""Folding BatchNorm for prediction: the same outputs, no BatchNorm left, refolded when the weights change."""

import pytest
import torch
from torch import nn

from fersk.backbones import FERNet, create_backbone, fold_batchnorm, inference_module


def batchnorms(module):
    return sum(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())


def trained_statistics(net, shape):
    """Running statistics away from their initial 0 and 1, so that folding them matters."""
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.rand(4, *shape) * 2)
    return net.eval()


@pytest.mark.parametrize("name", ["fernet", "test_tiny", "resnet18", "mobilenet_v2", "efficientnet_b0"])
def test_folding_keeps_the_outputs_of_every_kind_of_backbone(name):
    torch.manual_seed(0)
    net = trained_statistics(create_backbone(name, n_classes=7, head="mlp"), (1, 32, 32))
    folded = fold_batchnorm(net)
    x = torch.rand(2, 1, 32, 32)
    with torch.no_grad():
        expected = net(x)
        assert torch.allclose(folded(x), expected, atol=1e-4 * expected.abs().max().item())
    assert batchnorms(folded) < batchnorms(net) and not folded.training
    assert next(folded.parameters()).requires_grad is False and next(net.parameters()).requires_grad


def test_fernet_keeps_no_batchnorm():
    net = trained_statistics(FERNet(n_classes=7, channels=(8, 16)), (1, 32, 32))
    folded = fold_batchnorm(net)
    assert batchnorms(net) == 5 and batchnorms(folded) == 0  # 4 in the stages, 1 in the head
    x = torch.rand(6, 1, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(folded(x), net(x), atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(folded.embed(x), net.embed(x), atol=1e-5, rtol=1e-4)


def test_a_batchnorm_without_running_statistics_is_left_alone():
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4, track_running_stats=False)).eval()
    assert batchnorms(fold_batchnorm(net)) == 1


def test_the_folded_copy_is_made_again_when_the_weights_change():
    torch.manual_seed(0)
    net = FERNet(n_classes=3, channels=(4, 8))
    first = inference_module(net)
    assert inference_module(net) is first
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    net.train()
    net(torch.rand(4, 1, 16, 16)).sum().backward()  # a training pass moves the BatchNorm statistics...
    second = inference_module(net)
    assert second is not first
    optimizer.step()  # ... and a step the weights
    third = inference_module(net.eval())
    assert third is not second
    x = torch.rand(2, 1, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(third(x), net(x), atol=1e-5, rtol=1e-4)
