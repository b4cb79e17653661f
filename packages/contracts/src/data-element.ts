import { Type, type Static } from '@sinclair/typebox';
import { Guid, Timestamp } from './common';

/**
 * Altinn's malware scan states: `NotApplicable` (not scanned: scanning is off or not enabled for the data type),
 * `Pending` (no verdict yet; never served to parties), `Clean`, `Infected` (never served to anyone).
 */
export const FILE_SCAN_RESULTS = ['NotApplicable', 'Pending', 'Clean', 'Infected'] as const;
export type FileScanResult = (typeof FILE_SCAN_RESULTS)[number];
export const FileScanResultSchema = Type.Union(FILE_SCAN_RESULTS.map((r) => Type.Literal(r)));

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
    selfLinks: Type.Optional(Type.Object({ platform: Type.String() })),
    created: Timestamp,
    createdBy: Type.String(),
    lastChanged: Timestamp,
    lastChangedBy: Type.String(),
    fileScanResult: Type.Optional(FileScanResultSchema),
    fileScanTime: Type.Optional(Timestamp),
    fileScanSignature: Type.Optional(Type.String({ description: 'The malware signature found, when Infected' })),
  },
  { title: 'DataElement' },
);
export type DataElement = Static<typeof DataElement>;
