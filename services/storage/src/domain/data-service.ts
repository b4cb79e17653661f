import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { principalId, timeOrderedUuid, type Application, type DataElement, type DataType, type Instance, type Principal } from '@forms/contracts';
import { ContentInspector, contentMatchesDeclaredType } from '@forms/content-check';
import { BlobRangeNotSatisfiableError, BlobStoreFullError, type BlobRead, type ByteRange } from './ports/blob-store';
import { authorizeDataWrite, type Role } from './authorization';
import { ContentMeter } from './content-meter';
import { StorageErrors } from './errors';
import type { InstanceRef, InstanceService } from './instance-service';
import { assertRoomForDataElement } from './instance-limits';
import type { StorageContext } from './storage-context';
import { removeBlobsDurably } from './blob-cleanup';
import { deleteContent, readContent, readSmall } from './content';
import type { InlineContent } from './ports/metadata-store';
import { verifiedContent } from './content-verifier';
import { Scanning, SCANNING_OFF, type UploadScan } from './scanning';
import { backOff } from './write-retry';

/** Told when stored content turns out damaged (the service logs it); the element is marked already. */
export type DamageReport = (element: DataElement, reason: string) => void;

export interface ContentInput {
  /** As sent by the client, e.g. `application/pdf` or `text/xml; charset=utf-8`. */
  contentType: string;
  filename?: string;
  /** From Content-Length, when the client sent one: lets an oversize upload be refused before reading it. */
  declaredLength?: number;
  /** The content: streamed, or already in memory (sent inline in a JSON instantiation). */
  body: Readable | Buffer;
}

export interface DataLimits {
  /** Ceiling for any data element, also for data types without maxSize. */
  maxDataElementBytes: number;
  /** Content up to this size is kept in the metadata store, where it has one (ADR 0018); 0: never. */
  inlineContentMaxBytes?: number;
}

const MEGABYTE = 1024 * 1024;

/** `text/xml; charset=utf-8` -> `text/xml`. */
export function mediaType(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

export function isContentTypeAllowed(dataType: DataType, contentType: string): boolean {
  const allowed = dataType.allowedContentTypes;
  if (!allowed || allowed.length === 0) return true;
  const actual = mediaType(contentType);
  return allowed.some((pattern) => {
    const expected = mediaType(pattern);
    return expected === actual || expected === '*/*' || (expected.endsWith('/*') && actual.startsWith(expected.slice(0, -1)));
  });
}

export interface StoredContent {
  size: number;
  contentHash: string;
  scan?: UploadScan;
  /** Small content, read whole: it goes to the metadata store with the write that records its element. */
  inline?: InlineContent;
}

/** The application's data type with this id; an unknown one (or no application) is the caller's error. */
export function dataTypeOf(application: Pick<Application, 'dataTypes'> | null, dataTypeId: string): DataType {
  const dataType = application?.dataTypes.find((t) => t.id === dataTypeId);
  if (!dataType) throw StorageErrors.dataTypeNotFound(dataTypeId);
  return dataType;
}

/** What the write recording stored contents carries: each content kept inline, or else the upload record it settles. */
export function recorded(stored: { content: StoredContent; uploadId: string }[]): { settledUploads: string[]; inlineContents: InlineContent[] } {
  return {
    settledUploads: stored.filter(({ content }) => !content.inline).map(({ uploadId }) => uploadId),
    inlineContents: stored.flatMap(({ content }) => (content.inline ? [content.inline] : [])),
  };
}

/** The record of content just stored for `instance`. */
export function newDataElement(
  instance: Pick<Instance, 'id' | 'selfLinks'>,
  stored: { id: string; dataType: string; input: Pick<ContentInput, 'contentType' | 'filename'>; blobStoragePath: string; content: StoredContent },
  who: string,
  now: string,
): DataElement {
  const { id, dataType, input, blobStoragePath, content } = stored;
  return {
    id,
    instanceGuid: instance.id.split('/')[1] as string,
    dataType,
    ...(input.filename !== undefined && { filename: input.filename }),
    contentType: input.contentType,
    blobStoragePath,
    size: content.size,
    contentHash: content.contentHash,
    locked: false,
    isRead: false,
    tags: [],
    version: 1,
    selfLinks: { platform: `${instance.selfLinks.platform}/data/${id}` },
    created: now,
    createdBy: who,
    lastChanged: now,
    lastChangedBy: who,
  };
}

/**
 * Data elements: metadata on the instance, content in the blob store. Content is streamed into a fresh
 * blob first and only then recorded on the instance; a failed upload deletes its blob, and a crash
 * mid-way leaves a pending-upload record that the reaper acts on. So no data element ever points at a
 * missing or partial blob, and no blob outlives its failed upload.
 */
export class DataService {
  constructor(
    private readonly ctx: StorageContext,
    private readonly instances: InstanceService,
    private readonly limits: DataLimits,
    readonly scanning: Scanning = new Scanning(ctx, SCANNING_OFF),
  ) {}

  async create(principal: Principal, ref: InstanceRef, dataTypeId: string, input: ContentInput): Promise<DataElement> {
    const { instance, role } = await this.instances.getWithRole(principal, ref, 'write');
    const dataType = await this.dataType(instance, dataTypeId);
    authorizeDataWrite(role, instance, dataType);
    if (!isContentTypeAllowed(dataType, input.contentType)) throw StorageErrors.contentTypeNotAllowed(mediaType(input.contentType), dataType.id);
    this.assertRoomFor(instance, dataType);

    const dataId = timeOrderedUuid();
    const blobStoragePath = this.blobPath(instance, dataId);
    const content = await this.storeContent(instance, dataId, blobStoragePath, dataType, input);
    let element: DataElement | undefined;
    try {
      const scanFields = await this.scanning.conclude(content.scan, dataId, ref.instanceGuid, blobStoragePath);
      await this.instances.change(principal, ref, { access: 'write', dataId, ...recorded([{ content, uploadId: dataId }]) }, (draft, now, role) => {
        authorizeDataWrite(role, draft, dataType);
        this.assertRoomFor(draft, dataType);
        element = {
          ...newDataElement(draft, { id: dataId, dataType: dataType.id, input, blobStoragePath, content }, principalId(principal), now),
          ...scanFields,
          isRead: role !== 'org',
        };
        draft.data.push(element);
        return ['DataCreated'];
      });
    } catch (error) {
      await this.discard(content, blobStoragePath, dataId);
      throw error;
    }
    await this.scanning.afterRecorded(instance, element as DataElement);
    return element as DataElement;
  }

  /** Replaces the content; the new content goes to a new blob, the old one is deleted once the swap is recorded. */
  async replace(principal: Principal, ref: InstanceRef, dataId: string, input: ContentInput, expectedVersion?: number): Promise<DataElement> {
    const { instance, role } = await this.instances.getWithRole(principal, ref, 'write');
    const existing = this.element(instance, dataId);
    const dataType = await this.dataType(instance, existing.dataType);
    authorizeDataWrite(role, instance, dataType);
    if (existing.locked) throw StorageErrors.dataElementLocked();
    if (expectedVersion !== undefined && expectedVersion !== existing.version) throw StorageErrors.versionMismatch(existing.version);
    if (!isContentTypeAllowed(dataType, input.contentType)) throw StorageErrors.contentTypeNotAllowed(mediaType(input.contentType), dataType.id);

    const uploadId = timeOrderedUuid();
    const blobStoragePath = `${this.blobPath(instance, dataId)}.${uploadId}`;
    const content = await this.storeContent(instance, uploadId, blobStoragePath, dataType, input);
    let replaced: DataElement | undefined;
    let previousPath = existing.blobStoragePath;
    let previousScan = existing.fileScanResult;
    try {
      const scanFields = await this.scanning.conclude(content.scan, dataId, ref.instanceGuid, blobStoragePath);
      await this.instances.change(principal, ref, { access: 'write', dataId, ...recorded([{ content, uploadId }]) }, (draft, now, role) => {
        authorizeDataWrite(role, draft, dataType);
        const element = this.element(draft, dataId);
        if (element.locked) throw StorageErrors.dataElementLocked();
        if (expectedVersion !== undefined && expectedVersion !== element.version) throw StorageErrors.versionMismatch(element.version);
        previousPath = element.blobStoragePath;
        previousScan = element.fileScanResult;
        delete element.fileScanTime;
        delete element.fileScanSignature;
        Object.assign(element, {
          ...scanFields,
          contentType: input.contentType,
          blobStoragePath,
          size: content.size,
          contentHash: content.contentHash,
          version: element.version + 1,
          lastChanged: now,
          lastChangedBy: principalId(principal),
        });
        if (input.filename !== undefined) element.filename = input.filename;
        delete element.damaged;
        replaced = element;
        return ['DataUpdated'];
      });
    } catch (error) {
      await this.discard(content, blobStoragePath, uploadId);
      throw error;
    }
    await removeBlobsDurably(this.ctx, instance, [previousPath], async () => {});
    await this.scanning.afterRecorded(instance, replaced as DataElement, previousScan);
    return replaced as DataElement;
  }

  /** Deletes the element and its content; answers with the element as it was (Altinn answers 200 with it). */
  async remove(principal: Principal, ref: InstanceRef, dataId: string, expectedVersion?: number): Promise<DataElement> {
    const { instance, role } = await this.instances.getWithRole(principal, ref, 'write');
    let element = this.element(instance, dataId);
    const dataType = await this.dataType(instance, element.dataType);
    authorizeDataWrite(role, instance, dataType);
    await removeBlobsDurably(this.ctx, instance, [element.blobStoragePath], async () => {
      await this.instances.change(principal, ref, { access: 'write', dataId }, (draft, _now, role) => {
        authorizeDataWrite(role, draft, dataType);
        const current = this.element(draft, dataId);
        if (current.locked) throw StorageErrors.dataElementLocked();
        if (expectedVersion !== undefined && expectedVersion !== current.version) throw StorageErrors.versionMismatch(current.version);
        element = current;
        draft.data = draft.data.filter((d) => d.id !== dataId);
        return ['DataDeleted'];
      });
    });
    return element;
  }

  async metadata(principal: Principal, ref: InstanceRef, dataId: string): Promise<DataElement> {
    return (await this.metadataWithRole(principal, ref, dataId)).element;
  }

  async metadataWithRole(principal: Principal, ref: InstanceRef, dataId: string): Promise<{ element: DataElement; role: Role }> {
    const { instance, role } = await this.instances.getWithRole(principal, ref, 'read');
    return { element: this.element(instance, dataId), role };
  }

  /**
   * The content, unless its malware scan forbids serving it to `principal`. A whole blob is verified against the size and sha256 recorded at upload while it
   * streams (a mismatch fails the stream before its last byte); a range is checked against the recorded
   * size. A mismatch marks the element `damaged` and is reported to `onDamage`.
   */
  async openContent(principal: Principal, element: DataElement, range?: ByteRange, onDamage?: DamageReport): Promise<BlobRead> {
    this.scanning.assertServable(principal, element);
    const damaged = (reason: string): void => {
      onDamage?.(element, reason);
      this.markDamaged(element, reason).catch(() => undefined);
    };
    let blob: BlobRead | null;
    try {
      blob = await readContent(this.ctx, element.blobStoragePath, range);
    } catch (error) {
      // The range was checked against the recorded size: a blob too short for it is damaged.
      if (!(error instanceof BlobRangeNotSatisfiableError)) throw error;
      const reason = `size ${error.totalSize} != recorded ${element.size}`;
      damaged(reason);
      throw StorageErrors.contentDamaged(reason);
    }
    // Content lost from under its element (a deleted file, a backup restored without it): damage, as a wrong size is.
    if (!blob) {
      damaged('no stored content');
      throw StorageErrors.contentDamaged('no stored content');
    }
    if (blob.totalSize !== element.size) {
      blob.body.destroy();
      const reason = `size ${blob.totalSize} != recorded ${element.size}`;
      damaged(reason);
      throw StorageErrors.contentDamaged(reason);
    }
    if (range) return blob;
    return { body: verifiedContent(blob.body, element, damaged), totalSize: blob.totalSize };
  }

  /** Records the damage on the element (unless its content was replaced meanwhile); best effort. */
  private async markDamaged(element: DataElement, reason: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      if (attempt > 0) await backOff(attempt);
      const instance = await this.ctx.store.instances.get(element.instanceGuid);
      const current = instance?.data.find((d) => d.id === element.id);
      if (!instance || !current || current.blobStoragePath !== element.blobStoragePath) return;
      const draft = structuredClone(instance);
      const target = draft.data.find((d) => d.id === element.id) as DataElement;
      target.damaged = { detected: this.ctx.clock(), reason };
      draft.version = instance.version + 1;
      if (await this.ctx.store.instances.replace(draft, instance.version)) return;
    }
  }

  /**
   * Streams content into a fresh blob at `blobStoragePath`, after writing a pending-upload record for it
   * (so a crash leaves a record the reaper acts on). On failure the blob and record are gone again.
   * Content that ends within the inline limit is read whole instead and returned in `inline`, for the
   * metadata write that records its element: no file, no record (ADR 0018).
   */
  async storeContent(
    instance: Pick<Instance, 'id'>,
    uploadId: string,
    blobStoragePath: string,
    dataType: DataType,
    input: ContentInput,
  ): Promise<StoredContent> {
    const limit = Math.min(dataType.maxSize ? dataType.maxSize * MEGABYTE : Infinity, this.limits.maxDataElementBytes);
    const declaredLength = Buffer.isBuffer(input.body) ? input.body.length : input.declaredLength;
    if (declaredLength !== undefined && declaredLength > limit) throw StorageErrors.dataTooLarge(limit);
    if (declaredLength === 0) throw StorageErrors.emptyContent();
    this.scanning.assertScannable(dataType, declaredLength);
    const inlineMax = this.ctx.store.inlineContents ? (this.limits.inlineContentMaxBytes ?? 0) : 0;
    const mismatch = () => StorageErrors.contentMismatch(mediaType(input.contentType), dataType.id);
    // Content in memory that stays inline and is not scanned gets the same checks without a stream to set up.
    if (Buffer.isBuffer(input.body) && input.body.length <= inlineMax && !this.scanning.applies(dataType)) {
      const bytes = input.body;
      if (!contentMatchesDeclaredType(bytes, input.contentType)) throw mismatch();
      return { size: bytes.length, contentHash: createHash('sha256').update(bytes).digest('hex'), inline: { key: blobStoragePath, bytes } };
    }
    // Small content read whole has gone nowhere yet: a failure then leaves nothing to discard.
    let sentToBlobStore = false;
    const toBlobStore = async (body: Readable) => {
      sentToBlobStore = true;
      await this.ctx.store.pendingUploads.insert({
        dataElementId: uploadId,
        instanceGuid: instance.id.split('/')[1] as string,
        blobStoragePath,
        started: this.ctx.clock(),
      });
      await this.ctx.blobs.put(blobStoragePath, body, { contentType: input.contentType });
    };
    const meter = ContentMeter.over(Buffer.isBuffer(input.body) ? Readable.from([input.body]) : input.body, limit);
    // Judged by what it is: the first bytes before anything is stored, a PDF's trailer as the stream ends.
    const inspector = new ContentInspector(input.contentType, mismatch);
    meter.on('error', (error) => inspector.destroy(error));
    // Its error reaches whoever consumes it (the blob store), also when it fails before the store starts reading.
    inspector.on('error', () => meter.unpipe(inspector));
    meter.pipe(inspector);
    const { body, scan } = this.scanning.start(dataType, inspector);
    let inline: Buffer | undefined;
    try {
      if (inlineMax > 0 && (declaredLength ?? 0) <= inlineMax) inline = await readSmall(body, inlineMax, toBlobStore);
      else await toBlobStore(body);
    } catch (error) {
      if (!body.destroyed) body.destroy();
      if (sentToBlobStore) await this.discardBlob(blobStoragePath, uploadId).catch(() => undefined);
      throw error instanceof BlobStoreFullError ? StorageErrors.blobStoreFull() : error;
    }
    if (meter.byteCount === 0) {
      if (sentToBlobStore) await this.discardBlob(blobStoragePath, uploadId).catch(() => undefined);
      throw StorageErrors.emptyContent();
    }
    return { size: meter.byteCount, contentHash: meter.digest(), ...(scan && { scan }), ...(inline && { inline: { key: blobStoragePath, bytes: inline } }) };
  }

  /** Undoes `storeContent` when its element could not be recorded: content kept inline went nowhere without it. */
  async discard(content: StoredContent, blobStoragePath: string, uploadId: string): Promise<void> {
    if (!content.inline) await this.discardBlob(blobStoragePath, uploadId);
  }

  async discardBlob(blobStoragePath: string, uploadId: string): Promise<void> {
    await deleteContent(this.ctx, blobStoragePath);
    await this.ctx.store.pendingUploads.remove(uploadId);
  }

  async dataType(instance: Pick<Instance, 'appId'>, dataTypeId: string): Promise<DataType> {
    return dataTypeOf(await this.ctx.store.applications.get(instance.appId), dataTypeId);
  }

  element(instance: Instance, dataId: string): DataElement {
    const element = instance.data.find((d) => d.id === dataId);
    if (!element) throw StorageErrors.dataElementNotFound();
    return element;
  }

  /** Refuses one more element of `dataType` beyond its maxCount, or beyond what an instance may hold. */
  assertRoomFor(instance: Pick<Instance, 'data'>, dataType: DataType): void {
    if (dataType.maxCount > 0 && instance.data.filter((d) => d.dataType === dataType.id).length >= dataType.maxCount) {
      throw StorageErrors.tooManyDataElements(dataType.id, dataType.maxCount);
    }
    assertRoomForDataElement(instance, this.instances.limits);
  }

  blobPath(instance: Pick<Instance, 'appId' | 'id'>, dataId: string): string {
    return `${instance.appId}/${instance.id.split('/')[1]}/data/${dataId}`;
  }
}
