import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from fersk.training import FocalLoss


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.0, 0.3))
def test_class_weights_weigh_whole_samples(seed, smoothing):
    torch.manual_seed(seed)
    logits, target = torch.randn(12, 5), torch.randint(0, 5, (12,))
    weight = torch.rand(5) * 10 + 0.1
    unweighted = nn.CrossEntropyLoss(reduction="none", label_smoothing=smoothing)(logits, target)
    expected = (unweighted * weight[target]).sum() / weight[target].sum()
    loss = FocalLoss(weight=weight, gamma=0.0, label_smoothing=smoothing)(logits, target)
    torch.testing.assert_close(loss, expected)
    if smoothing == 0.0:  # without smoothing, exactly PyTorch's weighted cross-entropy
        torch.testing.assert_close(loss, nn.CrossEntropyLoss(weight=weight)(logits, target))
