import { parseModelSpec, type ModelSpec } from '../core/training/model-spec.js';
import { parseOrThrow } from '../core/errors.js';
import { StepStateSchema, type RunContext } from '../core/training/run.js';

/** Parses the state a pipeline step receives and the spec snapshot StartRun put in it. */
export function readStepState(event: unknown, step: string): { run: RunContext; spec: ModelSpec; state: Record<string, unknown> } {
  const { run } = parseOrThrow(StepStateSchema, event, `${step} input`);
  return { run, spec: parseModelSpec(run.spec), state: event as Record<string, unknown> };
}
