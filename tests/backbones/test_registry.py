"""One contract for every registered backbone (timm's way: one parametrized test)."""

import pytest
import torch
from torch import nn

from fersk.backbones import create_backbone, list_backbones


@pytest.mark.parametrize("name", list_backbones())
@pytest.mark.parametrize("head", ["linear", "mlp"])
def test_every_backbone_keeps_the_contract(name, head):
    torch.manual_seed(0)
    net = create_backbone(name, n_classes=5, head=head)
    gray, rgb = torch.rand(2, 1, 32, 32), torch.rand(2, 3, 32, 32)
    net.eval()
    assert net(gray).shape == net(rgb).shape == (2, 5)
    torch.testing.assert_close(net(gray), net(gray.expand(-1, 3, -1, -1)))  # grayscale is repeated
    with pytest.raises(ValueError, match="1 or 3 channels"):
        net(torch.rand(2, 2, 32, 32))
    assert len(net.stages) >= 2
    assert any(module is net.cam_layer for module in net.body.modules())  # Grad-CAM's layer: a layer of features
    assert {k.split(".")[0] for k in net.state_dict()} == {"body", "head", "mean", "std"}

    net.set_trainable_stages(0)
    assert not any(p.requires_grad for p in net.body.parameters())
    assert all(p.requires_grad for p in net.head.parameters())
    net.train()
    assert all(not m.training for m in net.body.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm))
    net.set_trainable_stages(1)
    assert all(p.requires_grad for p in net.stages[-1].parameters())
    assert not any(p.requires_grad for p in net.stages[0].parameters())
