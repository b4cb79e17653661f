import { principalId, type DataElement, type DataElementUpdate, type DataType, type KeyValueEntry, type Principal } from '@forms/contracts';
import { authorizeDataWrite, requireRole } from './authorization';
import type { DataService } from './data-service';
import { StorageErrors } from './errors';
import type { InstanceRef, InstanceService } from './instance-service';
import type { StorageContext } from './storage-context';

/** The members of Altinn's DataElement update that a caller may set; storage owns the rest (content, size, scan). */
const UPDATABLE = ['tags', 'refs', 'references', 'metadata', 'userDefinedMetadata', 'filename'] as const;

/**
 * Metadata of data elements beside their content (Altinn's DataElements controller and the lock routes): listing,
 * updating tags and metadata, locking, and the read mark an element the org added carries until the owner reads it.
 */
export class DataElementMetadata {
  constructor(
    private readonly ctx: StorageContext,
    private readonly instances: InstanceService,
    private readonly data: DataService,
  ) {}

  async list(principal: Principal, ref: InstanceRef): Promise<DataElement[]> {
    return (await this.instances.get(principal, ref, 'read')).data;
  }

  /**
   * Altinn's PUT dataelements/{id}: whoever may write the element's type changes its metadata; `locked` is the
   * app's or the org's (as the lock routes). Storage-owned members in the body are ignored.
   */
  async update(principal: Principal, ref: InstanceRef, dataId: string, update: DataElementUpdate, expectedVersion?: number): Promise<DataElement> {
    let updated: DataElement | undefined;
    await this.instances.change(principal, ref, { access: 'write', dataId }, async (draft, now, role) => {
      const element = this.data.element(draft, dataId);
      const dataType = await this.data.dataType(draft, element.dataType);
      authorizeDataWrite(role, draft, dataType);
      if (update.userDefinedMetadata !== undefined) assertUserDefinedKeys(update.userDefinedMetadata, dataType);
      if (expectedVersion !== undefined && expectedVersion !== element.version) throw StorageErrors.versionMismatch(element.version);
      if (update.locked !== undefined && update.locked !== element.locked) requireRole(role, ['app', 'org'], 'lock or unlock data elements');
      else if (element.locked) throw StorageErrors.dataElementLocked();
      for (const member of UPDATABLE) {
        if (update[member] !== undefined) Object.assign(element, { [member]: update[member] });
      }
      if (update.locked !== undefined) element.locked = update.locked;
      Object.assign(element, { version: element.version + 1, lastChanged: now, lastChangedBy: principalId(principal) });
      updated = element;
      return ['DataUpdated'];
    });
    return updated as DataElement;
  }

  /** Altinn's PUT/DELETE data/{id}/lock: the app (or the org) freezes or frees an element; idempotent. */
  async setLock(principal: Principal, ref: InstanceRef, dataId: string, locked: boolean): Promise<DataElement> {
    const { instance, role } = await this.instances.getWithRole(principal, ref, 'write');
    requireRole(role, ['app', 'org'], 'lock or unlock data elements');
    const current = this.data.element(instance, dataId);
    if (current.locked === locked) return current;
    return this.update(principal, ref, dataId, { locked });
  }

  /**
   * The owner has read the element (downloaded its content): an element the org added stops being unread.
   * Best effort and without an audit event, as a read is not a change of the instance's content.
   */
  async markRead(element: DataElement): Promise<void> {
    for (let attempt = 0; attempt < 5 && !element.isRead; attempt++) {
      const instance = await this.ctx.store.instances.get(element.instanceGuid);
      const target = instance?.data.find((d) => d.id === element.id);
      if (!instance || !target || target.isRead) return;
      const draft = structuredClone(instance);
      (draft.data.find((d) => d.id === element.id) as DataElement).isRead = true;
      draft.version = instance.version + 1;
      if (await this.ctx.store.instances.replace(draft, instance.version)) return;
    }
  }
}

/**
 * User-defined metadata has each key once, and only the keys its data type's `allowedKeysForUserDefinedMetadata`
 * names, when it names any: checked here, where every write of it passes (the app's route and this API alike).
 */
function assertUserDefinedKeys(entries: readonly KeyValueEntry[], dataType: DataType): void {
  const keys = entries.map((entry) => entry.key);
  const duplicated = [...new Set(keys.filter((key, index) => keys.indexOf(key) !== index))];
  if (duplicated.length > 0) throw StorageErrors.invalid('DUPLICATE_METADATA_KEY', `These keys are given more than once: ${duplicated.join(', ')}.`);
  const allowed = dataType.allowedKeysForUserDefinedMetadata;
  const refused = allowed && allowed.length > 0 ? keys.filter((key) => !allowed.includes(key)) : [];
  if (refused.length > 0) throw StorageErrors.invalid('METADATA_KEY_NOT_ALLOWED', `Data type '${dataType.id}' does not allow these keys: ${refused.join(', ')}.`);
}
