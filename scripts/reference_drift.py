"""Reference verdicts for lambdas/core/monitoring/drift.ts, computed by Evidently 0.7.23.

Writes test/fixtures/drift.json: seeded datasets (the exact rows, so both sides compute on the same
doubles) and what Evidently's data drift gives on them with its DEFAULT method selection: per column
the method it picked, its drift score (p-value or distance), its threshold and verdict, and the
dataset verdict (share of drifted columns >= 0.5). The unit test test/unit/drift.test.ts runs
checkDrift on the same rows and compares.

It runs Evidently's legacy DataDriftTable and DatasetDriftMetric, which is what DataDriftPreset's
DriftedColumnsCount and ValueDrift delegate to in 0.7.x, and checks the new API's DataDriftPreset
gives the same share of drifted columns.

Runs in a scratch virtualenv, never in the platform (Evidently 0.7.23 needs pandas < 3):

    python3 -m venv /tmp/evvenv
    /tmp/evvenv/bin/pip install evidently==0.7.23 'pandas<3'
    /tmp/evvenv/bin/python scripts/reference_drift.py
"""

from __future__ import annotations

import json
import math
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

from evidently import DataDefinition, Dataset, Report as NewReport
from evidently.legacy.metrics import DataDriftTable, DatasetDriftMetric
from evidently.legacy.pipeline.column_mapping import ColumnMapping
from evidently.legacy.report import Report
from evidently.presets import DataDriftPreset

OUT = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "drift.json"

# Evidently's display names -> the method names of the spec (DRIFT_METHODS).
METHODS = {
    "K-S p_value": "ks",
    "chi-square p_value": "chisquare",
    "Z-test p_value": "z",
    "Wasserstein distance (normed)": "wasserstein",
    "Jensen-Shannon distance": "jensenshannon",
    "PSI": "psi",
}


def rounded(values, decimals: int = 6) -> list:
    """Short decimals keep the fixture small; the rounded doubles are the data both sides use."""
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else float(round(v, decimals)) for v in values]


def with_missing(rng: np.random.Generator, values: list, count: int) -> list:
    """`count` values replaced by a missing one (None), at seeded positions."""
    values = list(values)
    for i in rng.choice(len(values), count, replace=False):
        values[i] = None
    return values


def small_reference(rng: np.random.Generator) -> dict:
    """A reference of at most 1,000 rows: KS, chi-square (numeric with 3-5 values, categorical) and Z."""
    n, m = 600, 500
    columns = {
        "age": ("numeric", with_missing(rng, rounded(rng.normal(40, 10, n)), 25), with_missing(rng, rounded(rng.normal(44, 10, m)), 40)),
        "income": ("numeric", rounded(rng.lognormal(10, 0.5, n)), rounded(rng.lognormal(10, 0.5, m))),
        "rooms": ("numeric", [float(v) for v in rng.integers(1, 5, n)], [float(v) for v in rng.choice([1, 2, 3, 4], m, p=[0.1, 0.2, 0.3, 0.4])]),
        "plan": ("categorical", [str(v) for v in rng.choice(["basic", "plus", "pro"], n, p=[0.5, 0.3, 0.2])], [str(v) for v in rng.choice(["basic", "plus", "pro", "enterprise"], m, p=[0.45, 0.3, 0.2, 0.05])]),
        "region": ("categorical", with_missing(rng, [str(v) for v in rng.choice(["n", "s", "e", "w"], n)], 30), [str(v) for v in rng.choice(["n", "s", "e", "w"], m)]),
        "churned_before": ("categorical", [str(v) for v in rng.choice(["yes", "no"], n, p=[0.2, 0.8])], [str(v) for v in rng.choice(["yes", "no"], m, p=[0.35, 0.65])]),
        "promo": ("numeric", [float(v) for v in rng.integers(0, 2, n)], [float(v) for v in rng.integers(0, 2, m)]),
        "score": ("numeric", rounded(rng.beta(2, 5, n)), rounded(rng.beta(2.4, 5, m))),
    }
    return {"name": "reference of 600 rows (p-value tests)", "columns": columns}


def large_reference(rng: np.random.Generator) -> dict:
    """A reference above 1,000 rows: Wasserstein (numeric with more than 5 values) and Jensen-Shannon (everything else)."""
    n, m = 3000, 2000
    columns = {
        "x_shifted": ("numeric", rounded(rng.normal(0, 1, n)), rounded(rng.normal(0.4, 1, m))),
        "x_same": ("numeric", with_missing(rng, rounded(rng.normal(5, 2, n)), 100), rounded(rng.normal(5, 2, m))),
        "visits": ("numeric", [float(v) for v in rng.integers(0, 10, n)], [float(v) for v in rng.integers(0, 12, m)]),
        "tier": ("numeric", [float(v) for v in rng.choice([0, 1, 2], n, p=[0.5, 0.3, 0.2])], [float(v) for v in rng.choice([0, 1, 2], m, p=[0.3, 0.3, 0.4])]),
        "color": ("categorical", [str(v) for v in rng.choice(["red", "green", "blue", "black"], n, p=[0.4, 0.3, 0.2, 0.1])], [str(v) for v in rng.choice(["red", "green", "blue", "black"], m, p=[0.38, 0.32, 0.2, 0.1])]),
        "member": ("categorical", [str(v) for v in rng.choice(["yes", "no"], n, p=[0.3, 0.7])], [str(v) for v in rng.choice(["yes", "no"], m, p=[0.6, 0.4])]),
        "score": ("numeric", rounded(rng.beta(2, 5, n)), rounded(rng.beta(2, 5, m))),
    }
    return {"name": "reference of 3,000 rows (distances)", "columns": columns}


def edges(rng: np.random.Generator) -> dict:
    """The switches: n counted after NaN is dropped (1,005 rows, 10 missing -> 995 <= 1,000), u of exactly 5 and 6, one value on both sides."""
    n, m = 1005, 900
    columns = {
        "after_nan": ("numeric", with_missing(rng, rounded(rng.normal(0, 1, n)), 10), rounded(rng.normal(0.05, 1, m))),
        "full": ("numeric", rounded(rng.normal(0, 1, n)), rounded(rng.normal(0.05, 1, m))),
        "five_values": ("numeric", with_missing(rng, [float(v) for v in rng.integers(0, 5, n)], 10), [float(v) for v in rng.integers(0, 5, m)]),
        "six_values": ("numeric", with_missing(rng, [float(v) for v in rng.integers(0, 6, n)], 10), [float(v) for v in rng.integers(0, 6, m)]),
        "constant": ("categorical", with_missing(rng, ["a"] * n, 10), ["a"] * m),
        "one_new_value": ("categorical", with_missing(rng, ["a"] * n, 10), [str(v) for v in rng.choice(["a", "b"], m, p=[0.9, 0.1])]),
    }
    return {"name": "regime edges (n after NaN, u = 5 and 6)", "columns": columns}


def frame(columns: dict, side: int) -> pd.DataFrame:
    data = {}
    for name, (kind, *sides) in columns.items():
        values = sides[side]
        data[name] = pd.Series([np.nan if v is None else v for v in values], dtype=float) if kind == "numeric" else pd.Series(values, dtype=object)
    return pd.DataFrame(data)


def evidently_verdicts(case: dict) -> dict:
    columns = case["columns"]
    reference, current = frame(columns, 0), frame(columns, 1)
    numeric = [name for name, (kind, *_) in columns.items() if kind == "numeric"]
    categorical = [name for name, (kind, *_) in columns.items() if kind == "categorical"]
    mapping = ColumnMapping(target=None, prediction=None, numerical_features=numeric, categorical_features=categorical)
    report = Report(metrics=[DataDriftTable(), DatasetDriftMetric()])
    report.run(reference_data=reference, current_data=current, column_mapping=mapping)
    table, dataset = (metric["result"] for metric in report.as_dict()["metrics"])
    verdicts = {}
    for name in columns:
        column = table["drift_by_columns"][name]
        verdicts[name] = {
            "method": METHODS[column["stattest_name"]],
            "statistic": float(column["drift_score"]),
            "threshold": float(column["stattest_threshold"]),
            "drifted": bool(column["drift_detected"]),
            "referenceRows": int(reference[name].replace([np.inf, -np.inf], np.nan).dropna().shape[0]),
            "currentRows": int(current[name].replace([np.inf, -np.inf], np.nan).dropna().shape[0]),
        }
    # The new API's preset, on the same frames: its methods, scores and count of drifted columns must agree.
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    snapshot = NewReport([DataDriftPreset()]).run(Dataset.from_pandas(current, data_definition=definition), Dataset.from_pandas(reference, data_definition=definition))
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config["type"].endswith("DriftedColumnsCount"):
            assert int(metric["value"]["count"]) == dataset["number_of_drifted_columns"], (metric, dataset)
        elif config["type"].endswith("ValueDrift"):
            legacy = verdicts[config["column"]]
            assert METHODS[config["method"]] == legacy["method"] and config["threshold"] == legacy["threshold"], (config, legacy)
            assert metric["value"] == legacy["statistic"] or (math.isnan(metric["value"]) and math.isnan(legacy["statistic"])), (metric, legacy)
    return {
        "columns": verdicts,
        "dataset": {
            "columns": int(dataset["number_of_columns"]),
            "driftedColumns": int(dataset["number_of_drifted_columns"]),
            "share": float(dataset["share_of_drifted_columns"]),
            "drifted": bool(dataset["dataset_drift"]),
        },
    }


def main() -> None:
    rng = np.random.default_rng(20261206)
    cases = []
    for build in (small_reference, large_reference, edges):
        case = build(rng)
        expected = evidently_verdicts(case)
        cases.append(
            {
                "name": case["name"],
                "types": {name: kind for name, (kind, *_) in case["columns"].items()},
                "reference": {name: sides[0] for name, (_, *sides) in case["columns"].items()},
                "current": {name: sides[1] for name, (_, *sides) in case["columns"].items()},
                "expected": expected,
            }
        )
    fixture = {
        "generatedBy": "scripts/reference_drift.py",
        "versions": {name: version(name) for name in ("evidently", "scipy", "numpy", "pandas")},
        "python": sys.version.split()[0],
        "cases": cases,
    }
    # One case per line: readable diffs without a line per number.
    lines = ",\n  ".join(json.dumps(case, separators=(",", ":")) for case in cases)
    header = json.dumps({key: value for key, value in fixture.items() if key != "cases"}, separators=(",", ":"))[:-1]
    OUT.write_text(f'{header}, "cases": [\n  {lines}\n]}}\n')
    for case in cases:
        print(case["name"], json.dumps(case["expected"]["dataset"]))
        for name, verdict in case["expected"]["columns"].items():
            print(f"  {name:15} {verdict['method']:14} {verdict['statistic']:.6g} drifted={verdict['drifted']}")
    print(f"wrote {OUT} ({len(cases)} cases, {OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
