"""Write the README's table of the paper's claims from the package's (alexnet_repro/paper_claims.py), with the
claim module that tests each id (the registry). --check: exit 1, saying so, if the README's table is out of date.

    python scripts/claims_table.py [--check]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from alexnet_repro import claims  # noqa: E402
from alexnet_repro.paper_claims import claims_table  # noqa: E402

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- claims-table:start (scripts/claims_table.py writes this) -->", "<!-- claims-table:end -->"


def with_table(text: str) -> str:
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    slugs = claims.ids_tested()
    table = claims_table("short", "tested by", lambda c: f"`{slugs[c.id]}`" if c.id in slugs else "not yet")
    return f"{head}{START}\n{table}\n{END}{tail}"


if __name__ == "__main__":
    text = README.read_text()
    if "--check" in sys.argv[1:]:
        if with_table(text) != text:
            sys.exit("README.md's claims table is out of date: python scripts/claims_table.py")
    else:
        README.write_text(with_table(text))
