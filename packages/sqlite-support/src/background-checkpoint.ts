import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { driverPath } from './driver';

type SqliteDatabase = Database.Database;

export interface BackgroundCheckpointOptions {
  /** Least time from the start of one checkpoint to the start of the next (default 100 ms). */
  intervalMs?: number;
  /**
   * The log's length, in pages, at which the writing connection checkpoints itself after a commit, as SQLite
   * does by default at 1 000 (default 4 000, 16 MiB). Only then can the log start again from its beginning.
   */
  catchUpPages?: number;
  /** The worker could not be started or a checkpoint failed: the writing connection's own checkpoints go on. */
  onError?: (error: Error) => void;
}

interface CheckpointReply {
  ok: boolean;
  error?: string;
}

/**
 * The worker: its own connection to the database, which never writes; each message runs one PASSIVE checkpoint
 * (it copies what no reader still needs, never waits for a lock, and syncs the log before copying and the
 * database file after it). Plain JavaScript: a worker has no TypeScript loader.
 */
const WORKER_SOURCE = `
  const { parentPort, workerData } = require('node:worker_threads');
  const Database = require(workerData.driver);
  const db = new Database(workerData.path, { fileMustExist: true, timeout: 5000 });
  db.pragma('wal_autocheckpoint = 0');
  // Its checkpoints sync the log before copying from it and the database file after (with OFF they would not).
  db.pragma('synchronous = NORMAL');
  parentPort.on('message', (message) => {
    if (message === 'close') {
      db.close();
      parentPort.close();
      return;
    }
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
      parentPort.postMessage({ ok: true });
    } catch (error) {
      parentPort.postMessage({ ok: false, error: String(error && error.message) });
    }
  });
`;

/**
 * Checkpoints of the write-ahead log in a worker thread (ADR 0015). SQLite checkpoints on the connection that
 * commits, inside the COMMIT: every 1 000 pages the event loop copied the log into the database file and waited
 * for two fsyncs, a stall of milliseconds that every request in flight waited out. Here a worker does that copy
 * on a connection of its own, at most every `intervalMs` while there are commits, and the writing connection
 * checkpoints only at `catchUpPages`, finding the log all but copied: a checkpoint running beside the writer
 * never reaches the log's end under steady writes, and only a complete one lets the log start again from its
 * beginning, so the writer's own keeps the log's length bounded. Durability is unchanged: a checkpoint, wherever
 * it runs, syncs the log before it copies from it.
 *
 * The worker starts with the first commit. If it fails, checkpoints are the writing connection's alone, as
 * before (at `catchUpPages`).
 */
export class BackgroundCheckpointer {
  /** Checkpoints the worker ran. */
  readonly stats = { checkpoints: 0 };
  private worker: Worker | undefined;
  private exited: Promise<void> | undefined;
  private running = false;
  private wanted = false;
  private stopped = false;
  private lastStart = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly options: BackgroundCheckpointOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 100;
    db.pragma(`wal_autocheckpoint = ${options.catchUpPages ?? 4000}`);
  }

  /** A transaction was committed: a checkpoint follows within `intervalMs`. */
  committed(): void {
    if (this.stopped) return;
    this.wanted = true;
    this.next();
  }

  /** Waits for a checkpoint under way, then closes the worker's connection (before the database itself closes). */
  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const worker = this.worker;
    if (!worker) return;
    worker.postMessage('close');
    await this.exited;
  }

  private next(): void {
    if (this.running || !this.wanted || this.stopped || this.timer) return;
    const wait = this.lastStart + this.intervalMs - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.next();
      }, wait);
      this.timer.unref();
      return;
    }
    const worker = this.start();
    if (!worker) return;
    this.wanted = false;
    this.running = true;
    this.lastStart = Date.now();
    worker.postMessage('checkpoint');
  }

  private start(): Worker | undefined {
    if (this.worker) return this.worker;
    try {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path: this.db.name, driver: driverPath() } });
      worker.unref();
      worker.on('message', (reply: CheckpointReply) => this.finished(reply));
      worker.on('error', (error) => this.fail(error));
      this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
      this.worker = worker;
      return worker;
    } catch (error) {
      this.fail(error as Error);
      return undefined;
    }
  }

  private finished(reply: CheckpointReply): void {
    this.running = false;
    if (!reply.ok) {
      this.fail(new Error(`background checkpoint failed: ${reply.error ?? 'unknown error'}`));
      return;
    }
    this.stats.checkpoints += 1;
    this.next();
  }

  /** Checkpoints are left to the writing connection from here on. */
  private fail(error: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    this.running = false;
    clearTimeout(this.timer);
    this.options.onError?.(error);
    this.worker?.postMessage('close');
  }
}
