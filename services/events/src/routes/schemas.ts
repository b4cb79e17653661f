import { Type } from '@sinclair/typebox';
import { Guid, ProblemDetails } from '@forms/contracts';

export const problems = (...statuses: number[]) => Object.fromEntries(statuses.map((status) => [status, ProblemDetails]));

export const CloudEventSchema = Type.Object(
  {
    specversion: Type.Literal('1.0'),
    id: Type.String(),
    type: Type.String(),
    source: Type.String(),
    subject: Type.String(),
    time: Type.String(),
    resource: Type.String(),
    sequence: Type.Optional(Type.String()),
    alternativesubject: Type.Optional(Type.String()),
  },
  { title: 'CloudEvent', additionalProperties: true },
);

const Filter = (description: string) => Type.Optional(Type.String({ minLength: 1, maxLength: 500, description }));

export const SubscriptionRequestSchema = Type.Object(
  {
    endPoint: Type.String({ minLength: 1, maxLength: 2000, description: 'where events are POSTed (http or https)' }),
    sourceFilter: Filter("the app's URL, e.g. https://nav.apps.example/nav/child-benefit (required for an org)"),
    subjectFilter: Filter('e.g. /party/50001 (a party: its own, set for it when left out)'),
    alternativeSubjectFilter: Filter('e.g. /person/01017012345'),
    typeFilter: Filter('one event type, e.g. app.instance.process.completed'),
  },
  { additionalProperties: false },
);

export const SubscriptionSchema = Type.Object(
  {
    id: Guid,
    endPoint: Type.String(),
    sourceFilter: Type.Optional(Type.String()),
    subjectFilter: Type.Optional(Type.String()),
    alternativeSubjectFilter: Type.Optional(Type.String()),
    typeFilter: Type.Optional(Type.String()),
    createdBy: Type.String(),
    created: Type.String(),
    validated: Type.Boolean(),
    status: Type.Union([Type.Literal('active'), Type.Literal('awaiting validation')]),
    delivery: Type.Object({ position: Type.Integer(), attempts: Type.Integer(), lastError: Type.Optional(Type.String()) }),
  },
  { title: 'Subscription' },
);

export const CreatedSubscriptionSchema = Type.Composite([
  SubscriptionSchema,
  Type.Object({ secret: Type.String({ description: 'the signing secret: shown this once only' }) }),
]);

export const DeadLetterSchema = Type.Object({
  sequence: Type.Integer(),
  event: CloudEventSchema,
  attempts: Type.Integer(),
  lastError: Type.String(),
  failedAt: Type.String(),
  replayRequested: Type.Boolean(),
});

export const SubscriptionParams = Type.Object({ id: Guid });
