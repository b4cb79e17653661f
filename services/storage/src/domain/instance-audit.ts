import type { InstanceEvent, InstanceEventInput, InstanceEventType, Principal, ProcessHistoryItem } from '@forms/contracts';
import { requireRole } from './authorization';
import { StorageErrors } from './errors';
import { instanceEvent } from './events';
import type { InstanceRef, InstanceService } from './instance-service';
import { eventPages } from './event-pages';
import type { StorageContext } from './storage-context';

const PROCESS_EVENTS: InstanceEventType[] = ['process_StartEvent', 'process_StartTask', 'process_EndTask', 'process_AbandonTask', 'process_EndEvent'];

/** The audit log of an instance as Altinn's InstanceEvents and Process controllers show it. */
export class InstanceAudit {
  constructor(
    private readonly ctx: StorageContext,
    private readonly instances: InstanceService,
  ) {}

  /**
   * An event the app records itself (Altinn's POST .../events), e.g. `Signed`. Only the app acting for the party
   * writes to the audit log (ADR 0012): storage sets the event's id, instance, owner and user, never the caller.
   */
  async record(principal: Principal, ref: InstanceRef, input: InstanceEventInput): Promise<InstanceEvent> {
    const { instance, role } = await this.instances.getWithRole(principal, ref, 'write');
    requireRole(role, ['app'], 'record instance events');
    const dataId = input.dataId?.toLowerCase();
    if (dataId !== undefined && !instance.data.some((element) => element.id === dataId)) throw StorageErrors.dataElementNotFound();
    const event = instanceEvent(input.eventType, instance, principal, this.ctx.clock(), {
      ...(dataId !== undefined && { dataId }),
      ...(input.processInfo !== undefined && { processInfo: input.processInfo }),
    });
    await this.ctx.store.events.insert(event);
    return event;
  }

  async get(principal: Principal, ref: InstanceRef, eventId: string): Promise<InstanceEvent> {
    const instance = await this.instances.get(principal, ref, 'read');
    const event = await this.ctx.store.events.get(instance.id, eventId.toLowerCase());
    if (!event) throw StorageErrors.eventNotFound();
    return event;
  }

  /** Altinn's process history: one item per process event, oldest first. */
  async processHistory(principal: Principal, ref: InstanceRef): Promise<ProcessHistoryItem[]> {
    const instance = await this.instances.get(principal, ref, 'read');
    const history: ProcessHistoryItem[] = [];
    for await (const page of eventPages(this.ctx.store.events, instance.id, { eventTypes: PROCESS_EVENTS })) history.push(...page.map(historyItem));
    return history;
  }
}

/** One process event as Altinn's ProcessHistoryItem tells it: by the element it concerns, absent members as null. */
function historyItem(event: InstanceEvent): ProcessHistoryItem {
  const info = event.processInfo ?? {};
  const task = info.currentTask;
  const performedBy = event.user.userId ?? event.user.systemId ?? event.user.orgId ?? null;
  const base = { eventType: event.eventType, occured: event.created, performedBy };
  switch (event.eventType) {
    case 'process_StartEvent':
      return { ...base, elementId: info.startEvent ?? null, started: info.started ?? null, ended: null };
    case 'process_EndEvent':
      return { ...base, elementId: info.endEvent ?? null, started: null, ended: info.ended ?? null };
    default:
      return { ...base, elementId: task?.elementId ?? null, started: task?.started ?? null, ended: task?.ended ?? (event.eventType === 'process_EndTask' ? event.created : null) };
  }
}
