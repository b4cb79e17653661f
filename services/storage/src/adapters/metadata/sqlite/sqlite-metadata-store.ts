import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Application, Instance, InstanceEvent } from '@forms/contracts';
import { assertWritable, BackgroundCheckpointer, GroupCommit, GroupCommitClosedError, type GroupCommitOptions, WalSyncError, openSqlite, type OpenedSqlite, type SqliteDatabase } from '@forms/sqlite-support';
import type {
  ApplicationRepository,
  EventQuery,
  InstanceEventRepository,
  InstanceQuery,
  InstanceRepository,
  InlineContentRepository,
  InstanceWrite,
  MetadataStore,
  PendingUpload,
  StoreLog,
  PendingUploadRepository,
  EventFeedQuery,
  SequencedInstance,
  SequencedInstanceEvent,
  StoreWriteFigures,
} from '../../../domain/ports/metadata-store';
import type { ScanJob, ScanQueueRepository } from '../../../domain/ports/scan-queue';
import { assertValidLimit, instanceGuidOf, metadataStoreUnavailable as unavailable } from '../metadata-support';
import { eventListSql, instanceQuerySql, takeUpTo } from './query-sql';
import { instanceRow } from './instance-row';
import { prepareStatements } from './statements';
import { importJournals } from './journal-import';
import { METADATA_MIGRATIONS } from './schema';
import { translateSqliteError, translateSqliteErrors as translate } from './sqlite-errors';
import { startIntegrityCheck, type IntegrityReport } from './integrity';

export const METADATA_DATABASE_FILE = 'metadata.sqlite';

/** Rolls back a replace whose version check failed (its sequence with it). */
class StaleVersion extends Error {}

export interface SqliteMetadataStoreOptions {
  /** Where the journals of the earlier embedded store may be (`DATA_DIR/metadata`): imported on first start. */
  legacyJournalDirectory?: string;
  /** Runs `PRAGMA quick_check` in a worker thread after an unclean shutdown (default true). */
  checkAfterUncleanShutdown?: boolean;
  /** Group commit settings (ADR 0015); tests hold a sync back with `syncFile`. */
  groupCommit?: GroupCommitOptions;
}

/**
 * MetadataStore on SQLite (better-sqlite3), the embedded default: one database file in the data
 * directory, WAL, and every write of an instance in one transaction with its events and pending-upload
 * records. Writes go through group commit (ADR 0015): durable (the log synced) before their promise resolves. better-sqlite3 is synchronous; each statement is short (an
 * indexed lookup or one page), so it runs on the event loop rather than paying a thread hop.
 */
export class SqliteMetadataStore implements MetadataStore {
  private opened: OpenedSqlite | undefined;
  private commits: GroupCommit | undefined;
  private checkpointer: BackgroundCheckpointer | undefined;
  private repositories: Repositories | undefined;
  /** The outcome of the background check after an unclean shutdown, once known. */
  integrity: IntegrityReport = { state: 'not-needed' };
  /** A write failed for want of space; /ready reports it until a probe write succeeds again. */
  private full = false;

  constructor(
    private readonly dataDirectory: string,
    private readonly options: SqliteMetadataStoreOptions = {},
  ) {}

  get path(): string {
    return join(this.dataDirectory, METADATA_DATABASE_FILE);
  }

  get applications(): ApplicationRepository {
    return this.open().applications;
  }

  get instances(): InstanceRepository {
    return this.open().instances;
  }

  get events(): InstanceEventRepository {
    return this.open().events;
  }

  get pendingUploads(): PendingUploadRepository {
    return this.open().pendingUploads;
  }

  get scanQueue(): ScanQueueRepository {
    return this.open().scanQueue;
  }

  get inlineContents(): InlineContentRepository {
    return this.open().inlineContents;
  }

  /** The open database, for maintenance and tests (EXPLAIN QUERY PLAN, PRAGMAs). */
  get database(): SqliteDatabase {
    const opened = this.opened;
    if (!opened) throw unavailable('the SQLite metadata store is not open');
    return opened.db;
  }

  writeFigures(): StoreWriteFigures {
    const { commits, checkpointer } = this;
    return {
      commits: commits?.stats.commits ?? 0,
      writes: commits?.stats.writes ?? 0,
      logSyncs: commits?.stats.syncs ?? 0,
      checkpoints: checkpointer?.stats.checkpoints ?? 0,
      waiting: commits?.pending ?? 0,
      logBytes: statSync(`${this.path}-wal`, { throwIfNoEntry: false })?.size ?? 0,
    };
  }

  async init(log: StoreLog = () => {}): Promise<void> {
    if (this.opened) return;
    const opened = openSqlite(this.path, { migrations: METADATA_MIGRATIONS, owner: 'storage' });
    try {
      if (this.options.legacyJournalDirectory) {
        const imported = await importJournals(opened.db, this.options.legacyJournalDirectory);
        if (imported) log('info', 'imported the journals of the earlier embedded store', imported);
      }
    } catch (error) {
      opened.close();
      throw error;
    }
    this.opened = opened;
    const checkpointer = new BackgroundCheckpointer(opened.db, {
      onError: (error) => log('warn', 'checkpoints of the metadata database run on the event loop again', { error: error.message }),
    });
    this.checkpointer = checkpointer;
    this.commits = new GroupCommit(opened.db, { ...this.options.groupCommit, afterCommit: () => checkpointer.committed() });
    this.repositories = createRepositories(opened.db, this.commits, () => {
      this.full = true;
    });
    if (opened.uncleanShutdown && this.options.checkAfterUncleanShutdown !== false) {
      this.integrity = { state: 'running' };
      // Not awaited: readiness must not wait for a check that reads the whole file.
      void startIntegrityCheck(this.path).then((report) => {
        this.integrity = report;
        if (report.state === 'damaged') log('error', 'metadata database is damaged: see the README, "Repairing the embedded database"', report);
        else log('info', 'integrity check after an unclean shutdown', report);
      });
    }
  }

  async ping(): Promise<void> {
    const db = this.opened?.db;
    if (!db) throw unavailable('the SQLite metadata store is not open');
    const failure = this.commits?.failure;
    if (failure) throw unavailable(failure.message, failure);
    // The probes below need the connection outside any transaction.
    this.commits?.endRead();
    if (this.full) {
      // A real write that needs fresh pages, committed and removed again: succeeds only once there is room.
      translate(() => db.transaction(() => {
        db.prepare('CREATE TABLE IF NOT EXISTS space_probe (filler BLOB)').run();
        db.prepare('INSERT INTO space_probe (filler) VALUES (zeroblob(262144))').run();
        db.prepare('DELETE FROM space_probe').run();
      })());
      this.full = false;
      return;
    }
    translate(() => assertWritable(db));
  }

  async close(): Promise<void> {
    const opened = this.opened;
    this.opened = undefined;
    this.repositories = undefined;
    this.commits?.close(); // the writes already queued are committed, not dropped
    this.commits = undefined;
    // Its connection closes first: only the last connection's close checkpoints and removes the log.
    await this.checkpointer?.close();
    this.checkpointer = undefined;
    opened?.close();
  }

  private open(): Repositories {
    if (!this.repositories) throw unavailable('the SQLite metadata store is not open (call init first)');
    return this.repositories;
  }
}

interface Repositories {
  applications: ApplicationRepository;
  instances: InstanceRepository;
  events: InstanceEventRepository;
  pendingUploads: PendingUploadRepository;
  scanQueue: ScanQueueRepository;
  inlineContents: InlineContentRepository;
}

const parse = <T>(row: { doc: string } | undefined): T | null => (row === undefined ? null : (JSON.parse(row.doc) as T));

function createRepositories(db: SqliteDatabase, commits: GroupCommit, onFull: () => void): Repositories {
  const lastSequence = db.prepare<[], number>('SELECT value FROM sequence_counter WHERE id = 1').pluck();
  // The durable watermark: every write up to this sequence is synced. The feed reads no further, and a query that
  // reads beyond it waits for the sync, so a reader never passes a sequence that a power cut could take back and
  // hand out again (ADR 0015).
  let durable = lastSequence.get() as number;
  // Every write joins the next group commit (ADR 0015): durable before its promise resolves, one fsync per batch.
  const write = <T>(operation: () => T, key?: string): Promise<T> =>
    commits.run((): [T, number] => [operation(), lastSequence.get() as number]).then(
      ([result, sequence]) => {
        durable = Math.max(durable, sequence);
        return result;
      },
      (error: unknown) => {
        if (error instanceof GroupCommitClosedError) throw unavailable('the SQLite metadata store is closing', error);
        if (error instanceof WalSyncError) throw unavailable(error.message, error);
        throw translateSqliteError(error, key, onFull);
      },
    );
  // Reads of one turn share a read transaction (GroupCommit.read): SQLite's locks once per turn, not per statement.
  const read = <T>(query: () => T): T => translate(() => commits.read(query));
  const statements = prepareStatements(db);
  const queries = new Map<string, ReturnType<SqliteDatabase['prepare']>>();

  const writeConfirmations = (guid: string, instance: Instance) => {
    statements.removeConfirmations.run(guid);
    for (const confirmation of instance.completeConfirmations) statements.insertConfirmation.run(guid, confirmation.stakeholderId);
  };
  const insertEvent = (event: InstanceEvent, appId: string, sequence: number) =>
    statements.insertEvent.run(event.id, event.instanceId, event.created, event.eventType, JSON.stringify(event), appId, sequence);
  const appOf = (instanceId: string) => statements.appOfInstance.get(instanceId.split('/')[1] ?? '', instanceId) ?? '';
  const insertUpload = (upload: PendingUpload) => statements.insertUpload.run(upload.dataElementId, upload.started, JSON.stringify(upload));
  const writeAlongside = (write: InstanceWrite | undefined, appId: string, sequence: number) => {
    for (const event of write?.events ?? []) insertEvent(event, appId, sequence);
    for (const upload of write?.pendingUploads ?? []) insertUpload(upload);
    for (const id of write?.settledUploads ?? []) statements.removeUpload.run(id);
    for (const content of write?.inlineContents ?? []) statements.putContent.run(content.key, content.bytes);
  };

  const insertInstance = db.transaction((instance: Instance, write: InstanceWrite | undefined) => {
    const guid = instanceGuidOf(instance);
    const sequence = statements.nextSequence.get() as number;
    statements.insertInstance.run({ ...instanceRow(guid, instance), sequence });
    writeConfirmations(guid, instance);
    writeAlongside(write, instance.appId, sequence);
  });
  const replaceInstance = db.transaction((instance: Instance, expectedVersion: number, write: InstanceWrite | undefined): boolean => {
    const guid = instanceGuidOf(instance);
    const sequence = statements.nextSequence.get() as number;
    // A lost race rolls the transaction back, counter included: no sequence is spent on it.
    if (statements.replaceInstance.run({ ...instanceRow(guid, instance, write?.json), sequence, expected_version: expectedVersion }).changes !== 1) {
      throw new StaleVersion();
    }
    writeConfirmations(guid, instance);
    writeAlongside(write, instance.appId, sequence);
    return true;
  });
  const removeInstance = db.transaction((guid: string, write: Pick<InstanceWrite, 'events'> | undefined) => {
    const events = write?.events ?? [];
    if (events.length > 0) {
      const sequence = statements.nextSequence.get() as number;
      for (const event of events) insertEvent(event, appOf(event.instanceId), sequence);
    }
    statements.removeInstance.run(guid);
    statements.removeConfirmations.run(guid);
  });

  const insertEventAlone = db.transaction((event: InstanceEvent) => {
    insertEvent(event, appOf(event.instanceId), statements.nextSequence.get() as number);
  });
  const cached = (sql: string) => {
    let statement = queries.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      if (queries.size < 500) queries.set(sql, statement);
    }
    return statement;
  };
  const untilDurable = <Row extends { sequence: number }>(rows: Row[]): Row[] => {
    const end = rows.findIndex((row) => row.sequence > durable);
    return end === -1 ? rows : rows.slice(0, end);
  };
  const querySequenced = async (query: InstanceQuery): Promise<SequencedInstance[]> => {
    assertValidLimit(query.limit);
    if (query.limit === 0) return [];
    const { sql, params } = instanceQuerySql(query);
    const rows = read(() => takeUpTo(cached(sql).iterate(params) as IterableIterator<{ doc: string; sequence: number }>, query.maxBytes));
    // Rows committed but not yet synced are answered once the sync returns: never before (a power cut could take
    // them back), and never left out (an instance being changed would drop out of a listing while its change syncs).
    if (rows.some((row) => row.sequence > durable)) {
      await commits.synced().catch((error: unknown) => {
        throw error instanceof WalSyncError ? unavailable(error.message, error) : error;
      });
    }
    return rows.map((row) => ({ instance: JSON.parse(row.doc) as Instance, sequence: row.sequence, bytes: row.doc.length }));
  };

  return {
    applications: {
      get: async (appId) => read(() => parse<Application>(statements.getApplication.get(appId))),
      listByOrg: async (org) => read(() => statements.listApplications.all(org).map((row) => JSON.parse(row.doc) as Application)),
      listAll: async () => read(() => statements.listAllApplications.all().map((row) => JSON.parse(row.doc) as Application)),
      remove: async (appId) => {
        await write(() => statements.removeApplication.run(appId));
      },
      insert: async (application) => {
        await write(() => statements.insertApplication.run(application.id, application.org, application.version, JSON.stringify(application)), application.id);
      },
      replace: async (application, expectedVersion) =>
        write(
          () =>
            statements.replaceApplication.run(application.org, application.version, JSON.stringify(application), application.id, expectedVersion).changes === 1,
        ),
    },
    instances: {
      get: async (instanceGuid) => read(() => parse<Instance>(statements.getInstance.get(instanceGuid))),
      insert: async (instance, alongside) => {
        await write(() => insertInstance(instance, alongside), instanceGuidOf(instance));
      },
      replace: async (instance, expectedVersion, alongside) =>
        write(() => {
          try {
            replaceInstance(instance, expectedVersion, alongside);
            return true;
          } catch (error) {
            if (error instanceof StaleVersion) return false;
            throw error;
          }
        }),
      remove: async (instanceGuid, alongside) => {
        await write(() => removeInstance(instanceGuid, alongside));
      },
      query: async (query: InstanceQuery) => (await querySequenced(query)).map((row) => row.instance),
      querySequenced,
    },
    events: {
      insert: async (event) => {
        await write(() => insertEventAlone(event), event.id);
      },
      list: async (instanceId: string, query: EventQuery) => {
        if (query.limit !== undefined) assertValidLimit(query.limit);
        if (query.limit === 0 || query.eventTypes?.length === 0) return [];
        const { sql, params } = eventListSql(instanceId, query);
        return read(() => (cached(sql).all(params) as { doc: string }[]).map((row) => JSON.parse(row.doc) as InstanceEvent));
      },
      get: async (instanceId, eventId) => {
        const doc = read(() => statements.getEvent.get(eventId, instanceId));
        return doc === undefined ? null : (JSON.parse(doc) as InstanceEvent);
      },
      removeForInstance: async (instanceId) => {
        await write(() => statements.removeEvents.run(instanceId));
      },
      feed: async (query: EventFeedQuery) => {
        assertValidLimit(query.limit);
        if (query.limit === 0 || query.appIds?.length === 0) return [];
        const apps = query.appIds ?? [];
        const sql =
          `SELECT doc, sequence, app_id FROM events WHERE sequence > ?${apps.length > 0 ? ` AND app_id IN (${apps.map(() => '?').join(', ')})` : ''}` +
          ' ORDER BY sequence, id LIMIT ?';
        type FeedRow = { doc: string; sequence: number; app_id: string };
        const toEvent = (row: FeedRow): SequencedInstanceEvent => ({ ...(JSON.parse(row.doc) as InstanceEvent), sequence: row.sequence, appId: row.app_id });
        return read(() => {
          const events = untilDurable(cached(sql).all([query.after, ...apps, query.limit]) as FeedRow[]).map(toEvent);
          const last = events.at(-1);
          // A full page may end inside a write: the rest of that write's events come too.
          if (events.length < query.limit || !last) return events;
          return [...events, ...(statements.restOfWrite.all(last.sequence, last.id) as FeedRow[]).map(toEvent)];
        });
      },
    },
    pendingUploads: {
      insert: async (upload) => {
        await write(() => insertUpload(upload), upload.dataElementId);
      },
      remove: async (dataElementId) => {
        await write(() => statements.removeUpload.run(dataElementId));
      },
      listStartedBefore: async (started, limit) => {
        assertValidLimit(limit);
        return read(() => statements.listUploads.all(started, limit).map((row) => JSON.parse(row.doc) as PendingUpload));
      },
    },
    inlineContents: {
      get: async (key) => read(() => statements.getContent.get(key) ?? null),
      // Every deletion of content asks here first: one that holds nothing costs no write.
      delete: async (key) => {
        if (read(() => statements.hasContent.get(key)) === undefined) return;
        await write(() => statements.removeContent.run(key));
      },
    },
    scanQueue: {
      put: async (job) => {
        await write(() => statements.putScanJob.run(job.dataElementId, job.due, JSON.stringify(job)));
      },
      remove: async (dataElementId) => {
        await write(() => statements.removeScanJob.run(dataElementId));
      },
      listDue: async (now, limit) => {
        assertValidLimit(limit);
        return read(() => statements.listDueScanJobs.all(now, limit).map((row) => JSON.parse(row.doc) as ScanJob));
      },
      backlog: async () => read(() => statements.scanBacklog.get() ?? { jobs: 0, oldestQueued: null }),
    },
  };
}
