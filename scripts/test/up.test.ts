/**
 * The real `npm run up`, as a newcomer runs it: npm, then scripts/up.mjs, then one process per service, on the
 * fixed ports the README shows (5100, 5101, 5102, 5110, 5111; no other test listens on them). With the registry
 * unreachable, as on a machine without network, since an installed clone must start without it.
 *
 * It runs every shell block of the README against the started platform (scripts/test/support/readme.ts), then
 * stops it as a terminal's Ctrl-C does (SIGINT to the whole process group: npm, the start and, if they were in
 * it, the services), ten times over: each stop must be graceful, print one line, and leave no process, lock
 * or port behind. SIGINT to npm alone, and a start that is killed outright, must not leave services running.
 *
 * Skipped, saying so, when one of those ports is taken (a `npm run up` or `npm run bench` of your own).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { busyPorts, descendants, isAlive } from './support/processes';
import { ROOT, sessionScript, shellBlocks } from './support/readme';

const PORTS = [5100, 5101, 5102, 5110, 5111];
const READY_WITHIN_MS = 60_000;
const STOPPED_WITHIN_MS = 60_000;
const STOPPED_LINE = /^Forms platform stopped: apps, events, storage and token service closed gracefully\.$/gm;

const busy = busyPorts(PORTS);
const describeWhenPortsFree = busy.length === 0 ? describe : describe.skip;
if (busy.length > 0) {
  console.warn(`scripts/test/up.test.ts skipped: port(s) ${busy.join(', ')} in use; stop what listens there (npm run up, npm run bench) to run it.`);
}

/**
 * A clean environment (no MONGODB_URL or S3 settings of the test run, no NODE_ENV=test), with every registry
 * and proxy pointing at a closed port: any attempt to reach beyond this machine fails at once.
 */
function offlineEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TERM', 'USER'];
  const nowhere = 'http://127.0.0.1:9/';
  return {
    ...Object.fromEntries(keep.filter((name) => process.env[name] !== undefined).map((name) => [name, process.env[name]])),
    npm_config_registry: nowhere,
    npm_config_update_notifier: 'false',
    HTTP_PROXY: nowhere,
    HTTPS_PROXY: nowhere,
    http_proxy: nowhere,
    https_proxy: nowhere,
    // The platform itself is on this machine: curl must reach it directly.
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
    ...extra,
  };
}

interface Up {
  npm: ChildProcess;
  dataDir: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const dataDirs: string[] = [];
const running = new Set<Up>();

function startUp(): Up {
  const dataDir = mkdtempSync(join(tmpdir(), 'up-data-'));
  dataDirs.push(dataDir);
  // Its own process group, as a terminal gives a foreground job, so that the test can signal the group.
  const npm = spawn('npm', ['run', 'up'], { cwd: ROOT, env: offlineEnv({ DATA_DIR: dataDir }), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  npm.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  npm.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => npm.once('exit', (code, signal) => resolve({ code, signal })));
  const up: Up = { npm, dataDir, output: () => output, exited };
  running.add(up);
  void exited.then(() => running.delete(up));
  return up;
}

async function ready(up: Up): Promise<number> {
  const started = Date.now();
  while (!up.output().includes('Stop with Ctrl-C.')) {
    if (up.npm.exitCode !== null || up.npm.signalCode !== null) throw new Error(`npm run up ended before it was ready:\n${up.output()}`);
    if (Date.now() - started > READY_WITHIN_MS) throw new Error(`npm run up not ready within ${READY_WITHIN_MS / 1000} s:\n${up.output()}`);
    await sleep(100);
  }
  return Date.now() - started;
}

/** The processes of a running `up`: npm, the start, one per service, and their helpers (esbuild's, for tsx). */
function processesOf(up: Up): { pids: number[]; services: string[]; commands: Map<number, string> } {
  const below = descendants(up.npm.pid as number);
  const services = below.filter((info) => /services\/(auth|storage|app)\/src\/server\.ts/.test(info.command)).map((info) => info.command);
  const commands = new Map(below.map((info) => [info.pid, info.command]));
  return { pids: [up.npm.pid as number, ...below.map((info) => info.pid)], services, commands };
}

/**
 * The processes of `pids` still running after a moment: a helper process (esbuild's service, which tsx starts)
 * ends when its parent's pipe closes, a few milliseconds after the parent.
 */
async function survivors({ pids, commands }: { pids: number[]; commands: Map<number, string> }, withinMs = 10_000): Promise<string[]> {
  const deadline = Date.now() + withinMs;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(100);
  return pids.filter(isAlive).map((pid) => `${pid} ${commands.get(pid) ?? 'npm'}`);
}

async function expectStoppedCleanly(up: Up, running: ReturnType<typeof processesOf>): Promise<void> {
  const exit = await Promise.race([up.exited, sleep(STOPPED_WITHIN_MS, undefined, { ref: false }).then(() => 'timeout' as const)]);
  const output = up.output();
  expect({ exit, output }).toEqual({ exit: { code: 0, signal: null }, output });
  expect(output.match(STOPPED_LINE)).toHaveLength(1);
  expect(output).not.toMatch(/second SIG|killed by timeout|stopped unexpectedly|Error|    at /);
  expect(await survivors(running)).toEqual([]);
  expect(existsSync(join(up.dataDir, 'auth', '.lock'))).toBe(false);
  expect(busyPorts(PORTS)).toEqual([]);
}

// A test that fails half-way leaves its `up` running: stopped here, ports and all, so the next test does not fail
// on a busy port instead of on what it tests.
afterEach(async () => {
  for (const up of running) {
    for (const { pid } of descendants(up.npm.pid as number)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    up.npm.kill('SIGKILL');
    await up.exited;
  }
  for (let waited = 0; busyPorts(PORTS).length > 0 && waited < 10_000; waited += 100) await sleep(100);
});

afterAll(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

describeWhenPortsFree('npm run up', () => {
  it('starts offline with each service in its own process, runs every README command, and refuses a second start in one line', async () => {
    const up = startUp();
    const tookMs = await ready(up);
    console.log(`npm run up (offline) was ready after ${(tookMs / 1000).toFixed(1)} s`);
    const running = processesOf(up);
    expect(running.services).toHaveLength(4); // token service, storage, nav/child-benefit, skd/tax-return
    expect(up.output()).toMatch(/admin API key: development-admin-key/);
    // Where each service listens.
    for (const address of [
      'http://127.0.0.1:5100/authentication/api/v1',
      'http://127.0.0.1:5101/storage/api/v1',
      'http://127.0.0.1:5110/nav/child-benefit',
      'http://127.0.0.1:5111/skd/tax-return',
    ]) {
      expect(up.output()).toContain(` ${address} `);
    }

    // The README's shell blocks, in order, in one session, from a folder in the repository.
    mkdirSync(join(ROOT, '.data'), { recursive: true });
    const cwd = mkdtempSync(join(ROOT, '.data', 'readme-'));
    dataDirs.push(cwd);
    // The README's examples take the repository to be cloned to ~/forms-platform.
    const home = join(cwd, 'home');
    mkdirSync(home);
    symlinkSync(ROOT, join(home, 'forms-platform'));
    const script = join(cwd, 'readme-session.sh');
    writeFileSync(script, sessionScript(shellBlocks().filter((block) => block.marking === 'run')));
    const session = spawnSync('bash', [script], {
      cwd,
      env: offlineEnv({ HOME: home, FORMS_CONFIG_DIR: join(cwd, '.forms-cli') }),
      encoding: 'utf8',
      timeout: 240_000,
    });
    const transcript = `${session.stderr}\n${session.stdout}`;
    expect({ status: session.status, transcript }).toEqual({ status: 0, transcript });
    expect(session.stderr).toContain('### README session done');

    // The token service alone beside `up`: refused in one line that names the holder and says what to do.
    const alone = spawnSync('npm', ['run', '-s', 'token-service'], {
      cwd: ROOT,
      env: offlineEnv({ DATA_DIR: join(up.dataDir, 'auth'), PORT: '0' }),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(alone.status).toBe(1);
    const supervisorPid = descendants(up.npm.pid as number).find((info) => info.command.includes('scripts/up.mjs'))?.pid;
    expect(alone.stderr.trim().split('\n')).toEqual([
      `token service not started: ${join(up.dataDir, 'auth')} is in use by process ${descendants(supervisorPid as number).find((info) => info.command.includes('services/auth'))?.pid} (a token service, or npm run up, running on it): stop that process first, or use another DATA_DIR.`,
    ]);

    // A second `up`: one line naming the busy port.
    const secondDataDir = mkdtempSync(join(tmpdir(), 'up-second-'));
    dataDirs.push(secondDataDir);
    const second = spawnSync('npm', ['run', '-s', 'up'], { cwd: ROOT, env: offlineEnv({ DATA_DIR: secondDataDir }), encoding: 'utf8', timeout: 60_000 });
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(/^npm run up: port 5100 \(token service\) is already in use: is `npm run up` already running\? Stop it \(Ctrl-C\), or free the port\.$/m);
    expect(second.stderr).not.toMatch(/    at /);

    process.kill(-(up.npm.pid as number), 'SIGINT');
    await expectStoppedCleanly(up, running);
  }, 420_000);

  it('stops gracefully on one Ctrl-C (SIGINT to the process group), ten times out of ten', async () => {
    for (let round = 1; round <= 10; round += 1) {
      const up = startUp();
      await ready(up);
      const running = processesOf(up);
      expect({ round, services: running.services.length }).toEqual({ round, services: 4 });
      process.kill(-(up.npm.pid as number), 'SIGINT');
      await expectStoppedCleanly(up, running);
    }
  }, 900_000);

  it('stops everything on SIGINT to the npm process alone', async () => {
    const up = startUp();
    await ready(up);
    const running = processesOf(up);
    up.npm.kill('SIGINT');
    await expectStoppedCleanly(up, running);
  }, 180_000);

  it('stops the others, in order, when one service dies, and says which in one line', async () => {
    const up = startUp();
    await ready(up);
    const running = processesOf(up);
    const storagePid = descendants(up.npm.pid as number).find((info) => info.command.includes('services/storage/src/server.ts'))?.pid;
    process.kill(storagePid as number, 'SIGKILL');
    const exit = await up.exited;
    expect(exit.code).toBe(1);
    expect(up.output()).toMatch(/^storage stopped unexpectedly \(signal SIGKILL\); stopping the platform\.$/m);
    expect(await survivors(running)).toEqual([]);
    expect(existsSync(join(up.dataDir, 'auth', '.lock'))).toBe(false);
  }, 180_000);

  it('leaves no service running when the start itself is killed (SIGKILL): each closes gracefully on its own', async () => {
    const up = startUp();
    await ready(up);
    const running = processesOf(up);
    const supervisor = descendants(up.npm.pid as number).find((info) => info.command.includes('scripts/up.mjs'));
    process.kill(supervisor?.pid as number, 'SIGKILL');
    await up.exited;
    expect(await survivors(running, STOPPED_WITHIN_MS)).toEqual([]);
    // Closed, not killed: the token service released its lock on the way out.
    expect(existsSync(join(up.dataDir, 'auth', '.lock'))).toBe(false);
    expect(busyPorts(PORTS)).toEqual([]);
  }, 180_000);
});
