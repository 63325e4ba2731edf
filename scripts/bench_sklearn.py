"""scikit-learn's side of the training benchmark (scripts/bench-training.ts).

Reads one JSON file of cases written by the TypeScript side: each case is a table (header, rows),
the feature lists, the encoded target (class indices or values) and the exact train/test row
indices our splitRows chose. For each case it builds the pipeline our transforms mirror

    numeric:     SimpleImputer(median) -> StandardScaler
    categorical: SimpleImputer(constant "__missing__") -> OneHotEncoder(handle_unknown="ignore")

followed by LogisticRegression / Ridge / HistGradientBoosting*, fits it on the train rows, times
the fit, and scores the test rows. It also scores *our* test predictions with scikit-learn's
metric functions and compares our design matrix with the ColumnTransformer's, so a gap can be
told apart from a metric or preprocessing mismatch.

Prints one JSON object to stdout. Runs only in the benchmark's virtualenv (.bench/venv):
scikit-learn is never a runtime dependency of the platform.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import warnings

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
    root_mean_squared_error,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

MISSING_CATEGORY = "__missing__"
UNKNOWN_CATEGORY = "__unknown__"


def frame(case: dict) -> pd.DataFrame:
    """The table as a DataFrame: numeric features as float64 (missing -> NaN), categoricals as object."""
    header = case["header"]
    rows = case["rows"]
    columns = {}
    for feature in case["numeric"]:
        j = header.index(feature)
        columns[feature] = pd.Series([np.nan if r[j] is None else float(r[j]) for r in rows], dtype="float64")
    for feature in case["categorical"]:
        j = header.index(feature)
        # object dtype with NaN for missing: pandas 3 would otherwise infer its "str" dtype.
        columns[feature] = pd.Series([np.nan if r[j] is None else str(r[j]) for r in rows], dtype=object)
    return pd.DataFrame(columns)


def preprocessor(case: dict) -> ColumnTransformer:
    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="constant", fill_value=MISSING_CATEGORY)),
            ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]
    )
    transformers = [("num", numeric, case["numeric"])]
    if case["categorical"]:
        transformers.append(("cat", categorical, case["categorical"]))
    return ColumnTransformer(transformers, sparse_threshold=0.0)


def estimator(case: dict):
    algorithm, task, params = case["algorithm"], case["task"], case["params"]
    if algorithm == "logistic_regression":
        return LogisticRegression(C=params["C"], max_iter=1000)
    if algorithm == "ridge":
        return Ridge(alpha=params["alpha"])
    if algorithm == "gradient_boosting":
        common = dict(
            learning_rate=params["learningRate"],
            max_iter=params["maxIterations"],
            max_leaf_nodes=params["maxLeafNodes"],
            max_depth=params.get("maxDepth"),
            min_samples_leaf=params["minSamplesLeaf"],
            l2_regularization=params["l2Regularization"],
            max_bins=params["maxBins"],
            early_stopping=False,  # ours runs every round
            random_state=0,
        )
        return HistGradientBoostingRegressor(**common) if task == "regression" else HistGradientBoostingClassifier(**common)
    raise ValueError(f"no scikit-learn counterpart for {algorithm}")


def scores(task: str, classes: int, y: np.ndarray, out: np.ndarray) -> dict:
    """Metrics from predictions: class probabilities (n x K) or values (n)."""
    if task == "regression":
        return {
            "r2": float(r2_score(y, out)),
            "rmse": float(root_mean_squared_error(y, out)),
            "mae": float(mean_absolute_error(y, out)),
        }
    predicted = np.argmax(out, axis=1)
    labels = list(range(classes))
    result = {
        "accuracy": float(accuracy_score(y, predicted)),
        "logLoss": float(log_loss(y, out, labels=labels)),
    }
    if task == "binary_classification":
        result["f1"] = float(f1_score(y, predicted, pos_label=1, average="binary", zero_division=0))
        result["rocAuc"] = float(roc_auc_score(y, out[:, 1]))
    else:
        result["f1"] = float(f1_score(y, predicted, average="macro", zero_division=0))
    return result


def our_column(name: str, categorical: list[str]) -> str | None:
    """scikit-learn's output name for one of our output columns (None for our unknown-category column)."""
    if "=" in name:
        feature, _, category = name.partition("=")
        if feature in categorical:
            return None if category == UNKNOWN_CATEGORY else f"cat__{feature}_{category}"
    return f"num__{name}"


def design_difference(case: dict, fitted: ColumnTransformer, x: pd.DataFrame, ours: list[list[float]], names: list[str], rows: list[int]) -> dict:
    """Largest |ours - scikit-learn| over the design matrix, matching columns by name."""
    theirs = fitted.transform(x.iloc[rows])
    their_names = list(fitted.get_feature_names_out())
    index = {n: j for j, n in enumerate(their_names)}
    ours_arr = np.asarray(ours, dtype=float)
    worst = 0.0
    unmatched = []
    unknown_nonzero = 0
    for j, name in enumerate(names):
        mapped = our_column(name, case["categorical"])
        if mapped is None:
            unknown_nonzero += int(np.count_nonzero(ours_arr[:, j]))
            continue
        if mapped not in index:
            unmatched.append(name)
            continue
        worst = max(worst, float(np.max(np.abs(ours_arr[:, j] - theirs[:, index[mapped]]))))
    mapped_theirs = {our_column(n, case["categorical"]) for n in names}
    extra = [n for n in their_names if n not in mapped_theirs]
    return {"maxAbsDiff": worst, "oursOnly": unmatched, "theirsOnly": extra, "unknownOnes": unknown_nonzero}


def run_case(case: dict, repeats: int) -> dict:
    x = frame(case)
    y = np.asarray(case["y"], dtype=float)
    train, test = case["train"], case["test"]
    task = case["task"]
    classes = case.get("classes", 1)
    if task != "regression":
        y = y.astype(int)
    x_train, y_train = x.iloc[train], y[train]
    x_test, y_test = x.iloc[test], y[test]

    def make() -> Pipeline:
        return Pipeline([("pre", preprocessor(case)), ("model", estimator(case))])

    # One warm-up fit (imports, caches, thread pools), then the median of `repeats` timed fits.
    model = make().fit(x_train, y_train)
    times = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(repeats):
            model = make()
            started = time.perf_counter()
            model.fit(x_train, y_train)
            times.append(time.perf_counter() - started)
    fit_seconds = statistics.median(times)

    # The estimator alone, on the already transformed training matrix.
    transformed = model.named_steps["pre"].transform(x_train)
    estimator_times = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(repeats):
            alone = estimator(case)
            started = time.perf_counter()
            alone.fit(transformed, y_train)
            estimator_times.append(time.perf_counter() - started)

    fitted_model = model.named_steps["model"]
    info = {}
    n_iter = getattr(fitted_model, "n_iter_", None)  # None for Ridge's direct solvers
    if n_iter is not None:
        info["iterations"] = int(np.max(n_iter))
    converged = not any("ConvergenceWarning" in type(w.message).__name__ for w in caught)
    info["converged"] = converged

    out = model.predict(x_test) if task == "regression" else model.predict_proba(x_test)
    theirs = scores(task, classes, y_test, out)

    ours_out = np.asarray(case["ours"]["outputs"], dtype=float)
    if task == "regression":
        ours_out = ours_out[:, 0]
    ours_rescored = scores(task, classes, y_test, ours_out)

    design = {
        "train": design_difference(case, model.named_steps["pre"], x, case["ours"]["trainDesign"], case["ours"]["outputNames"], train),
        "test": design_difference(case, model.named_steps["pre"], x, case["ours"]["testDesign"], case["ours"]["outputNames"], test),
    }
    # How often the two models pick a different class / how far apart their predictions are.
    if task == "regression":
        agreement = {"maxAbsPredictionDiff": float(np.max(np.abs(out - ours_out)))}
    else:
        agreement = {
            "disagreements": int(np.count_nonzero(np.argmax(out, axis=1) != np.argmax(ours_out, axis=1))),
            "maxAbsProbabilityDiff": float(np.max(np.abs(out - ours_out))),
        }
    return {
        "id": case["id"],
        "fitSeconds": fit_seconds,
        "fitTimes": times,
        "estimatorSeconds": statistics.median(estimator_times),
        "metrics": theirs,
        "oursRescored": ours_rescored,
        "design": design,
        "agreement": agreement,
        **info,
    }


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as handle:
        payload = json.load(handle)
    repeats = int(payload.get("repeats", 5))
    results = [run_case(case, repeats) for case in payload["cases"]]
    try:
        from threadpoolctl import threadpool_info

        pools = [f'{p.get("internal_api")}:{p.get("num_threads")}' for p in threadpool_info()]
    except Exception:  # noqa: BLE001 - informational only
        pools = []
    json.dump(
        {
            "python": sys.version.split()[0],
            "sklearn": sklearn.__version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "threadpools": pools,
            "results": results,
        },
        sys.stdout,
        allow_nan=False,
    )


if __name__ == "__main__":
    main()
