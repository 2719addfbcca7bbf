"""The one way an effect and its 95% interval are written, in headlines, notebooks and the book."""


def fmt_interval(d, ratio=False, digits=2, missing="not measured") -> str:
    """'-1.27 points (95% CI -1.63 to -0.91, 8 seeds)', or for a ratio '3.44x (95% CI 3.14-3.74, 3 seeds)', from
    an interval as results store it ({mean, lo, hi, n}); `missing` when there is none (every seed diverged)."""
    if not d or not d.get("n"):
        return missing
    if ratio:
        return f"{d['mean']:.{digits}f}x (95% CI {d['lo']:.{digits}f}-{d['hi']:.{digits}f}, {d['n']} seeds)"
    return f"{d['mean']:+.{digits}f} points (95% CI {d['lo']:+.{digits}f} to {d['hi']:+.{digits}f}, {d['n']} seeds)"
