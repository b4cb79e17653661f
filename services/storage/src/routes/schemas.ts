import { Type } from '@sinclair/typebox';
import { Guid, PartyId, ProblemDetails, Slug } from '@forms/contracts';

export const InstanceParams = Type.Object({ instanceOwnerPartyId: PartyId, instanceGuid: Guid });
export const DataParams = Type.Object({ instanceOwnerPartyId: PartyId, instanceGuid: Guid, dataGuid: Guid });
export const AppParams = Type.Object({ org: Slug, app: Slug });
export const OrgParams = Type.Object({ org: Slug });

/** Documented error responses; the body is always RFC 7807 problem details. */
export const problems = (...statuses: number[]) => Object.fromEntries(statuses.map((status) => [status, ProblemDetails]));

export const INSTANCE_PATH = '/instances/:instanceOwnerPartyId/:instanceGuid';

export const refOf = (params: { instanceOwnerPartyId: string; instanceGuid: string }) => ({
  partyId: params.instanceOwnerPartyId,
  instanceGuid: params.instanceGuid.toLowerCase(),
});
