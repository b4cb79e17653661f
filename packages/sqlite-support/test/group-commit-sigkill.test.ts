/**
 * Crash safety of group commit, for real: a child process writes through GroupCommit, many writes per batch, and
 * prints each write's id once it is answered. It is killed with SIGKILL mid-work, twice. Every answered write
 * must be in the database whole (both rows), no failed write may be there, and no write may be there in part.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite } from '../src';

jest.setTimeout(120_000);

const WRITER = join(__dirname, 'support', 'group-commit-writer.ts');
let folder: string;

beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), 'group-commit-kill-'));
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** Runs the writer until it has answered `acks` writes, kills it with SIGKILL, and returns what it said. */
async function writeAndKill(path: string, acks: number): Promise<{ acked: number[]; failed: number[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, path], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acked: number[] = [];
  const failed: number[] = [];
  let errors = '';
  let partial = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const [word, id] = line.split(' ');
      if (word === 'ack') acked.push(Number(id));
      if (word === 'fail') failed.push(Number(id));
    }
    if (acked.length >= acks && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
  if (signal !== 'SIGKILL') throw new Error(`the writer ended by itself (${code}): ${errors}`);
  return { acked, failed };
}

function check(path: string, answered: { acked: number[]; failed: number[] }) {
  const opened = openSqlite(path, { owner: 'test', migrations: [() => {}] });
  try {
    expect(opened.uncleanShutdown).toBe(true);
    const db = opened.db;
    const pairs = new Set(db.prepare('SELECT id FROM pairs').pluck().all() as number[]);
    const halves = new Set(db.prepare('SELECT id FROM halves').pluck().all() as number[]);
    expect(answered.acked.filter((id) => !pairs.has(id) || !halves.has(id))).toEqual([]);
    expect(answered.failed.filter((id) => pairs.has(id) || halves.has(id))).toEqual([]);
    expect([...pairs].filter((id) => !halves.has(id))).toEqual([]);
    expect(halves.size).toBe(pairs.size);
    return pairs.size;
  } finally {
    opened.close();
  }
}

test('after SIGKILL every answered write is there whole, and nothing half-written is', async () => {
  const path = join(folder, 'kill.sqlite');
  const first = await writeAndKill(path, 3000);
  expect(first.failed.length).toBeGreaterThan(0); // the duplicates failed alone, beside acknowledged writes
  const afterFirst = check(path, first);
  expect(afterFirst).toBeGreaterThanOrEqual(first.acked.length);

  const second = await writeAndKill(path, 3000);
  expect(Math.min(...second.acked)).toBeGreaterThan(Math.max(...first.acked));
  check(path, { acked: [...first.acked, ...second.acked], failed: [...first.failed, ...second.failed] });
});
