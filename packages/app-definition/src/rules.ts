/** An app's business rules: `defineRules` for authors, and loading rules.ts / rules.js from the app folder. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AppRules } from './api';
import { isRecord } from './field-path';

/** Identity, so that a rules file gets its hooks type-checked (and its parameters typed) against AppRules. */
export function defineRules(rules: AppRules): AppRules {
  return rules;
}

export const RULE_HOOKS = ['calculate', 'validate', 'prefill', 'read', 'onInstantiate', 'onTaskEnd', 'onProcessEnd', 'options', 'instanceOptions'] as const satisfies ReadonlyArray<keyof AppRules>;
const RULES_FILES = ['rules.ts', 'rules.js'];

/**
 * Defined as `true` by scripts/build.mjs in the bundled services (esbuild `define`); undeclared under jest and
 * tsx. Plain Node cannot load rules.ts, so a bundled service loads only the rules.js that the build compiled.
 */
declare const FORMS_COMPILED_RULES_ONLY: boolean | undefined;
const compiledRulesOnly = typeof FORMS_COMPILED_RULES_ONLY !== 'undefined' && FORMS_COMPILED_RULES_ONLY === true;

/**
 * Loads the rules with `require`, which works for .ts under jest (swc transform) and tsx (its require hook),
 * and for .js anywhere. No rules file means no rules. A bundled service only takes rules.js.
 */
export function loadRules(folder: string): { rules: AppRules; problems: string[] } {
  const candidates = compiledRulesOnly ? ['rules.js'] : RULES_FILES;
  const file = candidates.find((name) => existsSync(join(folder, name)));
  if (!file && compiledRulesOnly && existsSync(join(folder, 'rules.ts'))) {
    return { rules: {}, problems: ['rules.ts: not compiled; this build of the service loads rules.js (run node scripts/build.mjs app)'] };
  }
  if (!file) return { rules: {}, problems: [] };
  let loaded: unknown;
  try {
    loaded = require(join(folder, file)) as unknown;
  } catch (error) {
    return { rules: {}, problems: [`${file}: cannot be loaded: ${(error as Error).message.split('\n')[0]}`] };
  }
  return checkRulesModule(loaded, file);
}

export function checkRulesModule(loaded: unknown, file: string): { rules: AppRules; problems: string[] } {
  const exported = isRecord(loaded) ? loaded : {};
  const hasHooks = (value: Record<string, unknown>) => RULE_HOOKS.some((hook) => hook in value);
  // default export (ESM or `export default`), a `rules` export, or a CommonJS `module.exports = { …hooks }`.
  const candidate = exported.default ?? exported.rules ?? (hasHooks(exported) ? exported : undefined);
  if (!isRecord(candidate)) {
    return { rules: {}, problems: [`${file}: must export its rules as default (export default defineRules({...})) or as \`rules\``] };
  }
  const problems: string[] = [];
  for (const [name, value] of Object.entries(candidate)) {
    if (candidate === exported && name === '__esModule') continue;
    if (!(RULE_HOOKS as readonly string[]).includes(name)) problems.push(`${file}: unknown hook ${name} (known: ${RULE_HOOKS.join(', ')})`);
    else if (typeof value !== 'function') problems.push(`${file}: hook ${name} must be a function`);
  }
  return { rules: problems.length === 0 ? (candidate as AppRules) : {}, problems };
}
