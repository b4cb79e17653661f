/**
 * Runs dependency-cruiser (ESM only, so outside jest's CommonJS transform) with the repository's rules over the
 * given folders, from the current folder, and prints `{ modules, violations, unresolved }` as JSON.
 * Usage: node cruise.mjs <config file> <folder>...
 */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { cruise } from 'dependency-cruiser';

const [configFile, ...folders] = process.argv.slice(2);
const config = createRequire(import.meta.url)(resolve(configFile));
const tsConfig = config.options.tsConfig && resolve(config.options.tsConfig.fileName);
const ts = tsConfig ? (await import('typescript')).default : undefined;
const parsedTsConfig = ts
  ? ts.parseJsonConfigFileContent(ts.readConfigFile(tsConfig, ts.sys.readFile).config, ts.sys, resolve(tsConfig, '..'))
  : undefined;

const { output } = await cruise(
  folders,
  { ...config.options, ruleSet: { forbidden: config.forbidden }, validate: true, outputType: 'json' },
  undefined,
  parsedTsConfig ? { tsConfig: parsedTsConfig } : undefined,
);
const result = typeof output === 'string' ? JSON.parse(output) : output;
const violations = result.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to, cycle: v.cycle?.map((step) => step.name ?? step) }));
// Our own imports that did not resolve would be edges the rules never see.
const unresolved = result.modules.flatMap((m) =>
  m.dependencies.filter((d) => d.couldNotResolve && /^(\.|@forms\/)/.test(d.module)).map((d) => `${m.source} -> ${d.module}`),
);
process.stdout.write(`${JSON.stringify({ modules: result.modules.map((m) => m.source), violations, unresolved })}\n`);
