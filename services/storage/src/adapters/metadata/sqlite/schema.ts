import type { Migration } from '@forms/sqlite-support';

/**
 * The metadata schema, one step per release that changed it (`PRAGMA user_version` counts the steps
 * applied). Never edit a released step: append one.
 *
 * Documents are kept whole as JSON in `doc`; the columns beside it are copies of the members that
 * queries filter and order on, written from the document in the same statement.
 *
 * Instance indexes, each ending in the query order (last_changed, guid) so a page comes out of the
 * index in order and a keyset cursor is a seek, never an OFFSET:
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
];
