"""Where each claim stands: which of its results decides it, and what that says in words.

The landing page, the reproducibility summary and `list` all answer "does the claim hold?" from one result per
claim, chosen here by one rule (`deciding`), so a superseded pilot or an old re-read never counts twice.
"""

from .. import claims
from ..paper_claims import CLAIMS, IDS
from ..verdict import INCONCLUSIVE, INCONSISTENT, NO_EFFECT, NOT_REPRODUCED, NOT_TESTABLE, PARTLY, PLUMBING, REPRODUCED

# Most authoritative first. The regime decides over the 15-epoch cpu scale; its cpu runs (a 2-core machine's) over
# its GPU runs. A confirmation comes before its pilot (the cpu result it was declared from): it supersedes it.
# Imagenette results are the ablation family's runs from before protocol v2, kept and re-read as history; smoke
# results are plumbing checks.
AUTHORITY = ("paper", "gpu", claims.REGIME, claims.GPU_REGIME, claims.CONFIRMATION, "cpu")
HISTORY = ("imagenette",)
# Verdicts that say the experiment could not read the claim at all: such a result decides only where no result
# of the claim reads it.
UNREAD = (NOT_TESTABLE, PLUMBING)
NOT_RUN = "not run yet"
# paper_claims' section B: checks of the model and recipe against the paper's text (the architecture claim), shown
# on one line rather than as experiments. BN is not in the paper: a finding, shown apart from the paper's claims.
CHECKS = tuple(c.id for c in CLAIMS if c.kind == "check")
# The claim modules that declare IN_THE_PAPER = False (their verdicts are findings: verdict.as_finding).
FINDINGS = tuple(mod.CLAIM.id for mod in claims.registry().values() if getattr(mod, "IN_THE_PAPER", True) is False)
PAPER_IDS = tuple(cid for cid in IDS if cid not in FINDINGS)  # the paper's claim ids, in the paper's order

# What a verdict says of the claim, for a reader who has not read the method page (the others say it already:
# "holds", "does not hold", "not run yet").
WORDS = {
    REPRODUCED: "holds",
    PARTLY: "holds in direction, not in size",
    NOT_REPRODUCED: "fails: the effect goes the other way",
    NO_EFFECT: "no effect at this scale",
    INCONCLUSIVE: "undecided: more seeds would decide it",
    NOT_TESTABLE: "not testable at this scale",
    INCONSISTENT: "the paper contradicts itself",
    PLUMBING: "plumbing check only",
}


def rank(scale: str) -> int:
    """A scale's place in the order of authority (lower decides first); history and unknown scales last."""
    order = AUTHORITY + HISTORY
    return order.index(scale) if scale in order else len(order)


def deciding(entries):
    """The entry that decides a claim among the entries of its results (objects with .scale and .verdict), or
    None when there are none: history decides only a claim with no other result, smoke only one with nothing else;
    a result that could not read the claim (UNREAD: nets at chance on a gpu run) only where no other reads it;
    among the rest, the most authoritative scale (AUTHORITY)."""
    shown = [e for e in entries if e.scale != "smoke"] or list(entries)
    current = [e for e in shown if e.scale not in HISTORY] or shown
    read = [e for e in current if e.verdict not in UNREAD] or current
    return min(read, key=lambda e: rank(e.scale), default=None)


def by_claim(entries) -> dict:
    """{claim id: [entries]} in the order of paper_claims.IDS (ids not in it after them)."""
    out = {}
    for e in entries:
        out.setdefault(e.claim_id, []).append(e)
    order = list(IDS)
    return dict(sorted(out.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))


def deciding_entries(entries) -> dict:
    """{claim id: its deciding entry} for every claim id with a shown result."""
    return {cid: deciding(es) for cid, es in by_claim(entries).items()}
