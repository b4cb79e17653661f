import { randomBytes, randomUUID } from 'node:crypto';
import { DomainError, Scopes, type Principal, type SubscriptionRequest } from '@forms/contracts';
import { appUrl, type AppBaseUrl } from './cloud-event';

/** A subscription as stored: Altinn's fields, who owns it, its secret and its delivery state. */
export interface Subscription {
  id: string;
  /** `org:<org>` or `party:<partyId>`: who may read, list and delete it. */
  owner: string;
  createdBy: string;
  created: string;
  endPoint: string;
  sourceFilter?: string;
  subjectFilter?: string;
  alternativeSubjectFilter?: string;
  typeFilter?: string;
  /** The app the sourceFilter names; events of other apps never match. */
  appId?: string;
  /** HMAC key of the signatures; shown once, at creation. */
  secret: string;
  /** The endpoint answered the validation event with a 2xx. */
  validated: boolean;
  delivery: DeliveryState;
  version: number;
}

/** Where delivery stands: at-least-once and in order means one event at a time, past `position` only on a 2xx. */
export interface DeliveryState {
  /** Every event at or below this sequence was accepted by the endpoint (or dead-lettered). */
  position: number;
  /** Failed attempts of the event now due. */
  attempts: number;
  /** Epoch ms before which nothing is tried (backoff). */
  nextAttemptAt: number;
  lastError?: string;
  /** The instance that delivers now, and until when (epoch ms) it may. */
  leaseOwner?: string;
  leaseUntil?: number;
}

/** Altinn's subscription fields, as the API takes them. */
export type { SubscriptionRequest };

const forbidden = (code: string, message: string) => new DomainError('forbidden', code, message);
const invalid = (code: string, message: string) => new DomainError('invalid', code, message);

export const ownerOf = (principal: Principal): string => (principal.kind === 'org' ? `org:${principal.org}` : `party:${principal.partyId}`);

/**
 * Who may subscribe to what: an org (scope altinn:events.subscribe) to one of its own apps, named by the app's
 * URL as sourceFilter; a party (the same scope, or altinn:instances.read) to its own events only, as subject
 * `/party/<its id>`. Returns the app id the filter names, if any.
 */
export function authorizeFilters(principal: Principal, request: SubscriptionRequest, apps: AppBaseUrl): { appId?: string; subjectFilter?: string } {
  const appId = request.sourceFilter === undefined ? undefined : appOfSourceFilter(request.sourceFilter, apps);
  if (principal.kind === 'org') {
    if (!principal.scopes.includes(Scopes.eventsSubscribe)) throw forbidden('MISSING_SCOPE', `Subscribing needs the scope ${Scopes.eventsSubscribe}.`);
    if (appId === undefined) throw invalid('SOURCE_FILTER_REQUIRED', "An org subscribes to one of its apps: give the app's URL as sourceFilter.");
    if (appId.split('/')[0] !== principal.org || (principal.app !== undefined && principal.app !== appId)) {
      throw forbidden('NOT_YOUR_APP', `The events of ${appId} are not ${principal.org}'s.`);
    }
    return { appId, ...(request.subjectFilter !== undefined && { subjectFilter: request.subjectFilter }) };
  }
  if (!principal.scopes.includes(Scopes.eventsSubscribe) && !principal.scopes.includes(Scopes.instancesRead)) {
    throw forbidden('MISSING_SCOPE', `Subscribing needs the scope ${Scopes.eventsSubscribe}.`);
  }
  const own = `/party/${principal.partyId}`;
  if (request.subjectFilter !== undefined && request.subjectFilter !== own) {
    throw forbidden('NOT_YOUR_SUBJECT', `A party subscribes to its own events only (subjectFilter ${own}).`);
  }
  return { ...(appId !== undefined && { appId }), subjectFilter: own };
}

/** The app a sourceFilter names: the app URL itself (`<app host>/<org>/<app>`), nothing below or beside it. */
export function appOfSourceFilter(sourceFilter: string, apps: AppBaseUrl): string {
  const match = /^https?:\/\/.+\/([a-z0-9-]+)\/([a-z0-9-]+)\/?$/i.exec(sourceFilter);
  const appId = match ? `${match[1]}/${match[2]}` : undefined;
  if (appId === undefined || appUrl(apps, appId) !== sourceFilter.replace(/\/$/, '')) {
    throw invalid('INVALID_SOURCE_FILTER', `sourceFilter must be an app's URL, such as ${appUrl(apps, 'nav/child-benefit')}.`);
  }
  return appId;
}

export function newSubscription(principal: Principal, request: SubscriptionRequest, filters: { appId?: string; subjectFilter?: string }, now: Date, position: number): Subscription {
  return {
    id: randomUUID(),
    owner: ownerOf(principal),
    createdBy: principal.subject,
    created: now.toISOString(),
    endPoint: request.endPoint,
    ...(request.sourceFilter !== undefined && { sourceFilter: request.sourceFilter.replace(/\/$/, '') }),
    ...(filters.subjectFilter !== undefined && { subjectFilter: filters.subjectFilter }),
    ...(request.alternativeSubjectFilter !== undefined && { alternativeSubjectFilter: request.alternativeSubjectFilter }),
    ...(request.typeFilter !== undefined && { typeFilter: request.typeFilter }),
    ...(filters.appId !== undefined && { appId: filters.appId }),
    // Standard Webhooks' secret format: whsec_ + base64 of the key.
    secret: `whsec_${randomBytes(32).toString('base64')}`,
    validated: false,
    // Events from the moment of subscribing on: what is already relayed is not sent.
    delivery: { position, attempts: 0, nextAttemptAt: 0 },
    version: 1,
  };
}

/** The query that finds a subscription's next events (the store filters by app, subject and type). */
export const eventQueryOf = (subscription: Subscription, limit: number) => ({
  after: subscription.delivery.position,
  limit,
  ...(subscription.appId !== undefined && { appId: subscription.appId }),
  ...(subscription.subjectFilter !== undefined && { subject: subscription.subjectFilter }),
  ...(subscription.typeFilter !== undefined && { type: subscription.typeFilter }),
});

/** Filters the store does not index: an alternative subject (events carry one only when storage knows it). */
export const matchesRest = (subscription: Subscription, stored: { event: { alternativesubject?: string } }): boolean =>
  subscription.alternativeSubjectFilter === undefined || stored.event.alternativesubject === subscription.alternativeSubjectFilter;

/** What the API shows of a subscription: never the secret. */
export function publicView(subscription: Subscription) {
  const { secret: _secret, delivery, version: _version, owner: _owner, appId: _appId, ...rest } = subscription;
  return {
    ...rest,
    status: subscription.validated ? ('active' as const) : ('awaiting validation' as const),
    delivery: { position: delivery.position, attempts: delivery.attempts, ...(delivery.lastError !== undefined && { lastError: delivery.lastError }) },
  };
}
