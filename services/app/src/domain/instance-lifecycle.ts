import type { Instance, SimpleInstance, Substatus } from '@forms/contracts';
import { loadInstance, type AppContext, type Caller } from './app-context';

/** The party's instances of this app whose process has not ended (Altinn's `GET instances/{partyId}/active`). */
export async function activeInstances(ctx: AppContext, caller: Caller, partyId: string): Promise<SimpleInstance[]> {
  const query = { appId: ctx.definition.metadata.id, 'instanceOwner.partyId': partyId, 'process.isComplete': 'false' };
  const active: SimpleInstance[] = [];
  for await (const instance of ctx.storage.queryAllInstances(caller.token, query)) {
    const texts = (instance as Instance & { presentationTexts?: Record<string, string> | null }).presentationTexts;
    active.push({
      id: instance.id,
      presentationTexts: texts ?? null,
      dueBefore: instance.dueBefore ?? null,
      lastChanged: instance.lastChanged,
      lastChangedBy: instance.lastChangedBy,
    });
  }
  return active;
}

/** The org confirms it has what it needs of the instance (storage's complete confirmation, idempotent). */
export async function confirmComplete(ctx: AppContext, caller: Caller, instanceId: string): Promise<Instance> {
  await loadInstance(ctx, caller, instanceId);
  return ctx.storage.confirmComplete(caller.token, instanceId);
}

export async function setSubstatus(ctx: AppContext, caller: Caller, instanceId: string, substatus: Substatus): Promise<Instance> {
  await loadInstance(ctx, caller, instanceId);
  return ctx.storage.setSubstatus(caller.token, instanceId, substatus);
}

/** Soft (or, for the org, hard: marked, removed by storage's cleanup later) deletion; storage decides who may. The instance as deleted. */
export async function deleteInstance(ctx: AppContext, caller: Caller, instanceId: string, hard: boolean): Promise<Instance> {
  await loadInstance(ctx, caller, instanceId);
  return ctx.storage.deleteInstance(caller.token, instanceId, { hard });
}
