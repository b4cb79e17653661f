import { Type } from '@sinclair/typebox';
import { DataElement, Guid, PartyId, ProblemDetails } from '@forms/contracts';

export const InstanceParams = Type.Object({ instanceOwnerPartyId: PartyId, instanceGuid: Guid });
export const DataParams = Type.Object({ instanceOwnerPartyId: PartyId, instanceGuid: Guid, dataGuid: Guid });
export const INSTANCE_PATH = '/instances/:instanceOwnerPartyId/:instanceGuid';
/** A language code as Altinn's texts and code lists take it (`nb`, `en`, `nno`). */
export const Language = Type.String({ pattern: '^[a-zA-Z]{2,3}$' });
/** Altinn answers in norsk bokmål when no language is asked for, or the app has nothing in the one asked for. */
export const DEFAULT_LANGUAGE = 'nb';

export const ValidationIssueSchema = Type.Object(
  {
    severity: Type.Integer({ minimum: 1, maximum: 5, description: '1 Error, 2 Warning, 3 Informational, 4 Fixed, 5 Success (Altinn\'s ValidationIssueSeverity)' }),
    code: Type.String(),
    field: Type.Optional(Type.String()),
    description: Type.String(),
    dataElementId: Type.Optional(Type.String()),
    source: Type.String(),
  },
  { title: 'ValidationIssueWithSource' },
);
export const ValidationIssues = Type.Array(ValidationIssueSchema);
/** Issues grouped by who found them (Altinn's ValidationSourcePair). */
export const ValidationSourcePairs = Type.Array(Type.Object({ source: Type.String(), issues: ValidationIssues }, { title: 'ValidationSourcePair' }));

export const problems = (...statuses: number[]) => Object.fromEntries(statuses.map((status) => [status, ProblemDetails]));

/** Form data in either representation; its shape is the app's data model (see /api/jsonschema/{dataType}). */
export const FormDataBody = Type.Object({}, { additionalProperties: true, description: 'Form data matching the data model' });

/** Altinn's CalculationResult: the data element, and the fields the app's calculation changed. */
export const CalculationResult = Type.Composite(
  [DataElement, Type.Object({ changedFields: Type.Record(Type.String(), Type.Unknown(), { description: 'Fields the app calculated, by dotted path' }) })],
  { title: 'CalculationResult' },
);
