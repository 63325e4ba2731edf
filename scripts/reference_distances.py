"""Reference values for lambdas/core/monitoring/distance.ts, computed by Evidently and scipy.

Writes test/fixtures/distances.json: seeded datasets (the exact vectors, so both sides compute on
the same doubles) and what Evidently 0.7.23's stattests and scipy give on them. The unit test
test/unit/distance.test.ts compares ours with these values to 1e-9 relative.

Runs in a scratch virtualenv, never in the platform (Evidently 0.7.23 needs pandas < 3):

    python3 -m venv /tmp/evvenv
    /tmp/evvenv/bin/pip install evidently==0.7.23 'pandas<3'
    /tmp/evvenv/bin/python scripts/reference_distances.py

Evidently's PSI and Jensen-Shannon take `n_bins` and ignore it (its issue #1400); ours honours
`bins`. For those cases the script runs Evidently's own `get_binned_data` with numpy's
`histogram_bin_edges` asked for that count instead of 'sturges': Evidently's code, bin count fixed.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import distance

from evidently.legacy.calculations.stattests import utils as evidently_utils
from evidently.legacy.calculations.stattests.chisquare_stattest import _chi_stat_test
from evidently.legacy.calculations.stattests.jensenshannon import _jensenshannon
from evidently.legacy.calculations.stattests.psi import _psi
from evidently.legacy.calculations.stattests.wasserstein_distance_norm import _wasserstein_distance_norm
from evidently.legacy.calculations.stattests.z_stattest import _z_stat_test, proportions_diff_z_stat_ind
from scipy import special
from evidently.legacy.core import ColumnType

OUT = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "distances.json"


def rounded(values: np.ndarray, decimals: int = 6) -> list:
    """Short decimals keep the fixture small; the rounded doubles are the data both sides use."""
    return [float(v) for v in np.round(values, decimals)]


def datasets() -> list[dict]:
    rng = np.random.default_rng(20261206)
    cases = []

    def numeric(name: str, reference: np.ndarray, current: np.ndarray) -> None:
        cases.append({"name": name, "kind": "numeric", "reference": rounded(reference), "current": rounded(current)})

    def categorical(name: str, reference: list, current: list) -> None:
        cases.append({"name": name, "kind": "categorical", "reference": reference, "current": current})

    numeric("normal, shifted and wider", rng.normal(0, 1, 500), rng.normal(0.3, 1.2, 400))
    numeric("normal, same law", rng.normal(5, 2, 800), rng.normal(5, 2, 700))
    numeric("exponential, 2000 vs 1500", rng.exponential(3, 2000), rng.exponential(4, 1500))
    numeric("P(positive) scores, shifted", rng.beta(2, 5, 600), rng.beta(3, 4, 600))
    # 1024 values together: log2 is exact, and ceil(ptp / (ptp / 11)) is where a rounding would show.
    numeric("small samples, 7 vs 13", rng.normal(0, 1, 7), rng.normal(1.5, 1, 13))
    numeric("1024 values together", rng.normal(0, 1, 600), rng.normal(0.1, 1, 424))
    # Empty histogram bins on one side: the current lies far right of most of the reference.
    numeric("disjoint ranges", rng.normal(0, 1, 300), rng.normal(6, 0.5, 200))
    # 10,000 reference rows: the smallest share is 1e-4, so empty bins get share / 1e6.
    numeric("tiny shares (1e-4)", np.concatenate([rng.normal(0, 1, 9999), [40.0]]), rng.normal(0.5, 1, 300))
    # At most 20 distinct reference values: each value is its own bin, even for numeric data.
    numeric("few distinct values", rng.integers(0, 8, 400).astype(float), rng.integers(2, 10, 300).astype(float))
    categorical(
        "categories, one new and one gone",
        [str(v) for v in rng.choice(["a", "b", "c", "d"], 500, p=[0.4, 0.3, 0.2, 0.1])],
        [str(v) for v in rng.choice(["a", "b", "c", "e"], 400, p=[0.25, 0.25, 0.3, 0.2])],
    )
    categorical("class labels, same shares", ["yes"] * 300 + ["no"] * 100, ["no"] * 50 + ["yes"] * 150)
    categorical("class labels, 70% vs 64%", [str(v) for v in rng.choice(["yes", "no"], 800, p=[0.7, 0.3])], [str(v) for v in rng.choice(["yes", "no"], 600, p=[0.64, 0.36])])
    categorical("class labels, far apart (tiny p)", [str(v) for v in rng.choice(["y", "n"], 2000, p=[0.8, 0.2])], [str(v) for v in rng.choice(["y", "n"], 2000, p=[0.6, 0.4])])
    categorical("one value on both sides", ["a"] * 50, ["a"] * 20)
    categorical("regions, large and shifted (tiny p)", [str(v) for v in rng.choice(["n", "s", "e", "w"], 3000, p=[0.25, 0.25, 0.25, 0.25])], [str(v) for v in rng.choice(["n", "s", "e", "w"], 3000, p=[0.3, 0.3, 0.2, 0.2])])
    return cases


@contextmanager
def bins_asked(count: int):
    """Evidently's get_binned_data with the bin count honoured: numpy asked for `count` bins, not 'sturges'."""
    original = evidently_utils.np.histogram_bin_edges

    def with_count(a, bins=10, range=None, weights=None):  # noqa: A002 - numpy's signature
        return original(a, bins=count, range=range, weights=weights)

    evidently_utils.np.histogram_bin_edges = with_count
    try:
        yield
    finally:
        evidently_utils.np.histogram_bin_edges = original


def statistics_of(case: dict) -> dict:
    kind = ColumnType.Numerical if case["kind"] == "numeric" else ColumnType.Categorical
    reference = pd.Series(case["reference"])
    current = pd.Series(case["current"])
    reference_shares, current_shares = evidently_utils.get_binned_data(reference, current, kind, 30, feel_zeroes=False)
    filled_reference, filled_current = evidently_utils.get_binned_data(reference, current, kind, 30, feel_zeroes=True)
    result = {
        "jensenshannon": float(_jensenshannon(reference, current, kind, 0.1)[0]),
        "jensenshannonBase2": float(_jensenshannon(reference, current, kind, 0.1, base=2)[0]),
        "psi": float(_psi(reference, current, kind, 0.1)[0]),
        "bins": len(reference_shares),
        # Sorted: Evidently orders categories by a set, ours by first appearance; the multiset is what must agree.
        "referenceShares": sorted(float(v) for v in reference_shares),
        "currentShares": sorted(float(v) for v in current_shares),
        "filledReferenceShares": sorted(float(v) for v in filled_reference),
        "filledCurrentShares": sorted(float(v) for v in filled_current),
        "scipyJensenshannonOfShares": float(distance.jensenshannon(reference_shares, current_shares)),
    }
    if case["kind"] == "categorical" or reference.nunique() <= 20:
        # The p-value tests Evidently picks for few distinct values (the drift check's small-reference regime).
        chi = _chi_stat_test(reference, current, kind, 0.05)[0]
        result["chisquarePValue"] = float(chi)
        result["zPValue"] = float(_z_stat_test(reference, current, kind, 0.05)[0])
        if not (reference.nunique() == 1 and current.nunique() == 1):
            first = sorted(evidently_utils.get_unique_not_nan_values_list_from_series(current, reference))[0]
            to01 = lambda series: series.apply(lambda x: 0 if x == first else 1)  # noqa: E731 - as Evidently
            result["zStatistic"] = float(proportions_diff_z_stat_ind(to01(reference), to01(current)))
    if case["kind"] == "numeric":
        combined = np.asarray(pd.concat([reference, current]).values)
        result["sturgesEdges"] = [float(v) for v in np.histogram_bin_edges(combined, bins="sturges")]
        result["wasserstein"] = float(stats.wasserstein_distance(reference, current))
        result["wassersteinNorm"] = float(_wasserstein_distance_norm(reference, current, kind, 0.1)[0])
        result["referenceStd"] = float(np.std(reference))
        if max(len(reference), len(current)) <= 10_000:  # where ks_2samp's 'auto' is exact
            ks = stats.ks_2samp(reference, current)
            result["ksStatistic"] = float(ks.statistic)
            result["ksPValue"] = float(ks.pvalue)
        if reference.nunique() > 20:  # binned, not per value: where a bin count means something
            with bins_asked(10):
                result["psiBins10"] = float(_psi(reference, current, kind, 0.1)[0])
                result["jensenshannonBins10"] = float(_jensenshannon(reference, current, kind, 0.1)[0])
    return result


def json_safe(value):
    """JSON has no NaN: a statistic scipy leaves undefined is written as null."""
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_safe(item) for item in value]
    return value


def main() -> None:
    cases = datasets()
    for case in cases:
        case["expected"] = json_safe(statistics_of(case))
    special_functions = {
        "gammaln": [[x, float(special.gammaln(x))] for x in (0.5, 1.0, 1.5, 2.5, 3.7, 10.0, 49.5, 171.3, 1234.5)],
        "chi2Sf": [[x, df, float(stats.chi2.sf(x, df))] for x, df in ((0.5, 1), (3.3, 7), (12.0, 3), (40.0, 2), (120.0, 99), (800.0, 3), (2.0, 30), (60.0, 30), (1500.0, 999))],
        "normCdf": [[z, float(stats.norm.cdf(z))] for z in (-8.0, -3.2, -1.0, -0.3, 0.0, 0.5, 0.7071, 1.0, 2.5, 6.0, 9.0)],
    }
    fixture = {
        "generatedBy": "scripts/reference_distances.py",
        "versions": {name: version(name) for name in ("evidently", "scipy", "numpy", "pandas")},
        "python": sys.version.split()[0],
        "specialFunctions": special_functions,
        "cases": cases,
    }
    # One case per line: readable diffs without a line per number.
    lines = ",\n  ".join(json.dumps(case, separators=(",", ":")) for case in cases)
    header = json.dumps({key: value for key, value in fixture.items() if key != "cases"}, separators=(",", ":"))[:-1]
    OUT.write_text(f'{header}, "cases": [\n  {lines}\n]}}\n')
    print(f"wrote {OUT} ({len(cases)} cases, {OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
