"""A tiny run of the paper's recipe for tests/test_distributed.py, under torchrun or in one process.

    python -m torch.distributed.run --standalone --nproc_per_node=2 tests/ddp_worker.py OUT [--stream] [--kill R:S]
    python tests/ddp_worker.py OUT                     # the same run in one process

AlexNet at width 1/16 on 67 px crops of 76 px synthetic images, the paper's SGD (PaperSGD), random
crops + flips + PCA lighting, dropout off (so that a run on two processes can equal one on one
process up to float rounding; see distributed.py), a global batch of 31 over 100 images: every
epoch ends on a partial batch of 7, and the two processes' shares of each batch differ (15 and 16).
Rank 0 writes OUT/history.json and OUT/model.pt; the checkpoint is OUT/checkpoint.pt.
--stream keeps the training images a host array (streamed, feed.py) instead of a device tensor.
run(devices=("cpu", "cpu")) trains the two-column net with its columns apart (TwoDeviceAlexNet).
--kill R:S makes rank R kill itself with SIGKILL as it starts its S-th step (1-based, counted over
the whole run), as a preempted or crashed process would die.
"""

import argparse
import json
import os
import signal
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from alexnet_repro import distributed  # noqa: E402
from alexnet_repro.data.augment import center_crop, pca_lighting, random_crop_flip  # noqa: E402
from alexnet_repro.data.splits import Splits  # noqa: E402
from alexnet_repro.engine import TrainSpec, train  # noqa: E402
from alexnet_repro.models.alexnet import AlexNetConfig, build_for_training  # noqa: E402

SIZE, CROP, CLASSES = 76, 67, 10
SPEC = TrainSpec(
    lr=0.001,
    momentum=0.9,
    weight_decay=5e-4,
    optimizer="paper_sgd",
    decay_biases=False,
    batch_size=31,
    max_epochs=4,
    seed=3,
)
NET = AlexNetConfig(width=1 / 16, input_size=CROP, num_classes=CLASSES, dropout=0.0, init_std=0.1)


def tiny_data(n_train=100, n_test=40):
    """uint8 NHWC images whose class shows in their colour, so the loss has something to learn."""
    g = torch.Generator().manual_seed(0)
    n = n_train + n_test
    y = torch.arange(n) % CLASSES
    colour = torch.randint(0, 190, (CLASSES, 3), generator=g, dtype=torch.uint8)
    x = torch.randint(0, 64, (n, SIZE, SIZE, 3), generator=g, dtype=torch.uint8) + colour[y][:, None, None]
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


def run(out: Path, stream=False, kill=None, devices=None, net=NET):
    out.mkdir(parents=True, exist_ok=True)
    world = distributed.init("cpu")
    x, y, tx, ty = tiny_data()
    data = Splits(x.numpy() if stream else x, y, tx, ty)
    mean = x.float().mean(0)
    eigvals, eigvecs = torch.tensor([0.02, 0.005, 0.001]), torch.eye(3)
    steps = [0]

    def augment(batch, streams):
        steps[0] += 1
        if kill and kill[0] == distributed.rank() and steps[0] == kill[1]:
            os.kill(os.getpid(), signal.SIGKILL)
        x = random_crop_flip(batch, CROP, streams("crop"), mean)
        return pca_lighting(x, eigvals, eigvecs, 0.1, generator=streams("lighting"))

    torch.manual_seed(SPEC.seed)
    model = build_for_training(net, "cpu", devices)
    result = train(
        model, data, lambda b: center_crop(b, CROP, mean), SPEC, augment=augment, checkpoint=out / "checkpoint.pt"
    )
    if distributed.is_main():
        (out / "history.json").write_text(json.dumps({"world_size": world.size if world else 1, **result.as_dict()}))
        torch.save(model.state_dict(), out / "model.pt")
    distributed.shutdown()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--stream", action="store_true")
    ap.add_argument("--kill", type=lambda s: tuple(map(int, s.split(":"))))
    args = ap.parse_args()
    run(args.out, args.stream, args.kill)
