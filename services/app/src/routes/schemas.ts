import { Type } from '@sinclair/typebox';
import { Guid, PartyId, ProblemDetails } from '@forms/contracts';

export const InstanceParams = Type.Object({ instanceOwnerPartyId: PartyId, instanceGuid: Guid });
export const DataParams = Type.Object({ instanceOwnerPartyId: PartyId, instanceGuid: Guid, dataGuid: Guid });
export const INSTANCE_PATH = '/instances/:instanceOwnerPartyId/:instanceGuid';

export const ValidationIssueSchema = Type.Object({
  severity: Type.Union([Type.Literal('error'), Type.Literal('warning'), Type.Literal('info')]),
  code: Type.String(),
  field: Type.Optional(Type.String()),
  description: Type.String(),
  dataElementId: Type.Optional(Type.String()),
  source: Type.String(),
});
export const ValidationIssues = Type.Array(ValidationIssueSchema);

export const problems = (...statuses: number[]) => Object.fromEntries(statuses.map((status) => [status, ProblemDetails]));

/** Form data in either representation; its shape is the app's data model (see /api/jsonschema/{dataType}). */
export const FormDataBody = Type.Object({}, { additionalProperties: true, description: 'Form data matching the data model' });
