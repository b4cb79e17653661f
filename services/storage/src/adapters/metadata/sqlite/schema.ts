import type { Migration, SqliteDatabase } from '@forms/sqlite-support';

/**
 * The metadata schema, one step per release that changed it (`PRAGMA user_version` counts the steps
 * applied). Never edit a released step: append one.
 *
 * Documents are kept whole as JSON in `doc`; the columns beside it are copies of the members that
 * queries filter and order on, written from the document in the same statement.
 *
 * Instance indexes, each ending in the query order (step 1: last_changed, guid; since step 3: the
 * write sequence) so a page comes out of the index in order and a keyset cursor is a seek, never an OFFSET:
 * - by app, by org, by party: the authorisation filter every query has (an org's apps, a party's own);
 * - by app and current task: "instances waiting in Task_2", however few;
 * - by app, completion and the org's own confirmation: the archive job's "completed, not yet confirmed".
 * Other filters (dates, flags) are checked on the rows such a walk visits.
 */
export const METADATA_MIGRATIONS: readonly Migration[] = [
  (db) =>
    db.exec(`
      CREATE TABLE applications (
        id TEXT PRIMARY KEY,
        org TEXT NOT NULL,
        version INTEGER NOT NULL,
        doc TEXT NOT NULL
      );
      CREATE INDEX applications_by_org ON applications (org, id);

      CREATE TABLE instances (
        guid TEXT NOT NULL UNIQUE,
        app_id TEXT NOT NULL,
        org TEXT NOT NULL,
        party_id TEXT NOT NULL,
        last_changed TEXT NOT NULL,
        created TEXT NOT NULL,
        due_before TEXT,
        visible_after TEXT,
        current_task TEXT,
        is_complete INTEGER NOT NULL,
        end_event TEXT,
        is_archived INTEGER NOT NULL,
        is_soft_deleted INTEGER NOT NULL,
        is_hard_deleted INTEGER NOT NULL,
        org_confirmed INTEGER NOT NULL,
        version INTEGER NOT NULL,
        doc TEXT NOT NULL
      );
      CREATE INDEX instances_by_app ON instances (app_id, last_changed, guid);
      CREATE INDEX instances_by_org ON instances (org, last_changed, guid);
      CREATE INDEX instances_by_party ON instances (party_id, last_changed, guid);
      CREATE INDEX instances_by_time ON instances (last_changed, guid);
      CREATE INDEX instances_by_app_task ON instances (app_id, current_task, last_changed, guid);
      CREATE INDEX instances_by_app_unconfirmed ON instances (app_id, is_complete, org_confirmed, last_changed, guid);

      CREATE TABLE instance_confirmations (
        guid TEXT NOT NULL,
        stakeholder TEXT NOT NULL,
        PRIMARY KEY (guid, stakeholder)
      ) WITHOUT ROWID;

      CREATE TABLE events (
        id TEXT PRIMARY KEY,
        instance_id TEXT NOT NULL,
        created TEXT NOT NULL,
        event_type TEXT NOT NULL,
        doc TEXT NOT NULL
      );
      CREATE INDEX events_by_instance ON events (instance_id, created, id);

      CREATE TABLE pending_uploads (
        data_element_id TEXT PRIMARY KEY,
        started TEXT NOT NULL,
        doc TEXT NOT NULL
      );
      CREATE INDEX pending_uploads_by_start ON pending_uploads (started, data_element_id);
    `),
  // 2: data elements waiting for a malware scan verdict, found by when they are due.
  (db) =>
    db.exec(`
      CREATE TABLE scan_queue (
        data_element_id TEXT PRIMARY KEY,
        due TEXT NOT NULL,
        doc TEXT NOT NULL
      );
      CREATE INDEX scan_queue_by_due ON scan_queue (due, data_element_id);
    `),
  // 3: the commit-ordered write sequence (docs/adr/0013-order-across-replicas.md). Instances are queried in
  // the order of their last write and events carry the sequence of theirs (and their instance's app, for
  // the feed). Rows written before this step are numbered in their old order: events by (created, id),
  // then instances by (last_changed, guid), so the new order begins as the old one was.
  (db) => {
    db.exec(`
      CREATE TABLE sequence_counter (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        value INTEGER NOT NULL
      );
      INSERT INTO sequence_counter (id, value) VALUES (1, 0);
      ALTER TABLE instances ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE events ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE events ADD COLUMN app_id TEXT NOT NULL DEFAULT '';
      DROP INDEX instances_by_app;
      DROP INDEX instances_by_org;
      DROP INDEX instances_by_party;
      DROP INDEX instances_by_time;
      DROP INDEX instances_by_app_task;
      DROP INDEX instances_by_app_unconfirmed;
    `);
    numberUnsequencedRows(db);
    db.exec(`
      CREATE UNIQUE INDEX instances_by_sequence ON instances (sequence);
      CREATE INDEX instances_by_app ON instances (app_id, sequence);
      CREATE INDEX instances_by_org ON instances (org, sequence);
      CREATE INDEX instances_by_party ON instances (party_id, sequence);
      CREATE INDEX instances_by_app_task ON instances (app_id, current_task, sequence);
      CREATE INDEX instances_by_app_unconfirmed ON instances (app_id, is_complete, org_confirmed, sequence);
      CREATE INDEX events_by_sequence ON events (sequence, id);
      CREATE INDEX events_by_app_sequence ON events (app_id, sequence, id);
    `);
  },
  // 4: the hard-delete clean-up job's walk (domain/hard-delete-cleanup.ts) seeks to the few marked instances
  // instead of visiting every row on the event loop.
  (db) => db.exec('CREATE INDEX instances_hard_deleted ON instances (is_hard_deleted, sequence);'),
  // 5: small content (a form's data) kept beside its instance and written in the same transaction, instead of
  // a file of its own with two fsyncs (docs/adr/0018-small-content-in-the-metadata-store.md).
  (db) => db.exec('CREATE TABLE inline_contents (key TEXT PRIMARY KEY, bytes BLOB NOT NULL);'),
  // 6: the clean-up job's index holds the marked instances only. As an index on the flag, SQLite (which keeps no
  // statistics here) took it for every query with `is_hard_deleted = 0`, that is every listing, and walked every
  // instance to find a party's few; partial, it serves `is_hard_deleted = 1` alone.
  (db) =>
    db.exec(`
      DROP INDEX instances_hard_deleted;
      CREATE INDEX instances_hard_deleted ON instances (sequence) WHERE is_hard_deleted = 1;
    `),
];

/**
 * Gives rows without a sequence (0: written before step 3, or imported from the earlier journals) one each,
 * above every sequence handed out so far: events by (created, id), then instances by (last_changed, guid);
 * events get their instance's app where the instance is still there.
 */
export function numberUnsequencedRows(db: SqliteDatabase): void {
  db.exec(`
    UPDATE events SET app_id = i.app_id FROM instances i WHERE events.app_id = '' AND events.instance_id = i.party_id || '/' || i.guid;
    UPDATE events SET sequence = (SELECT value FROM sequence_counter) + r.n
      FROM (SELECT id, row_number() OVER (ORDER BY created, id) AS n FROM events WHERE sequence = 0) r
      WHERE events.id = r.id;
    UPDATE sequence_counter SET value = max(value, (SELECT coalesce(max(sequence), 0) FROM events));
    UPDATE instances SET sequence = (SELECT value FROM sequence_counter) + r.n
      FROM (SELECT guid, row_number() OVER (ORDER BY last_changed, guid) AS n FROM instances WHERE sequence = 0) r
      WHERE instances.guid = r.guid;
    UPDATE sequence_counter SET value = max(value, (SELECT coalesce(max(sequence), 0) FROM instances));
  `);
}
