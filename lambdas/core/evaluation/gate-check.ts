/** One check of the evaluation gate: shared by the absolute thresholds and the champion comparison. */

/** `insufficient`: too little evidence for a verdict; it passes under insufficientEvidence "warn" and fails under "block". */
export type CheckStatus = 'pass' | 'fail' | 'insufficient';

export interface GateCheck {
  readonly name: string;
  /** True for `pass`, and for `insufficient` under insufficientEvidence "warn". */
  readonly passed: boolean;
  readonly status: CheckStatus;
  /** The measured value; for a champion comparison, the observed difference (positive = candidate better). */
  readonly value: number | null;
  readonly threshold: string;
  readonly detail: string;
  /** The metric judged, for threshold and champion checks. */
  readonly metric?: string;
  /** The segment column and value a champion comparison was restricted to. */
  readonly segment?: { readonly column: string; readonly value: string };
  /** Champion comparison: the confidence interval of the difference (positive = candidate better). */
  readonly interval?: [number, number];
  /** Champion comparison: how far below 0 the interval's lower end may go, in the metric's units. */
  readonly tolerance?: number;
  /** Champion comparison: the candidate's and the production version's metric on the rows judged. */
  readonly candidate?: number;
  readonly champion?: number;
  /** Champion comparison: the held-out rows judged. */
  readonly rows?: number;
}
