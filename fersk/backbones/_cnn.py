"""FERNet: the default CNN trained from scratch on 48x48 grayscale faces."""

from torch import nn

from ._registry import register_backbone


def fernet_stages(in_chans, channels, dropout):
    """FERNet's stages: two 3x3 conv-BN-ReLU, then 2x2 max pooling and dropout, per width."""
    stages, previous = [], in_chans
    for width in channels:
        stages.append(
            nn.Sequential(
                nn.Conv2d(previous, width, 3, padding=1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
                nn.Conv2d(width, width, 3, padding=1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2, ceil_mode=True),  # any image size, down to 1x1
                nn.Dropout(dropout),
            )
        )
        previous = width
    return stages


@register_backbone("fernet", input_size=48, cam_layer=lambda body: body[3][5])
def _fernet():
    """FERNet with four stages (32-256 wide, 1.2M weights) as a backbone: small enough to ship
    pretrained, fast enough to train on FER2013 on a CPU. Grad-CAM looks at the last ReLU
    before the last pooling (6x6 for 48x48 faces)."""
    stages = fernet_stages(3, (32, 64, 128, 256), 0.25)
    return nn.Sequential(*stages, nn.AdaptiveAvgPool2d(1), nn.Flatten()), 256, stages


class FERNet(nn.Module):
    """A VGG-style CNN sized for 48x48 faces and 2 CPU cores.

    Each stage is two 3x3 convolutions with BatchNorm and ReLU, then 2x2 max
    pooling and dropout; global average pooling feeds a Linear-BN-ReLU-Dropout-Linear
    head. The defaults match the ``fernet`` backbone, whose recipe reaches 68% on
    FER2013. BatchNorm in the head and the fourth stage matter on imbalanced data:
    on muxspace, the earlier default (three stages, no BatchNorm in the head) ends
    10 epochs at a training loss of 1.56, barely below where it starts, and these
    defaults at 1.24 (``benchmarks/bench_fernet_head.py``).

    Parameters
    ----------
    n_classes : int
        Outputs.
    in_chans : int, default=1
        Input channels.
    channels : tuple of int, default=(32, 64, 128, 256)
        Width of each stage; one stage per entry.
    dropout : float, default=0.25
        Dropout after each stage; the head uses twice this.
    hidden : int, default=256
        Width of the head's hidden layer.

    Examples
    --------
    >>> import torch
    >>> net = FERNet(n_classes=7)
    >>> net(torch.rand(4, 1, 48, 48)).shape
    torch.Size([4, 7])
    >>> net.embed(torch.rand(4, 1, 48, 48)).shape  # what the classifiers' transform returns
    torch.Size([4, 256])
    """

    def __init__(self, n_classes, in_chans=1, channels=(32, 64, 128, 256), dropout=0.25, hidden=256):
        super().__init__()
        if len(channels) == 0 or min(channels) < 1:
            raise ValueError(f"FERNet's channels are the widths of its stages, one or more from 1 up; got {channels!r}")
        if hidden < 1:
            raise ValueError(f"FERNet's hidden is the width of its head's hidden layer, 1 or more; got {hidden!r}")
        self.features = nn.Sequential(*fernet_stages(in_chans, channels, dropout))
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(channels[-1], hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(2 * dropout),
            nn.Linear(hidden, n_classes),
        )

    def embed(self, x):
        """The pooled features of images ``x``: the input of the head's first Linear layer."""
        return self.head[:2](self.features((x - 0.5) / 0.25))

    def forward(self, x):
        return self.head[2:](self.embed(x))
