"""The paper's claims, one row per stable id: the specification of this suite, generated into the README
(scripts/claims_table.py) and the book, and read by the claim modules (claims.Claim).

Krizhevsky, Sutskever, Hinton, "ImageNet Classification with Deep Convolutional Neural Networks", NIPS 2012.
"""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class PaperClaim:
    id: str
    says: str  # what the paper says, condensed (a claim module quotes its words: claims.Claim)
    number: str  # the paper's numbers ("-" when it gives none, "qualitative" when it states no number)
    section: str  # where the paper says it
    data: str  # the data the paper's number is for ("-" for a statement about the model or recipe)
    short: str  # one line, for tables and the scoreboard
    kind: str = "experiment"  # "experiment" (section A) | "check" (section B)


def _rows(table: str, kind: str) -> tuple:
    """PaperClaims from blocks of a line `id | section | data | number`, then, indented, the paper's words and
    `short:` last."""
    rows = []
    for block in re.split(r"\n(?=\S)", table.strip()):
        head, *words, short = block.splitlines()
        cid, section, data, number = head.split(" | ")
        if not short.startswith("    short: "):
            raise ValueError(f"paper_claims: the block of {cid} does not end in its short line")
        says = " ".join(line.strip() for line in words)
        rows.append(PaperClaim(cid, says, number, section, data, short.removeprefix("    short: "), kind))
    return tuple(rows)


# Section A: claims that are experiments.
EXPERIMENTS = """
R1 | 3.1, Fig. 1 | CIFAR-10 | 6x fewer epochs to 25% training error
    A four-layer CNN with ReLUs reaches 25% *training* error on CIFAR-10 six times faster than the same net with
    tanh units. Each net's learning rate was chosen independently to train as fast as possible. No
    regularization of any kind.
    short: ReLUs reach 25% training error on CIFAR-10 six times faster than tanh
M1 | 3.2 | ILSVRC-2012 (ImageNet) | -1.7 / -1.2 points top-1 / top-5
    The two-GPU (two-column) net has lower top-1/top-5 error than a one-GPU net with half as many kernels in
    each conv layer (footnote: the one-GPU net keeps the last conv layer and the FC layers full size). The
    two-GPU net takes slightly less time to train.
    short: the two-column net beats a one-column net with half the kernels, and trains slightly faster
L2 | 3.3 | ILSVRC-2012 (ImageNet) | -1.4 / -1.2 points top-1 / top-5
    Local response normalization lowers top-1/top-5 error.
    short: local response normalization lowers the error
L3 | 3.3 | CIFAR-10 | 13% -> 11% test error (-2 points)
    On CIFAR-10 a four-layer CNN got 13% test error without normalization and 11% with.
    short: on CIFAR-10 a four-layer CNN: 13% test error without normalization, 11% with
O1 | 3.4 | ILSVRC-2012 (ImageNet) | -0.4 / -0.3 points top-1 / top-5
    Overlapping pooling (size 3, stride 2) vs non-overlapping (size 2, stride 2) lowers top-1/top-5 error;
    overlapping models are slightly harder to overfit.
    short: overlapping pooling (3/2) beats non-overlapping (2/2) and overfits slightly less
D2 | 6 | ILSVRC-2010 | -1.5 / -1.3 points top-1 / top-5 (10 patches)
    At test time, averaging the softmax over 10 patches (the four corners and the centre, each also flipped)
    beats a single centre crop (ILSVRC-2010: 39.0/18.3 single, 37.5/17.0 with 10 patches).
    short: averaging 10 patches at test time beats a single centre crop
D4 | 4.1 | ImageNet | qualitative
    Training on random 224 px crops of the 256 px images, and their horizontal flips, fights overfitting:
    "without this scheme, our network suffers from substantial overfitting".
    short: training on random crops and their flips curbs substantial overfitting
D3 | 4.1 | ILSVRC-2012 (ImageNet) | > 1 point top-1
    PCA colour augmentation (add sum_i alpha_i*lambda_i*p_i to every pixel, alpha_i ~ N(0, 0.1), drawn once per
    image per presentation; p, lambda = eigenvectors/values of the 3x3 RGB covariance over the training set)
    lowers top-1 error.
    short: PCA colour augmentation lowers top-1 error
DR1 | 4.2 | ILSVRC-2012 (ImageNet) | ~2x iterations
    Dropout 0.5 in the first two FC layers: without it the net overfits substantially; with it, roughly twice
    the iterations to converge.
    short: dropout: substantial overfitting without; about twice the iterations to converge with
T1 | 5 | ILSVRC-2012 (ImageNet) | -
    Weight decay 0.0005 is not merely a regularizer: it *reduces the training error*.
    short: weight decay 0.0005 reduces the training error, not only the test error
E5 | 7 | ILSVRC-2012 (ImageNet) | ~+2 points top-1 each
    Removing any middle conv layer costs about 2 points of top-1.
    short: removing any middle conv layer costs about 2 points of top-1
BN | - | - | -
    (Not in the paper; common modern substitute.) Batch normalization in place of LRN.
    short: (not in the paper) batch normalization in place of LRN
Q1 | 6.1, Fig. 3 | ILSVRC-2010 | qualitative (Fig. 3): in every run
    First-layer kernels: one column's 48 kernels are largely colour-agnostic, the other's largely
    colour-specific, in every run.
    short: one column's first-layer kernels are colour-agnostic, the other's colour-specific, in every run
Q2 | 6.1, Fig. 4 | ILSVRC-2010 | qualitative (Fig. 4)
    Images close in the last 4096-d hidden layer (Euclidean) are semantically similar.
    short: images close in the last 4096-d hidden layer are semantically similar
"""
# Section B: checks of the model and recipe against the paper's text.
CHECKS = """
A1 | 3.5 | - | -
    LRN follows conv1 and conv2 (after ReLU); max-pooling follows both LRN layers and conv5; ReLU after every
    conv and FC layer.
    short: LRN after conv1/conv2 ReLUs; max-pooling after both LRNs and conv5; ReLU after every layer
A2 | 3.5 | - | -
    conv1 96 kernels 11x11x3 stride 4; conv2 256 of 5x5x48; conv3 384 of 3x3x256; conv4 384 of 3x3x192; conv5
    256 of 3x3x192; FC 4096, 4096, 1000-way softmax.
    short: conv 96-256-384-384-256 kernels of 11/5/3/3/3, FC 4096-4096-1000
M2 | 3.2 | - | -
    conv2, conv4, conv5 see only the maps of their own column (GPU); conv3 and all FC layers see both columns.
    short: conv2, conv4, conv5 see only their own column; conv3 and the FC layers see both
A3 | abstract, 3.5 | - | 60M / 650k
    The net has 60 million parameters and 650,000 neurons; Fig. 2 lists neurons per layer as
    253,440-186,624-64,896-64,896-43,264-4096-4096-1000 and the input as 150,528-d.
    short: 60 million parameters, 650,000 neurons, Fig. 2's per-layer neuron counts, 150,528-d input
A4 | 1 | - | <= 1%
    Each conv layer holds no more than 1% of the parameters.
    short: each conv layer holds no more than 1% of the parameters
L1 | 3.3 | - | -
    LRN: b^i = a^i / (k + alpha * sum_{j=max(0,i-n/2)}^{min(N-1,i+n/2)} (a^j)^2)^beta, with k=2, n=5,
    alpha=1e-4, beta=0.75. Implementations disagree on alpha: cuda-convnet, Caffe and PyTorch's
    LocalResponseNorm divide alpha by n; the formula as printed does not.
    short: LRN with k=2, n=5, alpha=1e-4, beta=0.75
T2 | 5 | - | -
    SGD, batch 128, momentum 0.9, weight decay 0.0005: v <- 0.9 v - 0.0005 eps w - eps <dL/dw>; w <- w + v.
    short: SGD, batch 128, momentum 0.9, weight decay 0.0005, the paper's update rule
T3 | 5 | - | -
    Weights ~ N(0, 0.01); biases 1 in conv2, conv4, conv5 and the FC hidden layers, 0 elsewhere.
    short: weights N(0, 0.01); biases 1 in conv2, conv4, conv5 and the FC hidden layers
T4 | 5 | - | -
    One learning rate for all layers, 0.01, divided by 10 when validation error stops improving (three times);
    ~90 epochs; 5-6 days on two GTX 580 3GB.
    short: one learning rate 0.01, divided by 10 on plateaus, three times; ~90 epochs
D1 | 2 | - | -
    Shorter side rescaled to 256, central 256x256 crop, subtract the per-pixel training mean; nothing else.
    short: shorter side to 256, central 256x256 crop, per-pixel mean subtracted
227 | 3.5 | - | -
    The paper says 224x224 input, but 11x11 stride 4 gives 55x55 only for 227 (or for 224 with padding).
    short: 224x224 input as printed; 11x11 stride 4 gives 55x55 only for 227
"""
CLAIMS = _rows(EXPERIMENTS, "experiment") + _rows(CHECKS, "check")
IDS = tuple(c.id for c in CLAIMS)
BY_ID = {c.id: c for c in CLAIMS}


def cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def claims_table(says: str, last: str, last_cell) -> str:
    """The claims as a markdown table for the README (`says`="short") and the book ("says"), with a last column
    `last` of last_cell(claim)."""
    lines = [
        f"| id | the paper says | paper's numbers | section | paper's data | {last} |",
        "|---|---|---|---|---|---|",
    ]
    for c in CLAIMS:
        lines.append(
            f"| {c.id} | {cell(getattr(c, says))} | {cell(c.number)} | {c.section} | {c.data} | {last_cell(c)} |"
        )
    return "\n".join(lines)
