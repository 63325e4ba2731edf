/**
 * The numeric form every built-in trainer takes: a dense, row-major design matrix (the output of
 * the fitted feature transforms) and a target vector. Classification targets are class indices
 * 0..K-1 (classes in sorted label order); regression targets are the values.
 */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  /** Row i, column j is data[i * cols + j]. */
  readonly data: Float64Array;
}

export function matrix(rows: number, cols: number, data = new Float64Array(rows * cols)): Matrix {
  if (data.length !== rows * cols) throw new Error(`a ${rows}x${cols} matrix needs ${rows * cols} values, got ${data.length}`);
  return { rows, cols, data };
}

/** Builds a matrix from nested arrays (tests, small inputs). */
export function fromRows(values: readonly (readonly number[])[]): Matrix {
  const cols = values[0]?.length ?? 0;
  const data = new Float64Array(values.length * cols);
  values.forEach((row, i) => {
    if (row.length !== cols) throw new Error(`row ${i} has ${row.length} values, expected ${cols}`);
    data.set(row, i * cols);
  });
  return { rows: values.length, cols, data };
}

/** Row i as a view (no copy). */
export const rowOf = (x: Matrix, i: number): Float64Array => x.data.subarray(i * x.cols, (i + 1) * x.cols);

/** The rows at `indices`, in that order, as a new matrix. */
export function selectRows(x: Matrix, indices: readonly number[]): Matrix {
  const data = new Float64Array(indices.length * x.cols);
  indices.forEach((index, k) => data.set(rowOf(x, index), k * x.cols));
  return { rows: indices.length, cols: x.cols, data };
}

/** What a trainer reports about its fit; stored in the artifact and the run. */
export interface FitReport {
  readonly iterations: number;
  readonly converged: boolean;
  /** The training objective at the end (loss plus penalty), when the trainer has one. */
  readonly finalLoss?: number;
}
