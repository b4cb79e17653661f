import type { Instance } from '@forms/contracts';

/**
 * The queried columns of an instance, copied from the document itself so they can never disagree with it; `json` is
 * the document's JSON when the caller has it (InstanceWrite.json).
 */
export function instanceRow(guid: string, instance: Instance, json = JSON.stringify(instance)) {
  const bit = (value: boolean | undefined) => (value ? 1 : 0);
  return {
    guid,
    app_id: instance.appId,
    org: instance.org,
    party_id: instance.instanceOwner.partyId,
    last_changed: instance.lastChanged,
    created: instance.created,
    due_before: instance.dueBefore ?? null,
    visible_after: instance.visibleAfter ?? null,
    current_task: instance.process.currentTask?.elementId ?? null,
    is_complete: bit(instance.process.ended != null),
    end_event: instance.process.endEvent ?? null,
    is_archived: bit(instance.status.isArchived),
    is_soft_deleted: bit(instance.status.isSoftDeleted),
    is_hard_deleted: bit(instance.status.isHardDeleted),
    org_confirmed: bit(instance.completeConfirmations.some((confirmation) => confirmation.stakeholderId === instance.org)),
    version: instance.version,
    doc: json,
  };
}
