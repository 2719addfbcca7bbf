"""Write the README's table of what each claim's cpu-scale result (and its confirmation's) cost, from the
committed results themselves (provenance.wall_time_s and, for the ablation family, each run's wall time in
seeds.csv), so the table never says more than was measured.

    python scripts/cost_table.py            # rewrites the table between the markers in README.md
    python scripts/cost_table.py --check    # exit 1 if README.md's table is not what the results say
"""

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from alexnet_repro import claims  # noqa: E402
from alexnet_repro.claims.family.arms import PAPER  # noqa: E402
from alexnet_repro.paths import results_root  # noqa: E402
from alexnet_repro.results import load_result  # noqa: E402

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- cost-table:start (scripts/cost_table.py writes this) -->", "<!-- cost-table:end -->"


def row(slug, scale="cpu"):
    result = load_result(slug, scale)
    if result is None:
        return None
    p = result["provenance"]
    minutes = p["wall_time_s"] / 60
    seeds_csv = results_root() / slug / scale / "seeds.csv"
    shared = ""
    if seeds_csv.exists():
        runs = pd.read_csv(seeds_csv)
        if "arm" in runs and (runs["arm"] == PAPER.name).any() and runs["arm"].nunique() > 1:
            own = runs.loc[runs["arm"] != PAPER.name, "wall_time_s"].sum() / 60
            shared = f"{own:.0f}"
    data = p["dataset"].get("name", "-") if isinstance(p.get("dataset"), dict) else "-"
    return {
        "claim": f"{result['claim_id']} `{slug}`" + (f", {scale}" if scale != "cpu" else ""),
        "data": data,
        "seeds": len(p.get("seeds") or []) or "-",
        "training, runs summed (min)": f"{minutes:.0f}" if minutes >= 1 else f"{minutes:.1f}",
        "without the shared paper's net (min)": shared or "-",
        "device": f"{p.get('device_name', p.get('device', '-'))}, {p.get('precision', 'fp32')}",
        "trained": p.get("date", "")[:10],
    }


def table():
    rows = [r for slug in claims.registry() for scale in ("cpu", claims.CONFIRMATION) if (r := row(slug, scale))]
    df = pd.DataFrame(rows)
    header = "| " + " | ".join(df.columns) + " |\n|" + "---|" * len(df.columns) + "\n"
    return header + "".join("| " + " | ".join(str(v) for v in r) + " |\n" for r in df.itertuples(index=False))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    text = README.read_text()
    if START not in text or END not in text:
        sys.exit(f"README.md has no cost-table markers ({START} ... {END})")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{START}\n{table()}{END}{tail}"
    if args.check:
        sys.exit(0 if new == text else "README.md's cost table is stale: run python scripts/cost_table.py")
    README.write_text(new)


if __name__ == "__main__":
    main()
