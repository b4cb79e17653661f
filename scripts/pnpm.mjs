// The repository's pinned pnpm (root package.json "packageManager"), run with only Node and npm installed.
//
//   node scripts/pnpm.mjs <pnpm arguments>        e.g. node scripts/pnpm.mjs install --frozen-lockfile
//
// Once installed, pnpm is a devDependency of the root, so its own copy in node_modules runs: no network, no npx.
// Only before the first install (a fresh clone) is it fetched once with `npx --yes pnpm@<pinned>`.
// `ensureInstalled()` installs only when node_modules does not match pnpm-lock.yaml, so a start with everything
// installed never calls pnpm at all.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** The pnpm version the repository pins, from "packageManager": "pnpm@<version>". */
export function pinnedPnpmVersion(root = ROOT) {
  const { packageManager } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const match = /^pnpm@(\d+\.\d+\.\d+)/.exec(packageManager ?? '');
  if (!match) throw new Error(`package.json: "packageManager" must be "pnpm@<version>", not ${JSON.stringify(packageManager)}`);
  return match[1];
}

/** The installed copy of the pinned pnpm, if there is one. */
function localPnpm(root, version) {
  const manifest = join(root, 'node_modules', 'pnpm', 'package.json');
  if (!existsSync(manifest)) return undefined;
  const installed = JSON.parse(readFileSync(manifest, 'utf8'));
  return installed.version === version ? join(root, 'node_modules', 'pnpm', 'bin', 'pnpm.cjs') : undefined;
}

/** How to run the pinned pnpm: [command, ...arguments before pnpm's own]. */
export function pnpmCommand(root = ROOT) {
  const version = pinnedPnpmVersion(root);
  const local = localPnpm(root, version);
  if (local) return [process.execPath, local];
  const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
  return [npx, '--yes', `pnpm@${version}`];
}

/**
 * Whether node_modules is the install of the current lockfile by the pinned pnpm: pnpm keeps a copy of the
 * lockfile it installed in node_modules/.pnpm/lock.yaml.
 */
export function isInstalled(root = ROOT) {
  const installedLock = join(root, 'node_modules', '.pnpm', 'lock.yaml');
  if (!existsSync(installedLock) || !localPnpm(root, pinnedPnpmVersion(root))) return false;
  return readFileSync(installedLock).equals(readFileSync(join(root, 'pnpm-lock.yaml')));
}

/** Runs the pinned pnpm with `args` in the repository root; resolves to its exit code. */
export function runPnpm(args, root = ROOT) {
  const [command, ...prefix] = pnpmCommand(root);
  return run(command, [...prefix, ...args], root);
}

/**
 * Runs a command in `cwd` with this process's terminal; resolves to its exit code. SIGINT or SIGTERM sent to
 * this process alone (say by npm) is passed on, so the command never outlives it.
 */
export function run(command, args, cwd = ROOT) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, stdio: 'inherit' });
    const forward = (signal) => child.kill(signal);
    process.on('SIGINT', forward).on('SIGTERM', forward);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward).off('SIGTERM', forward);
      resolvePromise(code ?? (signal ? 1 : 0));
    });
  });
}

/** Installs the dependencies (frozen lockfile) unless node_modules already matches it. */
export async function ensureInstalled(root = ROOT) {
  if (isInstalled(root)) return;
  // --prefer-offline: packages already in pnpm's store are not looked up on the registry again.
  const code = await runPnpm(['install', '--frozen-lockfile', '--prefer-offline'], root);
  if (code !== 0) {
    console.error(`pnpm install failed (exit code ${code})`);
    process.exit(code);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await runPnpm(process.argv.slice(2));
}
