/** The architecture checks: dependency rules (dependency-cruiser, .dependency-cruiser.cjs) and the file size limit. */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';

export const ROOT = join(__dirname, '..', '..', '..');
export const RULES_FILE = join(ROOT, '.dependency-cruiser.cjs');
/** No source file may be longer than this. */
export const MAX_LINES = 400;

export interface CruiseResult {
  /** Every module the cruise reached, relative to the folder it ran in. */
  modules: string[];
  violations: Array<{ rule: string; from: string; to: string; cycle?: string[] }>;
  /** Relative or `@forms/` imports that did not resolve: edges the rules could not see. */
  unresolved: string[];
}

/** Cruises `folders` (relative to `cwd`) with the repository's rules, in a child process (dependency-cruiser is ESM only). */
export async function cruise(folders: string[], cwd = ROOT): Promise<CruiseResult> {
  const { stdout } = await promisify(execFile)(process.execPath, [join(__dirname, 'cruise.mjs'), RULES_FILE, ...folders], {
    cwd,
    timeout: 60_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout) as CruiseResult;
}

const SOURCE = /\.(ts|mts|cts|mjs|cjs)$/;

/** Source files under `folders` (relative to `root`; skipping node_modules and build output) with more than MAX_LINES lines. */
export function oversizedFiles(root: string, folders: string[]): Array<{ file: string; lines: number }> {
  const found: Array<{ file: string; lines: number }> = [];
  const walk = (folder: string) => {
    let entries;
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      return; // a folder this checkout does not have
    }
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== 'dist') walk(path);
      } else if (SOURCE.test(entry.name)) {
        const text = readFileSync(path, 'utf8');
        const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
        if (lines > MAX_LINES) found.push({ file: relative(root, path), lines });
      }
    }
  };
  for (const folder of folders) walk(join(root, folder));
  return found;
}

/** `services/*\/src` and `packages/*\/src`, expanded. */
export function sourceFolders(root: string): string[] {
  const srcOf = (parent: string) =>
    readdirSync(join(root, parent), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `${parent}/${entry.name}/src`);
  return [...srcOf('services'), ...srcOf('packages'), 'scripts', 'bench', 'test-support/src', 'test-support/backends'];
}
