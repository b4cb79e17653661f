import { Type, type Static } from '@sinclair/typebox';
import { Guid, Timestamp } from './common';

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
  },
  { title: 'DataElement' },
);
export type DataElement = Static<typeof DataElement>;
