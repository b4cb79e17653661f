import { Type, type Static } from '@sinclair/typebox';
import { Guid, Nullable, Timestamp } from './common';

/**
 * Altinn's malware scan states: `NotApplicable` (not scanned: scanning is off or not enabled for the data type),
 * `Pending` (no verdict yet; never served to parties), `Clean`, `Infected` (never served to anyone).
 */
export const FILE_SCAN_RESULTS = ['NotApplicable', 'Pending', 'Clean', 'Infected'] as const;
export type FileScanResult = (typeof FILE_SCAN_RESULTS)[number];
export const FileScanResultSchema = Type.Union(FILE_SCAN_RESULTS.map((r) => Type.Literal(r)));

/** A key/value pair of Altinn's `metadata` and `userDefinedMetadata` lists. */
export const KeyValueEntry = Type.Object({ key: Type.String({ maxLength: 255 }), value: Type.String({ maxLength: 2000 }) });
export type KeyValueEntry = Static<typeof KeyValueEntry>;

/** Altinn's `Reference`: a link from a data element to something else (e.g. a task or a signing). */
export const DataElementReference = Type.Object({
  value: Type.String({ maxLength: 255 }),
  relation: Type.String({ maxLength: 64 }),
  valueType: Type.String({ maxLength: 64 }),
});
export type DataElementReference = Static<typeof DataElementReference>;

export const DeleteStatus = Type.Object({ isHardDeleted: Type.Boolean(), hardDeleted: Type.Optional(Nullable(Timestamp)) });
export type DeleteStatus = Static<typeof DeleteStatus>;

export const SelfLinks = Type.Object({
  platform: Type.String(),
  apps: Type.Optional(Type.String({ description: "The element or instance in its app's API" })),
});

export const DataElement = Type.Object(
  {
    id: Guid,
    instanceGuid: Guid,
    dataType: Type.String(),
    filename: Type.Optional(Type.String()),
    contentType: Type.String(),
    blobStoragePath: Type.String(),
    size: Type.Integer({ minimum: 0 }),
    contentHash: Type.String({ description: 'sha256 of the content, lower-case hex' }),
    locked: Type.Boolean(),
    isRead: Type.Boolean(),
    tags: Type.Array(Type.String()),
    version: Type.Integer({ minimum: 1 }),
    selfLinks: Type.Optional(SelfLinks),
    refs: Type.Optional(Type.Array(Guid, { maxItems: 100, description: 'Ids of other data elements this one refers to' })),
    references: Type.Optional(Type.Array(DataElementReference, { maxItems: 100 })),
    metadata: Type.Optional(Type.Array(KeyValueEntry, { maxItems: 100, description: 'Set by the app' })),
    userDefinedMetadata: Type.Optional(Type.Array(KeyValueEntry, { maxItems: 100, description: 'Set by the user, through the app' })),
    deleteStatus: Type.Optional(DeleteStatus),
    created: Timestamp,
    createdBy: Type.String(),
    lastChanged: Timestamp,
    lastChangedBy: Type.String(),
    fileScanResult: Type.Optional(FileScanResultSchema),
    fileScanTime: Type.Optional(Timestamp),
    fileScanSignature: Type.Optional(Type.String({ description: 'The malware signature found, when Infected' })),
    damaged: Type.Optional(
      Type.Object(
        {
          detected: Timestamp,
          reason: Type.String({ description: 'what did not match, e.g. `size 1000 != recorded 1024` or `sha256`' }),
        },
        {
          description:
            'Set by storage when a download found the stored content different from the size or sha256 recorded at upload. Every download verifies again; replacing the content clears the mark',
        },
      ),
    ),
  },
  { title: 'DataElement' },
);
export type DataElement = Static<typeof DataElement>;

export const DataElementList = Type.Object({ dataElements: Type.Array(DataElement) }, { title: 'DataElementList' });
export type DataElementList = Static<typeof DataElementList>;

/** Body of `PUT .../dataelements/{dataGuid}`: the metadata members a caller may change (Altinn's DataElement update). */
export const DataElementUpdate = Type.Object(
  {
    locked: Type.Optional(Type.Boolean()),
    tags: Type.Optional(Type.Array(Type.String({ maxLength: 255 }), { maxItems: 100 })),
    refs: Type.Optional(Type.Array(Guid, { maxItems: 100 })),
    references: Type.Optional(Type.Array(DataElementReference, { maxItems: 100 })),
    metadata: Type.Optional(Type.Array(KeyValueEntry, { maxItems: 100 })),
    userDefinedMetadata: Type.Optional(Type.Array(KeyValueEntry, { maxItems: 100 })),
    filename: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  },
  { additionalProperties: true, description: 'Altinn sends the whole DataElement; members storage owns (size, contentType, blobStoragePath, ...) are ignored.' },
);
export type DataElementUpdate = Static<typeof DataElementUpdate>;
