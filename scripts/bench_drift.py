"""numpy/scipy side of `npm run bench -- --only drift` (scripts/bench-drift.ts).

Reads the window's columns (float64, NaN missing; or fixed-width bytes, empty missing) and the
vectors the drift engine used (vectors.json: the references' values, its reservoir sample of the
window, the method it picked per column), loaded untimed. Timed: what the accumulator keeps per
column (missing count, min/max, exact value counts, a 10,000-row random sample, new categories and
out-of-range values against the large reference), then each statistic as Evidently 0.7.x computes
it, on the same vectors. Prints one JSON object: times, peak RSS, the statistics.

Runs in the training bench's pinned virtualenv (.bench/venv: numpy 2.4.6, scipy 1.17.1).
"""

import json
import os
import platform
import resource
import sys
import time

import numpy as np
import scipy
from scipy import stats
from scipy.spatial.distance import jensenshannon

SAMPLE = 10_000
EXACT_COUNTS_LIMIT = 1000


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def summarize(values, kind, reference, rng):
    """The accumulator's figures for one column of the window."""
    if kind == "numeric":
        clean = values[np.isfinite(values)]
    else:
        clean = values[values != b""]
    missing = values.size - clean.size
    keys, counts = np.unique(clean, return_counts=True)
    summary = {"missing": missing, "keys": keys, "counts": counts, "n": clean.size}
    if kind == "numeric":
        summary["min"], summary["max"] = clean.min(), clean.max()
        summary["out_of_range"] = int(np.count_nonzero((clean < reference.min()) | (clean > reference.max())))
    else:
        # Over the distinct values, not the rows: np.isin on 1M byte strings takes longer than np.unique.
        summary["new_categories"] = int(counts[~np.isin(keys, np.unique(reference))].sum())
    summary["sample"] = rng.choice(clean, size=min(SAMPLE, clean.size), replace=False)
    return summary


def counts_over(ref, window):
    """Reference and window counts over the keys either has (the window's exact counts)."""
    rk, rc = np.unique(ref, return_counts=True)
    keys = np.union1d(rk, window["keys"])
    r = np.zeros(keys.size)
    c = np.zeros(keys.size)
    r[np.searchsorted(keys, rk)] = rc
    c[np.searchsorted(keys, window["keys"])] = window["counts"]
    return keys, r, c


def statistic(method, kind, ref, window, sample):
    if method == "ks":
        return float(stats.ks_2samp(ref, sample).pvalue)
    if method == "wasserstein":
        return float(stats.wasserstein_distance(ref, sample) / max(np.std(ref), 0.001))
    if method == "jensenshannon" and kind == "numeric" and np.unique(ref).size > 20:
        edges = np.histogram_bin_edges(np.concatenate([ref, sample]), bins="sturges")
        r = np.histogram(ref, edges)[0] / ref.size
        c = np.histogram(sample, edges)[0] / sample.size
        return float(jensenshannon(r, c))
    keys, r, c = counts_over(ref, window)
    if method == "jensenshannon":
        return float(jensenshannon(r / r.sum(), c / c.sum()))
    if method == "chisquare":
        with np.errstate(divide="ignore", invalid="ignore"):
            p = stats.chisquare(c, r * (c.sum() / r.sum())).pvalue
        return None if not np.isfinite(p) else float(p)
    if method == "z":
        if keys.size == 1:
            return 1.0
        n1, n2 = r.sum(), c.sum()
        p1, p2 = (n1 - r[0]) / n1, (n2 - c[0]) / n2
        pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
        z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        return float(2 * (1 - stats.norm.cdf(abs(z))))
    raise ValueError(method)


def main():
    out_dir = sys.argv[1]
    base = rss_mb()
    meta = json.load(open(os.path.join(out_dir, "vectors.json")))
    columns = {}
    for column in meta["columns"]:
        path = os.path.join(out_dir, "columns", column["name"] + ".bin")
        dtype = np.float64 if column["type"] == "numeric" else f"S{meta['categoryBytes']}"
        columns[column["name"]] = np.fromfile(path, dtype=dtype)
        assert columns[column["name"]].size == meta["rows"], column["name"]

    def vector(values, kind):
        return np.array(values, dtype=np.float64) if kind == "numeric" else np.array([v.encode() for v in values], dtype=f"S{meta['categoryBytes']}")

    refs = {c["name"]: {"large": vector(c["large"], c["type"]), "small": vector(c["small"], c["type"])} for c in meta["columns"]}
    samples = {c["name"]: vector(c["sample"], c["type"]) for c in meta["columns"]}
    loaded = rss_mb()

    rng = np.random.default_rng(1)
    cpu = time.process_time()
    started = time.perf_counter()
    windows = {c["name"]: summarize(columns[c["name"]], c["type"], refs[c["name"]]["large"], rng) for c in meta["columns"]}
    summaries = time.perf_counter() - started

    started = time.perf_counter()
    results = {"large": {}, "small": {}}
    for regime in ("large", "small"):
        for column in meta["columns"]:
            name = column["name"]
            method = meta["methods"][regime][name]["method"]
            results[regime][name] = statistic(method, column["type"], refs[name][regime], windows[name], samples[name])
    statistics = time.perf_counter() - started
    cpu = time.process_time() - cpu

    print(
        json.dumps(
            {
                "seconds": {"summaries": summaries, "statistics": statistics, "total": summaries + statistics},
                "cpuSeconds": cpu,
                "maxRssMb": rss_mb(),
                "baseRssMb": base,
                "loadedRssMb": loaded,
                "versions": {"numpy": np.__version__, "scipy": scipy.__version__, "python": platform.python_version()},
                "statistics": results,
            }
        )
    )


if __name__ == "__main__":
    main()
