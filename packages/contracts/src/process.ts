import { Type, type Static } from '@sinclair/typebox';
import { Nullable, Timestamp } from './common';

export const AltinnTaskType = Type.Union([
  Type.Literal('data'),
  Type.Literal('confirmation'),
  Type.Literal('feedback'),
  Type.Literal('signing'),
  Type.Literal('payment'),
]);

export const ProcessElementInfo = Type.Object({
  flow: Type.Integer({ minimum: 1 }),
  started: Timestamp,
  elementId: Type.String({ minLength: 1, maxLength: 128 }),
  name: Type.Optional(Type.String()),
  altinnTaskType: AltinnTaskType,
  ended: Type.Optional(Nullable(Timestamp)),
});
export type ProcessElementInfo = Static<typeof ProcessElementInfo>;

export const ProcessState = Type.Object(
  {
    started: Type.Optional(Nullable(Timestamp)),
    startEvent: Type.Optional(Nullable(Type.String())),
    currentTask: Type.Optional(Nullable(ProcessElementInfo)),
    ended: Type.Optional(Nullable(Timestamp)),
    endEvent: Type.Optional(Nullable(Type.String())),
  },
  { title: 'ProcessState' },
);
export type ProcessState = Static<typeof ProcessState>;
