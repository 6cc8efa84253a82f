"""fersk's batch augmentation against torchvision's ``transforms.v2``, side by side in one run.

fersk draws new parameters for every image of a batch and warps the whole batch with one
``grid_sample`` call (``fersk.training.augment_batch``). torchvision's v2 transforms draw one set
of parameters per call: given a batch, every image gets the same rotation, zoom and flip. So the
comparison is with the two ways to use them: called per image (each image its own draw, as
fersk's), and called once per batch (one draw for all, which is not the same augmentation).

The policy is ``augment="basic"``: rotation up to 20 degrees, zoom 0.8-1.2, horizontal flip, on
batches of 64 grayscale 48x48 faces. Rounds alternate and the best of each is kept: the machine
is shared and noisy.
"""

import argparse
import time

import torch
from _common import record
from torchvision.transforms import v2

from fersk import make_faces
from fersk.training import augment_batch


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=4096, help="faces per round (default: 4096)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default: 3)")
    parser.add_argument("--quick", action="store_true", help="512 faces, 1 round")
    args = parser.parse_args()
    if args.quick:
        args.images, args.rounds = 512, 1
    begin = time.perf_counter()
    X, _ = make_faces(args.images, image_size=48, random_state=0)
    batches = torch.as_tensor(X.reshape(-1, 1, 48, 48) / 255.0, dtype=torch.float32).split(64)
    basic = v2.Compose([v2.RandomAffine(degrees=20, scale=(0.8, 1.2)), v2.RandomHorizontalFlip()])
    ways = {
        "fersk augment_batch (a draw per image)": lambda x: augment_batch(x, "basic"),
        "torchvision v2, per image (a draw per image)": lambda x: torch.stack([basic(image) for image in x]),
        "torchvision v2, per batch (one draw per batch)": basic,
    }
    best = dict.fromkeys(ways, 0.0)
    torch.manual_seed(0)
    for _ in range(args.rounds):
        for name, augment in ways.items():
            start = time.perf_counter()
            for x in batches:
                augment(x)
            best[name] = max(best[name], args.images / (time.perf_counter() - start))
    figures = {"images": args.images, "batch": 64, "threads": torch.get_num_threads()}
    figures.update({f"{name}: images/s": round(rate) for name, rate in best.items()})
    ours = best["fersk augment_batch (a draw per image)"]
    figures["fersk / torchvision per image"] = round(ours / best["torchvision v2, per image (a draw per image)"], 2)
    figures["fersk / torchvision per batch"] = round(ours / best["torchvision v2, per batch (one draw per batch)"], 2)
    print(record("augment" + ("-quick" if args.quick else ""), figures, time.perf_counter() - begin))


if __name__ == "__main__":
    main()
