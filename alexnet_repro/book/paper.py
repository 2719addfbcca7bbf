"""The paper's side of the book: its claims (from paper_claims.CLAIMS) and published numbers to set ours against,
other AlexNets and independent ablations, each with its source and the conditions its number holds under.
"""

from ..paper_claims import cell, claims_table

PAPER = (
    "Alex Krizhevsky, Ilya Sutskever, Geoffrey E. Hinton. ImageNet Classification with Deep "
    "Convolutional Neural Networks. Advances in Neural Information Processing Systems 25 (NIPS 2012)."
)

MISHKIN = (
    "Dmytro Mishkin, Nikolay Sergievskiy, Jiri Matas. Systematic evaluation of CNN advances on the "
    "ImageNet. Computer Vision and Image Understanding, 2017 (arXiv:1606.02228)."
)
MISHKIN_CONDITIONS = "CaffeNet trained on ImageNet (ILSVRC-2012) at 128 px input; top-1 accuracy on its validation set"


# Published reference points: (what, number, conditions, source).
REFERENCE_POINTS = [
    (
        "torchvision's AlexNet",
        "56.522% top-1 / 79.066% top-5 accuracy",
        "ILSVRC-2012 validation set, one centre crop, one model",
        "torchvision's model documentation (AlexNet_Weights.IMAGENET1K_V1)",
    ),
    (
        "Caffe's bvlc_alexnet",
        "57.1% top-1 / 80.2% top-5 accuracy",
        "ILSVRC-2012 validation set, one centre crop, one model",
        "the Caffe model zoo's bvlc_alexnet page",
    ),
    ("the paper, one CNN", "40.7% top-1 / 18.2% top-5 error", "ILSVRC-2012 validation set", PAPER),
    ("the paper, 10 patches", "37.5% top-1 / 17.0% top-5 error", "ILSVRC-2010 test set", PAPER),
    (
        "cuda-convnet's CIFAR-10 nets",
        "18% / 13% / 11% test error",
        "the 18pct, conv-local-13pct and conv-local-11pct layer files (the 13/11 pair is the paper's L3)",
        "Krizhevsky's cuda-convnet code, the paper's footnote 3",
    ),
]

# What Mishkin et al. found on each claim id, under MISHKIN_CONDITIONS (only numbers we were given with a source).
MISHKIN_FINDINGS = {
    "R1": "ReLU 47.0% against tanh 40.1% top-1 accuracy (final accuracy, not training speed)",
    "L2": "LRN adds nothing",
    "L3": "LRN adds nothing (on ImageNet, not CIFAR-10)",
    "BN": "batch norm after the ReLU: +2.9 points top-1 accuracy",
    "O1": "compare max pooling against average and stochastic pooling, among other variants; see the paper for the "
    "numbers",
}


def references_markdown(claim_id: str) -> str:
    """The published evidence beside a claim (D2's: the reference AlexNets' single crops), or a line saying there is
    none here."""
    rows = [(f"{what}: {number}", cond, src) for what, number, cond, src in REFERENCE_POINTS[:2] if claim_id == "D2"]
    if claim_id in MISHKIN_FINDINGS:
        rows.append((MISHKIN_FINDINGS[claim_id], MISHKIN_CONDITIONS, MISHKIN))
    if not rows:
        return "No independent published measurement of this claim is cited here."
    return "\n".join(f"- {finding}. *Conditions:* {cond}. *Source:* {src}" for finding, cond, src in rows)


def claims_page_markdown(entries) -> str:
    """The book's own page of the paper's claims: id, statement, numbers, section, data, and our pages."""
    claims = claims_table(
        "says",
        "our pages",
        lambda c: ", ".join(f"[{e.scale}]({e.page}.ipynb)" for e in entries if e.claim_id == c.id) or "not run yet",
    )
    points = ["| what | number | conditions | source |", "|---|---|---|---|"]
    points += [f"| {w} | {n} | {cell(c)} | {cell(s)} |" for w, n, c, s in REFERENCE_POINTS]
    blocks = [
        "# The paper's claims",
        f"Every claim this suite tests, as the paper states it. The paper: {PAPER}",
        "Ids are stable: results, notebooks and this book use them. R1 to Q2 are experiments; A1 to 227 are "
        "checks of the model and recipe against the paper's text. *BN* is not in the paper; "
        "it is the common modern substitute for LRN, measured for context.",
        claims,
        "## Reference points",
        "What other published AlexNets reach, for scale; none of these is a measurement of this suite.",
        "\n".join(points),
        "## Independent ablations",
        f"{MISHKIN} They test many of AlexNet's design choices one at a time under one recipe: "
        f"{MISHKIN_CONDITIONS}. Their conditions differ from the paper's (128 px, not 224 px) and from "
        "ours; what can be compared is the direction of an effect.",
        "\n".join(f"- **{cid}**: {finding}." for cid, finding in MISHKIN_FINDINGS.items()),
    ]
    return "\n\n".join(blocks) + "\n"
