import './lambda-env.js';
import { describe, expect, it } from 'vitest';
import { createHandler, PHYSICAL_RESOURCE_ID } from '../../../lambdas/declare-models/handler.js';
import { ConflictError, InputValidationError } from '../../../lambdas/core/errors.js';
import { DECLARE_ACTOR } from '../../../lambdas/core/registry/declare-models.js';
import type { ModelSpec } from '../../../lambdas/core/training/model-spec.js';
import { MemoryModelSchedules, MemoryRegistry } from '../fakes.js';
import { creditSpec, rejectedWith, smallSpec } from '../helpers.js';

/** The registry's spec reads and writes with drift schedules in memory, as the handler's stores. */
const declared = (registry: MemoryRegistry, schedules = new MemoryModelSchedules()) => ({ findModel: registry.findModel.bind(registry), putModel: registry.putModel.bind(registry), schedules });

const event = (RequestType: string, specs: unknown) => ({ RequestType, ResourceProperties: { Specs: typeof specs === 'string' ? specs : JSON.stringify(specs) } });

/** A registry whose first `conflicts` spec writes lose a race with a registration. */
class RacingRegistry extends MemoryRegistry {
  attempts = 0;
  constructor(private conflicts: number) {
    super();
  }

  override async putModel(spec: ModelSpec, actor: string) {
    this.attempts += 1;
    if (this.conflicts > 0) {
      this.conflicts -= 1;
      throw new ConflictError('the model record changed');
    }
    return super.putModel(spec, actor);
  }
}

describe('the DeclareModels handler', () => {
  it('writes declared specs once, as the deploy, and counts what it created, updated and left alone', async () => {
    const registry = new MemoryRegistry();
    const handler = createHandler(declared(registry));
    const small = smallSpec();
    const credit = creditSpec();
    expect(await handler(event('Create', [small, credit]))).toEqual({ PhysicalResourceId: PHYSICAL_RESOURCE_ID, Data: { Created: 2, Updated: 0, Unchanged: 0 } });
    expect(registry.audit.map((e) => [e.model, e.action, e.actor])).toEqual([
      [small.name, 'model.created', DECLARE_ACTOR],
      [credit.name, 'model.created', DECLARE_ACTOR],
    ]);

    const changed = smallSpec({ training: { ...small.training, seed: 99 } });
    expect(await handler(event('Update', [changed, credit]))).toMatchObject({ Data: { Created: 0, Updated: 1, Unchanged: 1 } });
    expect((await registry.getModel(small.name)).spec.training.seed).toBe(99);
    expect(registry.audit).toHaveLength(3);
  });

  it('leaves the registry alone on Delete', async () => {
    const registry = new MemoryRegistry();
    expect(await createHandler(declared(registry))(event('Delete', 'not even JSON'))).toEqual({ PhysicalResourceId: PHYSICAL_RESOURCE_ID });
    expect(registry.models.size).toBe(0);
  });

  it('reads again and retries a write lost to a registration, and gives up after three', async () => {
    const twice = new RacingRegistry(2);
    expect(await createHandler(declared(twice))(event('Create', [smallSpec()]))).toMatchObject({ Data: { Created: 1 } });
    expect(twice.attempts).toBe(3);
    const always = new RacingRegistry(3);
    await rejectedWith(createHandler(declared(always))(event('Create', [smallSpec()])), ConflictError);
    expect(always.models.size).toBe(0);
  });

  it('refuses Specs that are not a JSON array of valid specs, naming the field', async () => {
    const handler = createHandler(declared(new MemoryRegistry()));
    expect((await rejectedWith(handler(event('Create', '{')), InputValidationError)).field).toBe('Specs');
    expect((await rejectedWith(handler(event('Create', { name: 'x' })), InputValidationError)).field).toBe('Specs');
    expect((await rejectedWith(handler(event('Create', [{ ...smallSpec(), task: 'clustering' }])), InputValidationError)).field).toBe('task');
  });
});
