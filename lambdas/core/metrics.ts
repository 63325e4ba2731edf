export interface ClassificationMetrics {
  readonly accuracy: number;
  readonly rocAuc: number;
  readonly logLoss: number;
  readonly rows: number;
  /** Share of positive labels among the scored rows. */
  readonly positiveRate: number;
}

const EPSILON = 1e-15;

/**
 * ROC AUC as the probability that a random positive scores above a random negative
 * (Mann-Whitney U, ties counted as one half). Undefined with a single class: then NaN.
 */
export function rocAuc(labels: readonly number[], scores: readonly number[]): number {
  const order = scores.map((score, index) => ({ score, label: labels[index]! })).sort((a, b) => a.score - b.score);
  let positives = 0;
  let rankSum = 0;
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]!.score === order[i]!.score) j += 1;
    const averageRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k += 1) {
      if (order[k]!.label === 1) {
        positives += 1;
        rankSum += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Accuracy at threshold 0.5, ROC AUC and log loss for binary labels (0/1) and P(1). */
export function classificationMetrics(labels: readonly number[], probabilities: readonly number[]): ClassificationMetrics {
  if (labels.length !== probabilities.length) throw new Error(`${labels.length} labels but ${probabilities.length} predictions`);
  const rows = labels.length;
  if (rows === 0) throw new Error('no rows to score');
  let correct = 0;
  let logLoss = 0;
  let positives = 0;
  labels.forEach((label, i) => {
    const p = Math.min(Math.max(probabilities[i]!, EPSILON), 1 - EPSILON);
    if ((p >= 0.5 ? 1 : 0) === label) correct += 1;
    logLoss -= label === 1 ? Math.log(p) : Math.log(1 - p);
    positives += label;
  });
  return { accuracy: correct / rows, rocAuc: rocAuc(labels, probabilities), logLoss: logLoss / rows, rows, positiveRate: positives / rows };
}
