import type Database from 'better-sqlite3';

type SqliteDatabase = Database.Database;

export interface GroupCommitOptions {
  /** Most writes in one transaction: bounds how long one commit holds the event loop (default 256). */
  maxBatch?: number;
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

/**
 * Group commit: the writes that arrive in one turn of the event loop run in one SQLite transaction, and so
 * share one commit (one fsync of the write-ahead log under `synchronous = FULL`) instead of paying one each.
 *
 * - Each write runs in a savepoint of its own: a write that throws is rolled back alone and its caller gets
 *   its error; the others of the batch go on.
 * - Every caller is answered only once the shared COMMIT has returned, i.e. once the batch is durable. If the
 *   commit fails, every write of the batch fails with that error (none of them was stored).
 * - If SQLite rolls the whole transaction back itself after a write's error (it may, on SQLITE_FULL, IOERR,
 *   NOMEM, BUSY), the failing write gets its error and the others of the batch run again in the next one.
 * - Writes are synchronous functions (better-sqlite3); a nested `db.transaction(...)` inside one becomes a
 *   savepoint. The batch runs after the current turn (setImmediate), so reads in the meantime see only
 *   committed data: nothing uncommitted is ever read by another request.
 */
export class GroupCommit {
  private queue: Job[] = [];
  private scheduled = false;
  private closed = false;
  private readonly maxBatch: number;
  /** Commits made and writes committed so far: writes / commits is the mean batch. */
  readonly stats = { commits: 0, writes: 0 };
  private readonly statements;

  constructor(private readonly db: SqliteDatabase, options: GroupCommitOptions = {}) {
    this.maxBatch = options.maxBatch ?? 256;
    this.statements = {
      begin: db.prepare('BEGIN IMMEDIATE'),
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
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Writes waiting for their batch. */
  get pending(): number {
    return this.queue.length;
  }

  /** Commits everything queued now (before closing the database), then refuses new writes. */
  close(): void {
    while (this.queue.length > 0) this.flush();
    this.closed = true;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
      if (this.queue.length > 0) this.schedule();
    });
  }

  private flush(): void {
    const batch = this.queue.splice(0, this.maxBatch);
    if (batch.length === 0) return;
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
    this.stats.writes += outcomes.filter((outcome) => outcome.ok).length;
    batch.forEach((job, index) => {
      const outcome = outcomes[index] as Outcome;
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.error);
    });
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
