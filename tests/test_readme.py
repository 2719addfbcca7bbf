"""The README's tables are generated: its numbers from the committed results, its claims from the paper's table."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_the_cost_table_is_what_the_committed_results_say():
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "cost_table.py"), "--check"],
        capture_output=True,
        text=True,
        env={"PATH": "", "ALEXNET_REPRO_RESULTS": str(REPO / "results")},
    )
    assert done.returncode == 0, done.stderr


def test_the_claims_table_is_the_papers_table():
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "claims_table.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
