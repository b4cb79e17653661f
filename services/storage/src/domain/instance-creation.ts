import { withoutEmptyTexts } from './instance-texts';
import type { Readable } from 'node:stream';
import { principalId, timeOrderedUuid, type DataElement, type Instance, type InstanceCreate, type Principal } from '@forms/contracts';
import { DuplicateKeyError } from './ports/metadata-store';
import { authorizeCreate, authorizeDataWrite } from './authorization';
import { dataTypeOf, isContentTypeAllowed, mediaType, newDataElement, recorded, type DataService, type StoredContent } from './data-service';
import { StorageErrors } from './errors';
import { instanceEvent } from './events';
import { checkProcessChange, processChangeEvents } from './process-rules';
import type { StorageContext } from './storage-context';

/** Content sent with the instance, one data element each. */
export interface InitialData {
  dataType: string;
  contentType: string;
  filename?: string;
  /** Streamed (a multipart part), or in memory (a multipart field, or content sent inline in JSON). */
  body: Readable | Buffer;
}

export interface CreatedInstance {
  instance: Instance;
  /** false when an earlier request with the same `instanceGuid` created it (an idempotent repeat). */
  created: boolean;
}

/**
 * Creates an instance together with its initial data, all or nothing: every part is read first (small ones
 * whole, to be kept in the metadata store; larger ones streamed into a fresh blob with a pending-upload record),
 * then the instance, its data elements and small contents, its Created/process/DataCreated events and the
 * settling of those records are one metadata write. A failure or crash before that write leaves no instance,
 * only blobs the reaper removes; after it, the whole instance. With `instanceGuid` chosen by the caller, a
 * repeated request (say after a timeout) answers with the instance the first one created instead of creating
 * another: its insert finds the guid taken, and what it stored of its own parts is discarded.
 */
export class InstanceCreation {
  constructor(
    private readonly ctx: StorageContext,
    private readonly data: DataService,
    private readonly selfLink: (instanceId: string) => string,
  ) {}

  async create(principal: Principal, appId: string, input: InstanceCreate, parts: AsyncIterable<InitialData> | Iterable<InitialData> = []): Promise<CreatedInstance> {
    const application = await this.ctx.store.applications.get(appId);
    if (!application) throw StorageErrors.applicationNotFound(appId);
    // A retired app (validTo passed, e.g. by DELETE applications) takes no new instances.
    if (application.validTo !== undefined && application.validTo <= this.ctx.clock()) throw StorageErrors.applicationRetired(appId);
    // The app for the party it acts for, or the org in its own apps; never a party alone (ADR 0008).
    const role = authorizeCreate(principal, application, input.instanceOwner.partyId);
    const process = input.process ?? {};
    // A new instance starts its process (or has none yet); it is never created submitted.
    if (Object.keys(process).length > 0) {
      if (process.ended != null) throw StorageErrors.invalidProcessState('An instance cannot be created with an ended process.');
      checkProcessChange(application, {}, process);
    }

    const guid = input.instanceGuid ?? timeOrderedUuid();
    const now = this.ctx.clock();
    const id = `${input.instanceOwner.partyId}/${guid}`;
    const who = principalId(principal);
    const instance: Instance = {
      id,
      instanceOwner: input.instanceOwner,
      appId,
      org: application.org,
      selfLinks: { platform: this.selfLink(id) },
      dueBefore: input.dueBefore ? new Date(input.dueBefore).toISOString() : null,
      // As in Altinn, an instance is visible from its creation unless told otherwise.
      visibleAfter: input.visibleAfter ? new Date(input.visibleAfter).toISOString() : now,
      process,
      status: { isArchived: false, isSoftDeleted: false, isHardDeleted: false, readStatus: 'Unread', substatus: null },
      completeConfirmations: [],
      data: [],
      dataValues: input.dataValues ?? {},
      ...(input.presentationTexts && { presentationTexts: withoutEmptyTexts({}, input.presentationTexts) }),
      version: 1,
      created: now,
      createdBy: who,
      lastChanged: now,
      lastChangedBy: who,
    };

    const stored: { element: DataElement; uploadId: string; content: StoredContent }[] = [];
    const discardAll = () => Promise.allSettled(stored.map(({ element, uploadId, content }) => this.data.discard(content, element.blobStoragePath, uploadId)));
    try {
      for await (const part of parts) {
        // The application read above: its data types do not change under a request.
        const dataType = dataTypeOf(application, part.dataType);
        authorizeDataWrite(role, instance, dataType);
        if (!isContentTypeAllowed(dataType, part.contentType)) throw StorageErrors.contentTypeNotAllowed(mediaType(part.contentType), dataType.id);
        this.data.assertRoomFor(instance, dataType);
        const dataId = timeOrderedUuid();
        const blobStoragePath = this.data.blobPath(instance, dataId);
        const content = await this.data.storeContent(instance, dataId, blobStoragePath, dataType, part);
        // Scanned like any upload: the verdict (or Pending, with a job for the rescan worker) goes on the element.
        const scanFields = await this.data.scanning.conclude(content.scan, dataId, guid, blobStoragePath);
        const element = {
          ...newDataElement(instance, { id: dataId, dataType: dataType.id, input: part, blobStoragePath, content }, who, now),
          ...scanFields,
          isRead: role !== 'org',
        };
        instance.data.push(element);
        stored.push({ element, uploadId: dataId, content });
      }
    } catch (error) {
      await discardAll();
      throw error;
    }

    const events = [
      instanceEvent('Created', instance, principal, now),
      ...processChangeEvents({}, instance.process, now).map(({ type, processInfo }) => instanceEvent(type, instance, principal, now, { processInfo })),
      ...instance.data.map((element) => instanceEvent('DataCreated', instance, principal, now, { dataId: element.id })),
    ];
    try {
      await this.ctx.store.instances.insert(instance, { events, ...recorded(stored) });
    } catch (error) {
      if (error instanceof DuplicateKeyError && input.instanceGuid !== undefined) {
        // A concurrent attempt with the same guid won: ours is not stored, so what it stored of its parts can go.
        await discardAll();
        const earlier = await this.earlierAttempt(principal, appId, input, guid);
        if (earlier) return { instance: earlier, created: false };
        throw StorageErrors.instanceGuidTaken();
      }
      if (error instanceof DuplicateKeyError) await discardAll();
      // Otherwise the outcome may be unknown (a lost answer from the database): the pending-upload
      // records stay, and the reaper deletes the blobs only if no stored instance refers to them.
      throw error;
    }
    for (const element of instance.data) await this.data.scanning.afterRecorded(instance, element);
    return { instance, created: true };
  }

  /** The instance an earlier request with this guid created, if it was this caller's for this owner and app. */
  private async earlierAttempt(principal: Principal, appId: string, input: InstanceCreate, guid: string): Promise<Instance | null> {
    const existing = await this.ctx.store.instances.get(guid);
    if (!existing) return null;
    const same = existing.appId === appId && existing.instanceOwner.partyId === input.instanceOwner.partyId && existing.createdBy === principalId(principal);
    if (!same) throw StorageErrors.instanceGuidTaken();
    return existing;
  }
}
