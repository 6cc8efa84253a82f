"""Networks trained on different kinds of faces, mixed per image by a gate."""

import torch
from torch import nn

from ._registry import create_backbone


class GatedExperts(nn.Module):
    """Expert networks mixed per image by a gate that recognises each expert's kind of face.

    Datasets disagree on labels: faces FER2013 calls sad, the muxspace photos call
    neutral. One network trained on both trades one for the other. Here each expert
    keeps the labels of its own data, and a linear gate on the first expert's
    features says, per image, which expert's training images it resembles. The
    output is the log of the gate-weighted mean of the experts' probabilities,
    so a softmax of it (as ``predict_proba`` takes) gives that mixture, and
    cross-entropy on it trains experts and gate together.

    Each expert has a temperature (``temperatures``, 1 until
    :func:`fersk.calibrate` fits them on validation images): an image's mixture
    is taken to the gate-weighted mean of its experts' temperatures, so faces
    of each kind get the temperature their own expert needs, and each image
    keeps its most probable class.

    Parameters
    ----------
    n_classes : int
        Outputs of each expert, in the same order.
    in_chans : int, default=1
        Input channels: 1 or 3 (each expert repeats grayscale to three).
    backbones : sequence of str, default=("fernet", "fernet")
        One registered backbone per expert (:func:`fersk.backbones.list_backbones`).
    head, dropout
        Each expert's head, as :func:`fersk.backbones.create_backbone` takes them.
    hidden, input_size
        As :func:`fersk.backbones.create_backbone` takes them: one value for every
        expert, or a sequence of one per expert (experts trained at other input sizes).

    Attributes
    ----------
    experts : torch.nn.ModuleList of BackboneNet
    gate : torch.nn.Linear
        From the first expert's features to one logit per expert.
    temperatures : torch.Tensor of shape (n_experts,)
        A buffer, saved with the weights: each expert's temperature.

    Examples
    --------
    >>> import torch
    >>> net = GatedExperts(n_classes=7, backbones=("fernet", "fernet")).eval()
    >>> x = torch.rand(4, 1, 48, 48)
    >>> net(x).exp().sum(dim=1)  # log-probabilities: each row sums to 1
    tensor([1.0000, 1.0000, 1.0000, 1.0000], grad_fn=<SumBackward1>)
    >>> net.gate_weights(x).shape  # how much each image goes to each expert
    torch.Size([4, 2])
    """

    def __init__(
        self,
        n_classes,
        in_chans=1,
        backbones=("fernet", "fernet"),
        head="mlp",
        dropout=0.5,
        hidden=256,
        input_size=None,
    ):
        super().__init__()
        if len(backbones) < 2:
            raise ValueError(f"GatedExperts needs at least two backbones, got {list(backbones)}")
        self.in_chans = in_chans
        hidden, input_size = _per_expert(hidden, backbones, "hidden"), _per_expert(input_size, backbones, "input_size")
        self.experts = nn.ModuleList(
            create_backbone(name, n_classes, head=head, dropout=dropout, hidden=width, input_size=size)
            for name, width, size in zip(backbones, hidden, input_size)
        )
        gate_features = next(m for m in self.experts[0].head if isinstance(m, nn.Linear)).in_features
        self.gate = nn.Linear(gate_features, len(backbones))
        self.register_buffer("temperatures", torch.ones(len(backbones)))

    def gate_weights(self, x):
        """How much each image goes to each expert: (n, n_experts), rows summing to 1."""
        return torch.softmax(self.gate(self.experts[0].embed(x)), dim=1)

    def embed(self, x):
        """Every expert's features of images ``x``, side by side: (n, sum of their widths)."""
        return torch.cat([expert.embed(x) for expert in self.experts], dim=1)

    def forward(self, x, *, with_gate=False):
        """Log-probabilities of images ``x`` at their temperatures; with ``with_gate``, also
        their log-probabilities at temperature 1 and their gate weights."""
        first = self.experts[0].embed(x)
        gate = torch.softmax(self.gate(first), dim=1)
        mixed = gate[:, :1] * torch.softmax(self.experts[0].head(first), dim=1)
        for k, expert in enumerate(self.experts[1:], 1):
            mixed = mixed + gate[:, k : k + 1] * torch.softmax(expert(x), dim=1)
        log_mixed = torch.log(mixed.clamp_min(torch.finfo(mixed.dtype).tiny))
        tempered = torch.log_softmax(log_mixed / (gate @ self.temperatures.to(gate.dtype))[:, None], dim=1)
        return (tempered, log_mixed, gate) if with_gate else tempered

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # weights saved before the experts had temperatures: every one at 1, as they predicted
        state_dict.setdefault(prefix + "temperatures", torch.ones_like(self.temperatures))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    @property
    def cam_layer(self):
        """The layer Grad-CAM explains by default: the last expert's (the photos expert of
        ``load_pretrained("fer2013-muxspace")``); pass ``layer=`` for another."""
        return self.experts[-1].cam_layer


def _per_expert(value, backbones, name):
    """``value`` for each backbone: one value for all, or a sequence of one per backbone."""
    if not isinstance(value, (list, tuple)):
        return [value] * len(backbones)
    if len(value) != len(backbones):
        raise ValueError(
            f"{name} gives {len(value)} values for {len(backbones)} backbones; give one, or one per backbone"
        )
    return list(value)
