/** @forms/app-definition: reads an org's app folder (metadata, form models, process, rules). See api.ts. */
import type { AppDefinitionFunctions } from './api';
import { loadAppDefinition } from './load';
import { defineRules } from './rules';
import { advanceProcess, startProcess } from './process';
import { parseFormData, serializeFormData, typeFieldText } from './form-data-codec';

export * from './api';
export { loadAppDefinition, defineRules, startProcess, advanceProcess, parseFormData, serializeFormData, typeFieldText };
export { branchingActions, conditionHolds, isActionCondition } from './process';
export { parseConditionExpression } from './bpmn';
export { formatFieldPath, getAtPath, parseFieldPath, type PathSegment } from './field-path';
export { RULE_HOOKS } from './rules';
export { checkedHookOptions, codeListProblems, MAX_OPTIONS, OPTIONS_ID_PATTERN } from './code-lists';
export { SIGNATURE_CONTENT_TYPE } from './signing';

// Compile-time check that the exports match the contract in api.ts.
export const appDefinitionFunctions = {
  loadAppDefinition,
  defineRules,
  startProcess,
  advanceProcess,
  parseFormData,
  serializeFormData,
  typeFieldText,
} satisfies AppDefinitionFunctions;
