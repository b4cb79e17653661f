/**
 * scripts/pnpm.mjs, which `npm run up` and `npm run check` use to install only when needed and to run the
 * pinned pnpm without the network once installed. Checked on made-up repositories in temp folders (the script
 * is an ES module, so a child Node process loads it).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './support/readme';

const SCRIPT = pathToFileURL(join(ROOT, 'scripts', 'pnpm.mjs')).href;
const folders: string[] = [];

/** Calls an export of scripts/pnpm.mjs on `root` in a child process. */
function call(name: 'isInstalled' | 'pnpmCommand' | 'pinnedPnpmVersion', root: string): unknown {
  const code = `import(${JSON.stringify(SCRIPT)}).then((m) => console.log(JSON.stringify(m.${name}(${JSON.stringify(root)}))))`;
  return JSON.parse(execFileSync(process.execPath, ['-e', code], { encoding: 'utf8' }));
}

/** A repository as pnpm leaves it after `pnpm install`: the lockfile copied to node_modules/.pnpm, pnpm itself in node_modules. */
function installedRepository({ pnpmVersion = '9.15.9', installedLock = 'lockfileVersion: 9.0\n' } = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'pnpm-script-'));
  folders.push(root);
  writeFileSync(join(root, 'package.json'), JSON.stringify({ packageManager: 'pnpm@9.15.9' }));
  writeFileSync(join(root, 'pnpm-lock.yaml'), 'lockfileVersion: 9.0\n');
  mkdirSync(join(root, 'node_modules', '.pnpm'), { recursive: true });
  writeFileSync(join(root, 'node_modules', '.pnpm', 'lock.yaml'), installedLock);
  mkdirSync(join(root, 'node_modules', 'pnpm', 'bin'), { recursive: true });
  writeFileSync(join(root, 'node_modules', 'pnpm', 'package.json'), JSON.stringify({ name: 'pnpm', version: pnpmVersion }));
  return root;
}

afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

describe('scripts/pnpm.mjs', () => {
  it('pins the pnpm that the root installs as a devDependency', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    expect(call('pinnedPnpmVersion', ROOT)).toBe(manifest.devDependencies.pnpm);
  });

  it('counts a repository as installed when node_modules holds the current lockfile and the pinned pnpm', () => {
    const root = installedRepository();
    expect(call('isInstalled', root)).toBe(true);
    // Installed: its own pnpm runs, through this Node, with no npx and so no registry look-up.
    expect(call('pnpmCommand', root)).toEqual([process.execPath, join(root, 'node_modules', 'pnpm', 'bin', 'pnpm.cjs')]);
  });

  it('installs again when the lockfile changed since, or another pnpm is installed', () => {
    expect(call('isInstalled', installedRepository({ installedLock: 'lockfileVersion: 9.0\n# older\n' }))).toBe(false);
    const otherPnpm = installedRepository({ pnpmVersion: '9.0.0' });
    expect(call('isInstalled', otherPnpm)).toBe(false);
    expect(call('pnpmCommand', otherPnpm)).toEqual(['npx', '--yes', 'pnpm@9.15.9']);
  });

  it('fetches the pinned pnpm through npx only in a clone that was never installed', () => {
    const fresh = mkdtempSync(join(tmpdir(), 'pnpm-fresh-'));
    folders.push(fresh);
    writeFileSync(join(fresh, 'package.json'), JSON.stringify({ packageManager: 'pnpm@9.15.9' }));
    writeFileSync(join(fresh, 'pnpm-lock.yaml'), 'lockfileVersion: 9.0\n');
    expect(call('isInstalled', fresh)).toBe(false);
    expect(call('pnpmCommand', fresh)).toEqual(['npx', '--yes', 'pnpm@9.15.9']);
  });
});
