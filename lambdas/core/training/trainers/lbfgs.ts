/**
 * Limited-memory BFGS for smooth unconstrained minimization, with a strong-Wolfe line search
 * (bracketing, then zooming with safeguarded cubic interpolation).
 *
 * Everything is plain arithmetic in a fixed order over typed arrays: the same objective, start
 * and options always give the same bits.
 */

/**
 * The objective: returns f(w) and writes the gradient of f at w into `grad` (same length as w).
 * It must not keep or modify `w`.
 */
export type Objective = (w: Float64Array, grad: Float64Array) => number;

export interface LbfgsOptions {
  /** The most iterations (accepted steps) to take. */
  readonly maxIterations: number;
  /**
   * Converged once max|grad| <= tolerance * max(1, max|grad at w0|): the gradient's infinity norm,
   * relative to where it started (absolute when the start's gradient is below 1).
   */
  readonly tolerance: number;
  /** How many curvature pairs to remember; 10 unless given. */
  readonly memory?: number;
}

export interface LbfgsResult {
  readonly w: Float64Array;
  /** Accepted steps taken. */
  readonly iterations: number;
  /** True when the gradient test passed; false when iterations ran out or no step could decrease f. */
  readonly converged: boolean;
  /** f at the returned w. */
  readonly value: number;
}

// Sufficient decrease and curvature constants of the Wolfe conditions: the usual quasi-Newton choice.
const ARMIJO = 1e-4;
const CURVATURE = 0.9;
/** Function evaluations one line search may spend. */
const MAX_LINE_SEARCH_EVALUATIONS = 30;
/**
 * Near the optimum the decrease a step can make drops below the rounding error of f itself, and
 * the sufficient-decrease test becomes a coin toss. A step whose f is within this fraction of |f|
 * of the start is then judged by its slope alone (the approximate Wolfe conditions of Hager and
 * Zhang): the gradient is still accurate long after f differences are noise.
 */
const VALUE_NOISE = 1e-10;

const dot = (a: Float64Array, b: Float64Array): number => {
  let sum = 0;
  for (let i = 0; i < a.length; i += 1) sum += a[i]! * b[i]!;
  return sum;
};

const maxAbs = (a: Float64Array): number => {
  let m = 0;
  for (let i = 0; i < a.length; i += 1) {
    const v = Math.abs(a[i]!);
    if (v > m || Number.isNaN(v)) m = v;
  }
  return m;
};

/**
 * The minimizer, on [lo, hi] (either order), of the cubic through (a, fa) and (b, fb) with slopes
 * da and db; NaN when that cubic has no interior minimizer.
 */
function cubicMinimizer(a: number, fa: number, da: number, b: number, fb: number, db: number): number {
  const d1 = da + db - (3 * (fa - fb)) / (a - b);
  const radicand = d1 * d1 - da * db;
  if (!(radicand >= 0)) return Number.NaN;
  const d2 = Math.sign(b - a) * Math.sqrt(radicand);
  return b - ((b - a) * (db + d2 - d1)) / (db - da + 2 * d2);
}

/** Mutable state of one line search along `direction` from `w`. */
interface LineSearchBuffers {
  readonly trialW: Float64Array;
  readonly trialGrad: Float64Array;
  /** The best accepted-so-far point (always satisfies sufficient decrease), and its gradient. */
  readonly bestW: Float64Array;
  readonly bestGrad: Float64Array;
}

/**
 * Looks for a step t > 0 along `direction` meeting the strong Wolfe conditions, or their
 * approximate form near the optimum (bracketing and zoom after Nocedal and Wright, algorithms
 * 3.5 and 3.6). On success the new point and its gradient are in bestW and
 * bestGrad and the function value is returned; when no step decreases f enough, returns NaN.
 */
function lineSearch(
  f: Objective,
  w: Float64Array,
  value: number,
  slope: number,
  direction: Float64Array,
  initialStep: number,
  buffers: LineSearchBuffers,
): number {
  const { trialW, trialGrad, bestW, bestGrad } = buffers;
  const n = w.length;
  const wolfeSlope = -CURVATURE * slope;
  const noise = VALUE_NOISE * Math.max(1, Math.abs(value));
  let evaluations = 0;

  /** f and its slope along the direction at step t; the point and gradient land in trialW/trialGrad. */
  const evaluate = (t: number): [number, number] => {
    for (let i = 0; i < n; i += 1) trialW[i] = w[i]! + t * direction[i]!;
    evaluations += 1;
    let ft = f(trialW, trialGrad);
    if (!Number.isFinite(ft)) ft = Number.POSITIVE_INFINITY;
    return [ft, dot(trialGrad, direction)];
  };
  const keepTrial = () => {
    bestW.set(trialW);
    bestGrad.set(trialGrad);
  };
  const armijoFails = (t: number, ft: number) => ft > value + ARMIJO * t * slope;
  // Accept on the curvature condition with f no higher than the start, give or take rounding: this
  // covers the strong Wolfe conditions (Armijo implies f < start) and their approximate form, in
  // which strong curvature |slope| <= c2 |slope0| stands in for the derivative form of sufficient
  // decrease once f differences are lost in rounding.
  const acceptable = (ft: number, st: number) => ft <= value + noise && Math.abs(st) <= wolfeSlope;

  // Bracketing: grow the step until it overshoots or the slope turns.
  let loT = 0;
  let loF = value;
  let loSlope = slope;
  let hiT = Number.NaN;
  let hiF = Number.NaN;
  let hiSlope = Number.NaN;
  let haveBest = false;
  let t = initialStep;
  for (;;) {
    const [ft, st] = evaluate(t);
    if (acceptable(ft, st)) {
      keepTrial();
      return ft;
    }
    if (armijoFails(t, ft) || (evaluations > 1 && ft >= loF)) {
      hiT = t;
      hiF = ft;
      hiSlope = st;
      break;
    }
    keepTrial();
    haveBest = true;
    if (st >= 0) {
      // Past the minimum along the line: the bracket is [t, previous lo].
      hiT = loT;
      hiF = loF;
      hiSlope = loSlope;
      loT = t;
      loF = ft;
      loSlope = st;
      break;
    }
    loT = t;
    loF = ft;
    loSlope = st;
    if (evaluations >= MAX_LINE_SEARCH_EVALUATIONS) return loF;
    t *= 4;
  }

  // Zoom: shrink [lo, hi] keeping lo the best point that satisfies sufficient decrease.
  while (evaluations < MAX_LINE_SEARCH_EVALUATIONS) {
    const left = Math.min(loT, hiT);
    const width = Math.abs(hiT - loT);
    if (width <= 1e-16 * Math.max(1, Math.abs(loT))) break;
    let next = cubicMinimizer(loT, loF, loSlope, hiT, hiF, hiSlope);
    // Stay clear of the ends, so the bracket always shrinks by at least a tenth.
    if (Number.isFinite(next)) next = Math.min(Math.max(next, left + 0.1 * width), left + 0.9 * width);
    else next = left + 0.5 * width;
    const [ft, st] = evaluate(next);
    if (acceptable(ft, st)) {
      keepTrial();
      return ft;
    }
    if (armijoFails(next, ft) || ft >= loF) {
      hiT = next;
      hiF = ft;
      hiSlope = st;
      continue;
    }
    keepTrial();
    haveBest = true;
    if (st * (hiT - loT) >= 0) {
      hiT = loT;
      hiF = loF;
      hiSlope = loSlope;
    }
    loT = next;
    loF = ft;
    loSlope = st;
  }
  // Out of evaluations: settle for the best sufficient-decrease point, if there is one.
  return haveBest ? loF : Number.NaN;
}

/**
 * Minimizes `f` from `w0` (not modified) by L-BFGS. Stops when the gradient test passes, after
 * `maxIterations` steps, or when even a steepest-descent step cannot decrease f (then at the best
 * point found, with converged false unless the gradient test passes there).
 */
export function minimizeLbfgs(f: Objective, w0: Float64Array, options: LbfgsOptions): LbfgsResult {
  const { maxIterations, tolerance } = options;
  const memory = options.memory ?? 10;
  if (!Number.isInteger(maxIterations) || maxIterations < 0) throw new RangeError(`maxIterations must be a non-negative integer, got ${maxIterations}`);
  if (!(tolerance >= 0)) throw new RangeError(`tolerance must be non-negative, got ${tolerance}`);
  if (!Number.isInteger(memory) || memory < 1) throw new RangeError(`memory must be a positive integer, got ${memory}`);

  const n = w0.length;
  let w = Float64Array.from(w0);
  let grad = new Float64Array(n);
  let value = f(w, grad);
  if (!Number.isFinite(value)) throw new RangeError(`the objective is not finite at the start (${value})`);
  const threshold = tolerance * Math.max(1, maxAbs(grad));

  // Curvature pairs s = w_new - w, y = grad_new - grad in a ring of `memory` slots.
  const sHistory = new Float64Array(memory * n);
  const yHistory = new Float64Array(memory * n);
  const rho = new Float64Array(memory);
  const alphaScratch = new Float64Array(memory);
  let stored = 0;
  let newest = -1;

  const direction = new Float64Array(n);
  const buffers: LineSearchBuffers = { trialW: new Float64Array(n), trialGrad: new Float64Array(n), bestW: new Float64Array(n), bestGrad: new Float64Array(n) };
  let spareW = new Float64Array(n);
  let spareGrad = new Float64Array(n);

  let iterations = 0;
  let converged = maxAbs(grad) <= threshold;
  while (!converged && iterations < maxIterations) {
    // Two-loop recursion: direction = -H grad, H the limited-memory inverse Hessian estimate.
    direction.set(grad);
    for (let k = 0; k < stored; k += 1) {
      const slot = (newest - k + memory) % memory;
      const s = sHistory.subarray(slot * n, (slot + 1) * n);
      const y = yHistory.subarray(slot * n, (slot + 1) * n);
      const a = rho[slot]! * dot(s, direction);
      alphaScratch[slot] = a;
      for (let i = 0; i < n; i += 1) direction[i]! -= a * y[i]!;
    }
    if (stored > 0) {
      const s = sHistory.subarray(newest * n, (newest + 1) * n);
      const y = yHistory.subarray(newest * n, (newest + 1) * n);
      const gamma = dot(s, y) / dot(y, y);
      for (let i = 0; i < n; i += 1) direction[i]! *= gamma;
    }
    for (let k = stored - 1; k >= 0; k -= 1) {
      const slot = (newest - k + memory) % memory;
      const s = sHistory.subarray(slot * n, (slot + 1) * n);
      const y = yHistory.subarray(slot * n, (slot + 1) * n);
      const b = rho[slot]! * dot(y, direction);
      const a = alphaScratch[slot]!;
      for (let i = 0; i < n; i += 1) direction[i]! += (a - b) * s[i]!;
    }
    for (let i = 0; i < n; i += 1) direction[i] = -direction[i]!;

    let slope = dot(grad, direction);
    let steepest = stored === 0;
    if (!(slope < 0)) {
      // The memory no longer gives a descent direction (rounding): forget it and go downhill.
      stored = 0;
      steepest = true;
      for (let i = 0; i < n; i += 1) direction[i] = -grad[i]!;
      slope = dot(grad, direction);
      // A zero (or non-finite) gradient leaves nowhere to go.
      if (!(slope < 0)) break;
    }
    // The first step of a steepest-descent direction is scaled to unit length; quasi-Newton steps try 1.
    let initialStep = steepest ? 1 / Math.sqrt(-slope) : 1;
    let next = lineSearch(f, w, value, slope, direction, initialStep, buffers);
    if (Number.isNaN(next) && !steepest) {
      // Retry once from scratch along the negative gradient before giving up.
      stored = 0;
      for (let i = 0; i < n; i += 1) direction[i] = -grad[i]!;
      slope = dot(grad, direction);
      initialStep = 1 / Math.sqrt(-slope);
      next = lineSearch(f, w, value, slope, direction, initialStep, buffers);
    }
    if (Number.isNaN(next)) break;

    // Record the curvature pair, skipping it when it would not keep H positive definite.
    const slot = (newest + 1) % memory;
    const s = sHistory.subarray(slot * n, (slot + 1) * n);
    const y = yHistory.subarray(slot * n, (slot + 1) * n);
    for (let i = 0; i < n; i += 1) {
      s[i] = buffers.bestW[i]! - w[i]!;
      y[i] = buffers.bestGrad[i]! - grad[i]!;
    }
    const sy = dot(s, y);
    if (sy > 1e-12 * dot(y, y) && sy > 0) {
      rho[slot] = 1 / sy;
      newest = slot;
      stored = Math.min(stored + 1, memory);
    } else if (stored === memory) {
      // The rejected pair overwrote the oldest one: stop counting that slot.
      stored -= 1;
    }

    // Swap in the accepted point (no allocation per iteration).
    const oldW = w;
    const oldGrad = grad;
    w = spareW;
    grad = spareGrad;
    w.set(buffers.bestW);
    grad.set(buffers.bestGrad);
    spareW = oldW;
    spareGrad = oldGrad;
    value = next;
    iterations += 1;
    converged = maxAbs(grad) <= threshold;
  }
  return { w, iterations, converged, value };
}
