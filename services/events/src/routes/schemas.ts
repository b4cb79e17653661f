import { Type } from '@sinclair/typebox';
import { Guid, ProblemDetails } from '@forms/contracts';

// The events' own wire schemas (CloudEvent, SubscriptionRequest, ...) live in @forms/contracts, shared with the SDK.

export const problems = (...statuses: number[]) => Object.fromEntries(statuses.map((status) => [status, ProblemDetails]));

export const SubscriptionParams = Type.Object({ id: Guid });
