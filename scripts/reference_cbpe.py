"""Reference values for lambdas/core/monitoring/cbpe.ts, computed by NannyML 0.13.1's CBPE.

Writes test/fixtures/cbpe.json: seeded vectors (the exact doubles, so both sides compute on the same
values) of a held-out split (P(positive) and the true label) and of an analysis window (P(positive)
only), and what NannyML's CBPE estimates on the window after fitting on the held-out split: expected
accuracy, F1 and ROC AUC, plus the isotonic calibrator's output on the window. The unit test
test/unit/cbpe.test.ts runs the TypeScript estimate on the same vectors and compares.

The predicted class is P(positive) > 0.5, as serving answers (core/serving/predict.ts toPrediction).
The held-out scores are deliberately over- or under-confident, so NannyML's needs_calibration check
(a cross-validated ECE comparison with a numpy-seeded StratifiedShuffleSplit, which the platform does
not reproduce: it always calibrates) also decides to calibrate; the script asserts it did.

Runs in a scratch virtualenv, never in the platform:

    python3.11 -m venv /tmp/h-perf-venv
    /tmp/h-perf-venv/bin/pip install nannyml==0.13.1 statsmodels==0.14.5 pandas==2.3.3

(nannyml 0.13.1 imports statsmodels without declaring it, and its pandas pin lets pandas 3 in, which it
was not released against.)
    /tmp/h-perf-venv/bin/python scripts/reference_cbpe.py

Versions it was made with are written into the fixture (nannyml 0.13.1, scikit-learn, numpy, pandas).
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

import nannyml as nml
from nannyml.calibration import IsotonicCalibrator

OUT = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "cbpe.json"


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def case(name: str, seed: int, n_ref: int, n_ana: int, sharpness: float, shift: float) -> dict:
    """Labels drawn from true probabilities; the model's score distorts them by `sharpness` (logit scale)."""
    rng = np.random.default_rng(seed)

    def draw(n: int, mean_shift: float):
        z = rng.normal(mean_shift, 1.5, n)
        p_true = sigmoid(z)
        y = (rng.random(n) < p_true).astype(int)
        score = sigmoid(sharpness * z)
        return np.round(score, 12), y

    ref_p, ref_y = draw(n_ref, 0.0)
    ana_p, ana_y = draw(n_ana, shift)
    reference = pd.DataFrame({"p": ref_p, "y_pred": (ref_p > 0.5).astype(int), "y": ref_y})
    analysis = pd.DataFrame({"p": ana_p, "y_pred": (ana_p > 0.5).astype(int)})

    estimator = nml.CBPE(
        y_pred_proba="p",
        y_pred="y_pred",
        y_true="y",
        problem_type="classification_binary",
        metrics=["roc_auc", "f1", "accuracy"],
        chunk_number=1,
    )
    estimator.fit(reference)
    if not estimator.needs_calibration:
        sys.exit(f"case {name}: NannyML chose not to calibrate; pick more distorted scores")
    result = estimator.estimate(analysis).filter(period="analysis").to_df()
    estimated = {
        metric: float(result[(column, "value")].iloc[0])
        for metric, column in [("rocAuc", "roc_auc"), ("f1", "f1"), ("accuracy", "accuracy")]
    }
    calibrator = IsotonicCalibrator()
    calibrator.fit(ref_p, ref_y)
    calibrated = calibrator.calibrate(ana_p)
    # The same calibrator NannyML fitted gives the same values (checks the reading of its internals).
    assert np.array_equal(calibrated, estimator.calibrator.calibrate(ana_p))
    return {
        "name": name,
        "heldOut": {"scores": ref_p.tolist(), "labels": ref_y.tolist()},
        "window": {"scores": ana_p.tolist(), "labels": ana_y.tolist()},
        "calibrated": calibrated.tolist(),
        "estimated": estimated,
    }


def main() -> None:
    cases = [
        case("overconfident", seed=7, n_ref=600, n_ana=400, sharpness=2.5, shift=0.0),
        case("underconfident-shifted", seed=11, n_ref=1500, n_ana=900, sharpness=0.4, shift=0.8),
        case("small", seed=3, n_ref=120, n_ana=80, sharpness=3.0, shift=-0.5),
    ]
    fixture = {
        "generator": "scripts/reference_cbpe.py",
        "versions": {pkg: version(pkg) for pkg in ["nannyml", "scikit-learn", "numpy", "pandas"]},
        "cases": cases,
    }
    OUT.write_text(json.dumps(fixture, indent=1) + "\n")
    print(f"wrote {OUT}: " + ", ".join(f"{c['name']} {c['estimated']}" for c in cases))


if __name__ == "__main__":
    main()
