import { close as closeFd, existsSync, fdatasync, open } from 'node:fs';
import { promisify } from 'node:util';
import type Database from 'better-sqlite3';
import { syncFileData } from './durable-files';

type SqliteDatabase = Database.Database;

export interface GroupCommitOptions {
  /** Most writes in one transaction: bounds how long one commit holds the event loop (default 256). */
  maxBatch?: number;
  /** Makes a file's written data durable (default: fdatasync of the log, kept open, on libuv's thread pool). */
  syncFile?: (path: string) => Promise<void>;
  /** Called after each COMMIT (a background checkpointer's cue). */
  afterCommit?: () => void;
}

/** The write-ahead log could not be synced: what was committed since the last sync may be lost on power loss. */
export class WalSyncError extends Error {
  readonly code = 'WAL_SYNC_FAILED';
  constructor(cause: unknown) {
    super(`the write-ahead log could not be synced (${(cause as Error).message}): writes are refused until a restart`, { cause });
    this.name = 'WalSyncError';
  }
}

/** The committer is closed: the write was not run. */
export class GroupCommitClosedError extends Error {
  readonly code = 'GROUP_COMMIT_CLOSED';
  constructor() {
    super('the database is closing: the write was not run');
    this.name = 'GroupCommitClosedError';
  }
}

interface Job {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** A committed write waiting for the sync of the write-ahead log that makes it durable. */
interface Committed {
  job: Job;
  outcome: Outcome;
}

const openFile = promisify(open);
const syncData = promisify(fdatasync);

/**
 * The write-ahead log, opened once and kept open: each sync is then one fdatasync on libuv's thread pool rather
 * than an open, a sync and a close. SQLite keeps the log file (it rewrites it from the start after a checkpoint)
 * for as long as this connection is open.
 */
class KeptOpenFile {
  private fd: number | undefined;
  constructor(private readonly path: string) {}

  async syncData(): Promise<void> {
    this.fd ??= await openFile(this.path, 'r');
    await syncData(this.fd);
  }

  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    closeFd(fd, () => undefined);
  }
}

/**
 * Group commit: the writes that arrive in one turn of the event loop run in one SQLite transaction; while a sync
 * of the write-ahead log is under way, writes wait and commit together when it returns, and the next sync makes
 * them durable (ADR 0015).
 *
 * - The database runs with `synchronous = NORMAL` (set here): a COMMIT writes the log but does not fsync it on
 *   the event loop. Durability is this class's job: after each commit it fdatasyncs the `-wal` file on libuv's
 *   thread pool, and answers the batch's callers only once that sync has returned. The log is written in commit
 *   order, so one sync makes every commit before it durable; SQLite itself still syncs the log before each
 *   checkpoint and the database after it, so checkpoints never outrun the log.
 *
 * - Each write runs in a savepoint of its own: a write that throws is rolled back alone and its caller gets
 *   its error; the others of the batch go on.
 * - Every caller is answered only once the log has been synced after its batch's COMMIT: its write is durable.
 *   If the commit fails, every write of the batch fails with that error (none of them was stored). If a sync
 *   fails, its writes fail and every later write is refused (the kernel may have dropped the unsynced pages).
 * - Another request may read a committed write a moment before its sync returns; a process crash cannot lose
 *   it (it is in the operating system's cache), only a power cut could, and then only if nothing acknowledged
 *   after it depends on it: any write answered later was synced later, and with it every commit before it.
 * - If SQLite rolls the whole transaction back itself after a write's error (it may, on SQLITE_FULL, IOERR,
 *   NOMEM, BUSY), the failing write gets its error and the others of the batch run again in the next one.
 * - Writes are synchronous functions (better-sqlite3); a nested `db.transaction(...)` inside one becomes a
 *   savepoint. The batch runs after the current turn (setImmediate), so reads in the meantime never see
 *   uncommitted data.
 * - Reads through `read()` share one read transaction per turn of the event loop (see there).
 */
export class GroupCommit {
  private queue: Job[] = [];
  private scheduled = false;
  private closed = false;
  private readonly maxBatch: number;
  /** Commits, writes committed and syncs of the log so far: writes / syncs is the mean group. */
  readonly stats = { commits: 0, writes: 0, syncs: 0 };
  /** Committed, waiting for the next sync. */
  private unsynced: Committed[] = [];
  private syncing = false;
  private inFlight: Committed[] = [];
  /** Set once a sync failed: nothing committed after it can be promised durable. */
  private broken: WalSyncError | undefined;
  private readonly walPath: string;
  private readonly syncFile: (path: string) => Promise<void>;
  private readonly afterCommit: () => void;
  private readonly wal: KeptOpenFile;
  private readonly statements;
  /** A read transaction opened by `read()` is open on the connection. */
  private reading = false;

  constructor(private readonly db: SqliteDatabase, options: GroupCommitOptions = {}) {
    this.maxBatch = options.maxBatch ?? 256;
    this.walPath = `${db.name}-wal`;
    this.wal = new KeptOpenFile(this.walPath);
    this.syncFile = options.syncFile ?? (() => this.wal.syncData());
    this.afterCommit = options.afterCommit ?? (() => undefined);
    db.pragma('synchronous = NORMAL');
    // A write's savepoint copies each page it is first to change into the statement journal (an instance with
    // its events changes 15-20). Once one write's copies pass 64 KiB, SQLite moves that journal into a temporary
    // file for the rest of the transaction: two pwrite calls per page copied, a third of a write's CPU. The
    // journal only serves ROLLBACK TO inside an open transaction (crash recovery uses the write-ahead log), so
    // keeping it in memory weakens nothing; it costs at most what one write changes.
    db.pragma('temp_store = MEMORY');
    // What an earlier process committed may not have been synced (it was killed between a commit and its sync):
    // synced now, so everything a reader finds at start-up is durable.
    if (existsSync(this.walPath)) syncFileData(this.walPath);
    this.statements = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      beginRead: db.prepare('BEGIN DEFERRED'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT group_commit_write'),
      release: db.prepare('RELEASE group_commit_write'),
      rollbackTo: db.prepare('ROLLBACK TO group_commit_write'),
    };
  }

  /** Runs `work` in the next batch; resolves with its result once the batch's commit is durable. */
  run<T>(work: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new GroupCommitClosedError());
    if (this.broken) return Promise.reject(this.broken);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  /**
   * Runs a read (a synchronous query). The reads of one turn of the event loop share one read transaction: outside
   * a transaction SQLite takes and drops its locks around every statement (four fcntl calls and the log's index
   * checked again), more than half of SQLite's time for a read by key. The transaction ends before the next batch
   * of writes begins and at the end of the turn, so a read sees every write committed before its turn; a read
   * inside a write (or any open transaction) simply joins it.
   */
  read<T>(query: () => T): T {
    if (!this.reading && !this.db.inTransaction && !this.closed) {
      this.statements.beginRead.run();
      this.reading = true;
      setImmediate(this.endRead);
    }
    return query();
  }

  /** Ends the turn's read transaction now: before a statement that must run outside any transaction. */
  readonly endRead = (): void => {
    if (!this.reading) return;
    this.reading = false;
    // A read transaction has nothing to commit: COMMIT only lets the snapshot and its locks go.
    if (this.db.inTransaction) this.statements.commit.run();
  };

  /**
   * Resolves once every write committed so far is durable: after the sync under way, or the next one when more was
   * committed since. Rejects with the WalSyncError if that sync fails. A reader that saw committed rows waits on
   * this before answering with them, so it never hands out what a power cut could take back.
   */
  synced(): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    // The committed writes ride with the next sync; with none waiting, the one under way covers every commit.
    const group = this.unsynced.length > 0 ? this.unsynced : this.syncing ? this.inFlight : undefined;
    if (!group) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      group.push({ job: { work: () => undefined, resolve: () => resolve(), reject }, outcome: { ok: true, value: undefined } });
    });
  }

  /** Why writes are refused, once a sync of the log has failed (readiness reports it). */
  get failure(): WalSyncError | undefined {
    return this.broken;
  }

  /** Writes waiting for their batch. */
  get pending(): number {
    return this.queue.length;
  }

  /** Commits and syncs everything queued now (before closing the database), then refuses new writes. */
  close(): void {
    this.endRead();
    this.closed = true;
    while (this.queue.length > 0) this.flush(false);
    // Synced here, before the database closes (and a clean close removes the log): also the group of a sync
    // still under way, whose later answer then finds its promises settled already.
    const group = [...this.inFlight, ...this.unsynced.splice(0)];
    // A sync under way still uses the kept-open log: it closes it when it returns.
    if (!this.syncing) this.wal.close();
    if (group.length === 0) return;
    try {
      syncFileData(this.walPath);
      this.settle(group);
    } catch (error) {
      this.fail(group, error);
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      // While the log is being synced, writes wait for that sync to return and then commit together. They would be
      // answered after the next sync either way; one transaction writes the pages they share (the last page of
      // every index, ADR 0019) once instead of once per commit.
      if (this.syncing) return;
      this.flush();
      if (this.queue.length > 0) this.schedule();
    });
  }

  private flush(sync = true): void {
    const batch = this.queue.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    this.endRead();
    if (this.broken) {
      for (const job of batch) job.reject(this.broken);
      return;
    }
    if (this.db.inTransaction) {
      // Someone else's transaction is open on this connection: never fold our writes into it.
      for (const job of batch) job.reject(new Error('group commit: a transaction is already open on this connection'));
      return;
    }
    try {
      this.statements.begin.run();
    } catch (error) {
      for (const job of batch) job.reject(error);
      return;
    }
    const outcomes: Outcome[] = [];
    for (let index = 0; index < batch.length; index += 1) {
      const outcome = this.runOne(batch[index] as Job);
      if (!outcome.ok && !this.db.inTransaction) {
        // SQLite rolled the whole transaction back: the earlier writes are gone. Run them (and the rest) again.
        (batch[index] as Job).reject(outcome.error);
        const again = batch.filter((_, other) => other !== index && (other > index || (outcomes[other] as Outcome).ok));
        for (let other = 0; other < index; other += 1) {
          const earlier = outcomes[other] as Outcome;
          if (!earlier.ok) (batch[other] as Job).reject(earlier.error);
        }
        this.queue.unshift(...again);
        this.schedule();
        return;
      }
      outcomes.push(outcome);
    }
    try {
      this.statements.commit.run();
    } catch (error) {
      if (this.db.inTransaction) this.statements.rollback.run();
      for (const job of batch) job.reject(error);
      return;
    }
    this.stats.commits += 1;
    this.afterCommit();
    this.stats.writes += outcomes.filter((outcome) => outcome.ok).length;
    batch.forEach((job, index) => this.unsynced.push({ job, outcome: outcomes[index] as Outcome }));
    if (sync) this.sync();
  }

  /** One sync of the log at a time; what commits meanwhile waits for the next one. */
  private sync(): void {
    if (this.syncing || this.unsynced.length === 0) return;
    this.syncing = true;
    const group = this.unsynced.splice(0);
    this.inFlight = group;
    const ended = () => {
      this.syncing = false;
      this.inFlight = [];
      if (this.closed) this.wal.close();
    };
    this.syncFile(this.walPath).then(
      () => {
        ended();
        this.stats.syncs += 1;
        this.settle(group);
        if (this.queue.length > 0) this.schedule();
        this.sync();
      },
      (error: unknown) => {
        ended();
        this.fail(group, error);
      },
    );
  }

  private settle(group: Committed[]): void {
    for (const { job, outcome } of group) {
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.error);
    }
  }

  /** After a failed sync the kernel may have dropped the unsynced pages: no later write can be promised durable. */
  private fail(group: Committed[], cause: unknown): void {
    this.broken ??= new WalSyncError(cause);
    for (const { job } of [...group, ...this.unsynced.splice(0)]) job.reject(this.broken);
    for (const job of this.queue.splice(0)) job.reject(this.broken);
  }

  private runOne(job: Job): Outcome {
    this.statements.savepoint.run();
    try {
      const value = job.work();
      if (value instanceof Promise) throw new TypeError('group commit: a write must be synchronous');
      this.statements.release.run();
      return { ok: true, value };
    } catch (error) {
      if (this.db.inTransaction) {
        this.statements.rollbackTo.run();
        this.statements.release.run();
      }
      return { ok: false, error };
    }
  }
}
