"""MTCNN's three networks and its cascade, in PyTorch (imported only when MTCNN runs: torch is heavy)."""

import functools
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.ops import batched_nms, roi_align

# P-Net looks at every window, not every second one, on pyramid levels whose shorter side is at most this
# many pixels: there a window covers 60% of the side or more, so a face that fills the photo may fall
# between two windows two pixels apart. Chosen on the 1,368 muxspace val photos (photos without a face
# found: 9 with windows two pixels apart everywhere, 5 at 20 and 24, 4 at 32; 20 costs least). It costs 5% of
# detection's speed on photos of 128 px and 2% at 640x480 (benchmarks/bench_detection_speed.py).
DENSE_SIDE = 20
WEIGHTS = Path(__file__).resolve().parent / "weights"


class PNet(nn.Module):
    """Proposal network: fully convolutional, 12x12 windows every 2 pixels (or 1); box offsets, face probability."""

    def __init__(self):
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 10, 3), nn.PReLU(10)
        self.pool1 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(10, 16, 3), nn.PReLU(16)
        self.conv3, self.prelu3 = nn.Conv2d(16, 32, 3), nn.PReLU(32)
        self.conv4_1 = nn.Conv2d(32, 2, 1)
        self.conv4_2 = nn.Conv2d(32, 4, 1)

    def forward(self, x, stride=2):
        """Offsets and probabilities of the 12x12 windows every ``stride`` pixels (2, or 1: every window)."""
        if stride == 2:
            x = self.pool1(self.prelu1(self.conv1(x)))
            x = self.prelu3(self.conv3(self.prelu2(self.conv2(x))))
        else:  # the same networks with the pooling's stride taken out, so the convolutions after it dilate
            x = F.max_pool2d(self.prelu1(self.conv1(x)), 2, stride=1)
            x = self.prelu2(F.conv2d(x, self.conv2.weight, self.conv2.bias, dilation=2))
            x = self.prelu3(F.conv2d(x, self.conv3.weight, self.conv3.bias, dilation=2))
        return self.conv4_2(x), torch.softmax(self.conv4_1(x), dim=1)


class RNet(nn.Module):
    """Refinement network on 24x24 crops; returns (box offsets, face probability)."""

    def __init__(self):
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 28, 3), nn.PReLU(28)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(28, 48, 3), nn.PReLU(48)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3, self.prelu3 = nn.Conv2d(48, 64, 2), nn.PReLU(64)
        self.dense4, self.prelu4 = nn.Linear(576, 128), nn.PReLU(128)
        self.dense5_1 = nn.Linear(128, 2)
        self.dense5_2 = nn.Linear(128, 4)

    def forward(self, x):
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.prelu3(self.conv3(x))
        x = self.prelu4(self.dense4(x.permute(0, 3, 2, 1).flatten(1)))  # the weights' (w, h, c) order
        return self.dense5_2(x), torch.softmax(self.dense5_1(x), dim=1)


class ONet(nn.Module):
    """Output network on 48x48 crops; returns (box offsets, landmarks as 5 x then 5 y, face probability)."""

    def __init__(self):
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 32, 3), nn.PReLU(32)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(32, 64, 3), nn.PReLU(64)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3, self.prelu3 = nn.Conv2d(64, 64, 3), nn.PReLU(64)
        self.pool3 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv4, self.prelu4 = nn.Conv2d(64, 128, 2), nn.PReLU(128)
        self.dense5, self.prelu5 = nn.Linear(1152, 256), nn.PReLU(256)
        self.dense6_1 = nn.Linear(256, 2)
        self.dense6_2 = nn.Linear(256, 4)
        self.dense6_3 = nn.Linear(256, 10)

    def forward(self, x):
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.pool3(self.prelu3(self.conv3(x)))
        x = self.prelu4(self.conv4(x))
        x = self.prelu5(self.dense5(x.permute(0, 3, 2, 1).flatten(1)))
        return self.dense6_2(x), self.dense6_3(x), torch.softmax(self.dense6_1(x), dim=1)


@functools.lru_cache(maxsize=4)
def mtcnn_networks(device="cpu"):
    """P-Net, R-Net and O-Net with their weights (loaded once per process and device), in eval mode."""
    networks = []
    for name, cls in (("pnet", PNet), ("rnet", RNet), ("onet", ONet)):
        net = cls()
        net.load_state_dict(torch.load(WEIGHTS / f"{name}.pt", map_location="cpu", weights_only=True))
        # channels-last: the three networks ran 2.2 to 2.7 times faster on 2 cores (P-Net on two 430x737
        # images 116 -> 53 ms, R-Net on 1,098 crops 306 -> 124 ms, O-Net on 226 crops 384 -> 141 ms)
        networks.append(net.to(device, memory_format=torch.channels_last).eval().requires_grad_(False))
    return tuple(networks)


@torch.no_grad()
def cascade(images, min_face_size=20, thresholds=(0.6, 0.7, 0.7), factor=0.709, device="cpu", border=0):
    """Boxes (x1, y1, x2, y2), scores and landmarks (5, 2) of the faces in each image of a batch.

    The arithmetic follows the original MTCNN (and facenet-pytorch): boxes are in
    1-based inclusive pixel coordinates until the end, where they become ``Face``'s
    (left, top, right, bottom). Unlike the original, P-Net looks at every window, not every
    second one, on levels of ``DENSE_SIDE`` pixels or less across. Crops are cut with ``roi_align``, which pads outside
    the image with black, as the original does. ``border``: the pixels of mid-grey each
    side of the images was padded with, which P-Net need not search in full.
    """
    pnet, rnet, onet = mtcnn_networks(str(device))
    t1, t2, t3 = thresholds
    n_images, _, height, width = images.shape

    # stage 1: P-Net over a pyramid, NMS within each scale, then within each image
    scale = 12.0 / min_face_size
    side = min(height, width) * scale
    found, pyramid = [], [(images, 1.0, 1.0)]
    while side >= 12:
        size = (int(height * scale + 1), int(width * scale + 1))
        resized = F.interpolate(images, size=size, mode="area")
        pyramid.append((resized, size[0] / height, size[1] / width))
        # A window wholly in the grey border finds nothing (P-Net gives mid-grey a face probability of
        # 1e-4): P-Net searches the image with 12 pixels of border, all that a window touching it needs,
        # and finds what it finds on the whole level, on 0.73 times its pixels for 512x1024 photos (0.77
        # for 640x360 frames). An even trim keeps its windows where they were.
        grey = int(border * min(size[0] / height, size[1] / width)) - 1  # wholly grey pixels on each side
        trim = max(0, grey - 12) // 2 * 2
        view = resized[:, :, trim : size[0] - trim, trim : size[1] - trim]
        step = 1 if min(size) <= DENSE_SIDE else 2
        offsets, prob = pnet(_normalize(view).contiguous(memory_format=torch.channels_last), stride=step)
        image_index, ys, xs = torch.nonzero(prob[:, 1] >= t1, as_tuple=True)
        if len(image_index):
            corner = step * torch.stack([xs, ys], dim=1).to(images.dtype) + trim  # as on the whole level
            boxes = torch.cat([torch.floor((corner + 1) / scale), torch.floor((corner + 12) / scale)], 1)
            scores = prob[image_index, 1, ys, xs]
            keep = batched_nms(boxes, scores, image_index, 0.5)
            found.append((boxes[keep], scores[keep], offsets[image_index, :, ys, xs][keep], image_index[keep]))
        scale *= factor
        side *= factor
    if not found:
        return [_nothing() for _ in range(n_images)]
    boxes, scores, offsets, image_index = (torch.cat(parts) for parts in zip(*found))
    keep = batched_nms(boxes, scores, image_index, 0.7)
    boxes, offsets, image_index = boxes[keep], offsets[keep], image_index[keep]
    size = (boxes[:, 2:] - boxes[:, :2]).repeat(1, 2)
    boxes = _square(boxes + offsets * size)

    # stage 2: R-Net on 24x24 crops
    offsets, prob = rnet(_crops(pyramid, boxes, image_index, 24))
    passed = prob[:, 1] > t2
    boxes, scores, offsets, image_index = boxes[passed], prob[passed, 1], offsets[passed], image_index[passed]
    keep = batched_nms(boxes, scores, image_index, 0.7)
    boxes = _square(_regress(boxes[keep], offsets[keep]))
    image_index = image_index[keep]

    # stage 3: O-Net on 48x48 crops, with landmarks
    offsets, points, prob = onet(_crops(pyramid, boxes, image_index, 48))
    passed = prob[:, 1] > t3
    boxes, scores, offsets, points, image_index = (
        boxes[passed],
        prob[passed, 1],
        offsets[passed],
        points[passed],
        image_index[passed],
    )
    size = boxes[:, 2:] - boxes[:, :2] + 1
    landmarks = torch.stack(
        [size[:, :1] * points[:, :5] + boxes[:, :1] - 1, size[:, 1:] * points[:, 5:] + boxes[:, 1:2] - 1], dim=2
    )
    boxes = _regress(boxes, offsets)
    keep = _nms_min(boxes, scores, image_index, 0.7)
    boxes, scores, landmarks, image_index = boxes[keep], scores[keep], landmarks[keep], image_index[keep]
    boxes = boxes - torch.tensor([1.0, 1.0, 0.0, 0.0], device=boxes.device)  # 1-based inclusive -> Face's box

    boxes, scores = boxes.double().cpu().numpy(), scores.double().cpu().numpy()
    landmarks, image_index = landmarks.double().cpu().numpy(), image_index.cpu().numpy()
    return [(boxes[image_index == i], scores[image_index == i], landmarks[image_index == i]) for i in range(n_images)]


def _nothing():
    return np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2))


def _normalize(images):
    return (images - 127.5) * 0.0078125


def _square(boxes):
    """Boxes grown to squares of their longer side, about the same centre."""
    size = boxes[:, 2:] - boxes[:, :2]
    side = size.max(dim=1, keepdim=True).values
    corner = boxes[:, :2] + size / 2 - side / 2
    return torch.cat([corner, corner + side], dim=1)


def _regress(boxes, offsets):
    size = (boxes[:, 2:] - boxes[:, :2] + 1).repeat(1, 2)
    return boxes + offsets * size


def _crops(pyramid, boxes, image_index, side):
    """Each box (1-based inclusive) of its image, resized to side x side and normalised; black outside the image.

    A box is cut from the smallest level of the pyramid (the padded images, then P-Net's
    area-shrunk copies of them) on which it is still at least twice ``side`` pixels wide, so
    that ``roi_align`` averages two or three samples a side per output pixel, as it does on the
    full image for a box up to three times ``side``. From the full image, a 450-pixel box took 11
    samples a side per pixel: 226 such O-Net crops took 569 ms on 2 cores, against 35 ms with two
    samples a side. On the 2,735 muxspace test photos and 150 photos of 512x1024 with two faces
    (``benchmarks/bench_peers.py``) the same faces were found, their boxes moved by 0.8% of their
    side (median; 99th percentile 7%), and detection ran 2.0 and 2.3 times faster with the
    channels-last networks and the trimmed border.
    """
    crops = boxes.new_zeros((len(boxes), 3, side, side)).contiguous(memory_format=torch.channels_last)
    extent = (boxes[:, 2:] - boxes[:, :2] + 1).max(dim=1).values
    level = torch.zeros(len(boxes), dtype=torch.long, device=boxes.device)
    for k, (_, scale_y, scale_x) in enumerate(pyramid[1:], start=1):
        level[extent * min(scale_y, scale_x) >= 2 * side] = k
    for k in level.unique().tolist():
        images, scale_y, scale_x = pyramid[k]
        chosen = torch.nonzero(level == k).flatten()
        corners = torch.cat([boxes[chosen, :2] - 1, boxes[chosen, 2:]], dim=1)  # continuous pixel coordinates
        regions = torch.cat(
            [image_index[chosen, None].to(boxes.dtype), corners * boxes.new_tensor([scale_x, scale_y] * 2)], 1
        )
        crops[chosen] = roi_align(images, regions, (side, side), spatial_scale=1.0, sampling_ratio=-1, aligned=True)
    return _normalize(crops)


def _nms_min(boxes, scores, image_index, threshold):
    """Greedy NMS where overlap is the intersection over the smaller box (MTCNN's last step)."""
    if not len(boxes):
        return torch.zeros(0, dtype=torch.long, device=boxes.device)
    top_left = torch.maximum(boxes[:, None, :2], boxes[None, :, :2])
    bottom_right = torch.minimum(boxes[:, None, 2:], boxes[None, :, 2:])
    intersection = (bottom_right - top_left).clamp(min=0).prod(dim=2)
    area = (boxes[:, 2:] - boxes[:, :2]).clamp(min=0).prod(dim=1)
    overlap = intersection / torch.minimum(area[:, None], area[None, :]).clamp(min=1e-6)
    overlap = (overlap > threshold) & (image_index[:, None] == image_index[None, :])
    overlap = overlap.cpu()  # the greedy loop reads one row per box: on a GPU, each read would wait for it
    suppressed = torch.zeros(len(boxes), dtype=torch.bool)
    keep = []
    for i in torch.argsort(scores, descending=True).tolist():
        if not suppressed[i]:
            keep.append(i)
            suppressed |= overlap[i]
    return torch.tensor(keep, dtype=torch.long, device=boxes.device)
