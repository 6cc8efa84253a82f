"""MTCNN (Zhang et al., 2016): a cascade of three small networks that finds faces and five landmarks.

P-Net slides over an image pyramid and proposes windows; R-Net rejects most of them; O-Net
scores the rest and places the eyes, the nose and the mouth corners. The networks and the
cascade are written here in PyTorch, image batches and all, and load the weights that
facenet-pytorch 2.5.3 ships (MIT; ``weights/LICENSE-facenet-pytorch.md``), so the default
detector works offline and needs nothing beyond torch and torchvision.
"""

from contextlib import contextmanager

import numpy as np

from .._device import check_device
from .._threads import one_openmp_thread
from ._face import Face
from ._registry import FaceDetector, register_detector

_CHUNK_PIXELS = 2_000_000  # images per P-Net batch: about this many pixels in all


_THREADED_PIXELS = 250_000  # a batch this large runs on PyTorch's threads; a smaller one on one thread


@contextmanager
def _threads_for(pixels):
    """PyTorch's threads for a large batch, one thread for a small one: in the calling thread only.

    Measured on 2 idle cores (``benchmarks/bench_detection_speed.py``): 300 photos of
    128 px, batched, ran at 63 photos/s on PyTorch's two threads against 35 on one. But a
    small batch's tensors are too small to share: 84 photos of 130-180 px, each its own
    batch, took 4.0 to 5.2 s on two threads against 3.8 to 4.0 s on one with
    ``OMP_WAIT_POLICY=PASSIVE``, and 74 to 98 s against 2.6 to 3.5 s without it on a busy
    machine, where OpenMP's threads spin waiting for each other. (On a shared machine, set
    ``OMP_WAIT_POLICY=PASSIVE`` before Python starts.)

    The one thread is OpenMP's setting for the calling thread alone (``omp_set_num_threads``,
    through threadpoolctl), put back by that thread: torch's process-wide count
    (``torch.set_num_threads``) is never changed, so detections in several threads at once
    cannot leave each other, or threads started later, on one thread. torch sets a thread's
    OpenMP count itself at its first call in that thread, hence ``torch.get_num_threads()`` first.
    """
    if pixels >= _THREADED_PIXELS:
        yield
        return
    with one_openmp_thread():
        yield


@register_detector("mtcnn")
class MTCNNDetector(FaceDetector):
    """MTCNN face detector: every face, with a confidence and five landmarks.

    The default detector of fersk. Torch-native, offline (the weights ship with fersk),
    batched: images of one size go through each network together.

    Parameters
    ----------
    min_face_size : float, default=20
        Smallest face searched for, in pixels of the image as searched.
    thresholds : tuple of 3 floats, default=(0.6, 0.7, 0.7)
        The face probability each stage (P-, R-, O-Net) needs to pass a window on.
    factor : float, default=0.709
        Scale step of the image pyramid.
    border : float, default=0.2
        Before searching, each side of the image is padded by this fraction of its shorter
        side, in mid-grey. MTCNN misses faces its windows cannot surround: a face
        cut by the image's edge, or one that fills a tight crop (FER2013's 48x48 faces,
        most photos of face datasets). Boxes and landmarks are given in pixels of the image
        as passed and may reach past its edge. 0 searches the image as it is.
    detect_size : int or None, default=1280
        Images whose longest side (border included) is larger are searched downscaled to
        this size, then boxes are mapped back; None searches every image at full size.
    device : str, default="auto"
        Where the networks run: ``"cpu"``, ``"cuda"`` (``"cuda:1"``, ...), or ``"auto"``, a CUDA
        GPU when torch finds one and the CPU otherwise (as fersk's estimators choose). On a GPU,
        :meth:`detect_batch` runs in this process whatever ``n_jobs`` says: one process sends the
        GPU whole batches of images, where worker processes would each start CUDA and queue on it.
    n_jobs : int, optional
        Processes for :meth:`detect_batch` on the CPU (joblib; -1: all cores), each on one thread.
        None: this process, where images of one size go through the networks together, on
        PyTorch's threads when the batch is large (250,000 pixels or more) and on one
        thread otherwise, since small tensors do not pay for sharing. On 2 idle cores, 300
        photos of 128 px ran at 63 photos/s in this process and in two processes alike;
        60 photos of 640x480 at 11.4 and 13.3 (``benchmarks/bench_detection_speed.py``, before
        the channels-last networks and crops from the pyramid made the cascade about twice as
        fast: ``benchmarks/bench_peers.py``).

    Examples
    --------
    >>> from skimage.data import astronaut
    >>> faces = MTCNNDetector().detect(astronaut())
    >>> len(faces), faces[0].score > 0.99
    (1, True)
    >>> left, top, right, bottom = faces[0].box
    >>> 160 < left < 200 and 40 < top < 80 and 250 < right < 290
    True
    >>> (faces[0].landmarks[0, 0] < faces[0].landmarks[1, 0])  # the left eye is left of the right eye
    np.True_
    """

    def __init__(
        self,
        min_face_size=20,
        thresholds=(0.6, 0.7, 0.7),
        factor=0.709,
        border=0.2,
        detect_size=1280,
        device="auto",
        n_jobs=None,
    ):
        self.min_face_size = min_face_size
        self.thresholds = thresholds
        self.factor = factor
        self.border = border
        self.detect_size = detect_size
        self.device = device
        self.n_jobs = n_jobs

    def _check_params(self):
        if not self.min_face_size >= 12:
            raise ValueError(f"min_face_size must be at least 12 pixels (P-Net's window), got {self.min_face_size!r}")
        if not 0 < self.factor < 1:
            raise ValueError(f"factor must be between 0 and 1, got {self.factor!r}")
        if len(self.thresholds) != 3 or not all(0 <= t <= 1 for t in self.thresholds):
            raise ValueError(f"thresholds must be three probabilities, got {self.thresholds!r}")
        if not 0 <= self.border <= 1:
            raise ValueError(f"border must be between 0 and 1, got {self.border!r}")
        return check_device(self.device, "pass device='cpu', or device='auto' to search on a GPU where there is one")

    def _in_this_process(self):
        import torch

        return torch.device(check_device(self.device)).type == "cuda"

    def _start_worker(self):
        import torch

        torch.set_num_threads(1)  # the worker processes share the cores

    def _detect_many(self, images):
        import torch

        from ._mtcnn_networks import cascade

        device = self._check_params()
        prepared = [self._prepare(image) for image in images]
        results = [None] * len(images)
        by_shape = {}
        for i, (tensor, pad, _) in enumerate(prepared):
            _, h, w = tensor.shape
            by_shape.setdefault((h + 2 * pad, w + 2 * pad, pad), []).append(i)
        for (height, width, pad), indices in by_shape.items():
            if min(height, width) < 12:  # smaller than P-Net's window: nothing can be found
                for i in indices:
                    results[i] = []
                continue
            per_chunk = max(1, _CHUNK_PIXELS // (height * width))
            for start in range(0, len(indices), per_chunk):
                chunk = indices[start : start + per_chunk]
                # one copy per image, its border added and grey made three channels: padding a stacked
                # copy took 7% of detection on 512x1024 photos (benchmarks/bench_peers.py's)
                batch = torch.full((len(chunk), 3, height, width), 127.5)
                for k, i in enumerate(chunk):
                    batch[k, :, pad : height - pad, pad : width - pad] = prepared[i][0]
                batch = batch.to(device)
                with _threads_for(batch.numel() // 3):
                    found = cascade(batch, self.min_face_size, self.thresholds, self.factor, device, pad)
                for i, (boxes, scores, points) in zip(chunk, found):
                    scale = prepared[i][2]
                    results[i] = [
                        Face((box - pad) / scale, score, (pts - pad) / scale)
                        for box, score, pts in zip(boxes, scores, points)
                    ]
        return results

    def _prepare(self, image):
        """(c, h, w) float tensor (grey: one channel), the border to add to each side, and the scale.

        A large image is shrunk before its border is added, and its border with it: a
        6000x4000 photo costs a 1280-pixel picture's memory, not four times its own.
        """
        import torch
        import torch.nn.functional as F

        h, w = image.shape[:2]
        pad = int(round(self.border * min(h, w)))
        scale = 1.0
        if self.detect_size is not None and max(h, w) + 2 * pad > self.detect_size:
            scale = self.detect_size / (max(h, w) + 2 * pad)
        tensor = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))
        tensor = tensor[None] if image.ndim == 2 else tensor.permute(2, 0, 1)
        if scale != 1.0:
            size = (max(1, round(h * scale)), max(1, round(w * scale)))
            tensor = F.interpolate(tensor[None], size=size, mode="area")[0]
            pad = int(round(pad * scale))
        return tensor, pad, scale
