import { Type, type Static } from '@sinclair/typebox';
import { Guid } from './common';

/**
 * The events service's wire format (`/events/api/v1`): the service validates and serialises with these schemas
 * and the SDK's EventsClient types its answers with them, so the two cannot drift apart.
 */

/** A CloudEvents 1.0 event in JSON format, with Altinn's `resource` and `alternativesubject` attributes. */
export const CloudEvent = Type.Object(
  {
    specversion: Type.Literal('1.0'),
    id: Type.String(),
    type: Type.String(),
    source: Type.String(),
    subject: Type.String(),
    time: Type.String(),
    /** `urn:altinn:resource:app_{org}_{app}`. */
    resource: Type.String(),
    /** Storage's commit sequence, as a string (CloudEvents' sequence extension): increasing, per app too. */
    sequence: Type.Optional(Type.String()),
    alternativesubject: Type.Optional(Type.String()),
    datacontenttype: Type.Optional(Type.String()),
    data: Type.Optional(Type.Unknown()),
  },
  { title: 'CloudEvent', additionalProperties: true },
);
export type CloudEvent = Static<typeof CloudEvent>;

const Filter = (description: string) => Type.Optional(Type.String({ minLength: 1, maxLength: 500, description }));

/** Altinn's subscription fields. */
export const SubscriptionRequest = Type.Object(
  {
    endPoint: Type.String({ minLength: 1, maxLength: 2000, description: 'where events are POSTed (http or https)' }),
    sourceFilter: Filter("the app's URL, e.g. https://nav.apps.example/nav/child-benefit (required for an org)"),
    subjectFilter: Filter('e.g. /party/50001 (a party: its own, set for it when left out)'),
    alternativeSubjectFilter: Filter('e.g. /person/01017012345'),
    typeFilter: Filter('one event type, e.g. app.instance.process.completed'),
  },
  { additionalProperties: false },
);
export type SubscriptionRequest = Static<typeof SubscriptionRequest>;

export const EventSubscription = Type.Object(
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
export type EventSubscription = Static<typeof EventSubscription>;

/** The answer to a subscription's creation: the only time its signing secret is shown. */
export const CreatedEventSubscription = Type.Composite([
  EventSubscription,
  Type.Object({ secret: Type.String({ description: 'the signing secret: shown this once only' }) }),
]);
export type CreatedEventSubscription = Static<typeof CreatedEventSubscription>;

/** An event a subscriber did not accept within the attempts allowed. */
export const EventDeadLetter = Type.Object({
  sequence: Type.Integer(),
  event: CloudEvent,
  attempts: Type.Integer(),
  lastError: Type.String(),
  failedAt: Type.String(),
  replayRequested: Type.Boolean(),
});
export type EventDeadLetter = Static<typeof EventDeadLetter>;
