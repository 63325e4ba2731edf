"""Reference bounds for lambdas/core/data/missing-rate.ts, computed by statsmodels 0.14.4.

Writes test/fixtures/missing-rate.json: for pairs of (missing, rows) counts, the lower end of
Newcombe's hybrid score interval of current - reference at alpha 0.1 two-sided, which is the
one-sided 95% lower bound the missing-rate rule compares with its tolerance. The unit test
test/unit/missing-rate.test.ts checks judgeMissingRate against it.

Runs in a scratch virtualenv, never in the platform:

    python3 -m venv /tmp/h-missing-venv
    /tmp/h-missing-venv/bin/pip install statsmodels==0.14.4 'numpy<2.3' 'scipy<1.16'
    /tmp/h-missing-venv/bin/python scripts/reference_missing_rate.py
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

from statsmodels.stats.proportion import confint_proportions_2indep

# (current missing, current rows, reference missing, reference rows)
CASES = [
    (8, 40, 0, 40),
    (20, 100, 10, 100),
    (200, 1000, 150, 1000),
    (3, 40, 1, 40),
    (1, 40, 0, 40),
    (2000, 10000, 1900, 10000),
    (0, 50, 0, 50),
    (50, 50, 0, 10),
    (100, 500, 0, 10000),
    (60, 1000, 0, 1000),
    (1, 1000, 40, 1000),
    (7, 9, 3, 11),
]


def main() -> None:
    rows = []
    for current_missing, current_rows, reference_missing, reference_rows in CASES:
        low, high = confint_proportions_2indep(current_missing, current_rows, reference_missing, reference_rows, method="newcomb", compare="diff", alpha=0.1)
        rows.append({
            "current": {"missing": current_missing, "rows": current_rows},
            "reference": {"missing": reference_missing, "rows": reference_rows},
            "lowerBound": float(low),
        })
    out = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "missing-rate.json"
    out.write_text(json.dumps({"statsmodels": version("statsmodels"), "method": "newcomb", "alpha": 0.1, "cases": rows}, indent=2) + "\n")
    print(f"wrote {out} ({len(rows)} cases)")


if __name__ == "__main__":
    main()
