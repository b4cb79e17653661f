import type { SqliteDatabase } from '@forms/sqlite-support';

/** The statements of the SQLite metadata store, prepared once when it opens. */
export function prepareStatements(db: SqliteDatabase) {
  return {
    getApplication: db.prepare<[string], { doc: string }>('SELECT doc FROM applications WHERE id = ?'),
    listApplications: db.prepare<[string], { doc: string }>('SELECT doc FROM applications WHERE org = ? ORDER BY id'),
    listAllApplications: db.prepare<[], { doc: string }>('SELECT doc FROM applications ORDER BY id'),
    removeApplication: db.prepare('DELETE FROM applications WHERE id = ?'),
    insertApplication: db.prepare('INSERT INTO applications (id, org, version, doc) VALUES (?, ?, ?, ?)'),
    replaceApplication: db.prepare('UPDATE applications SET org = ?, version = ?, doc = ? WHERE id = ? AND version = ?'),
    getInstance: db.prepare<[string], { doc: string }>('SELECT doc FROM instances WHERE guid = ?'),
    insertInstance: db.prepare(
      `INSERT INTO instances (guid, app_id, org, party_id, last_changed, created, due_before, visible_after, current_task, is_complete,
         end_event, is_archived, is_soft_deleted, is_hard_deleted, org_confirmed, version, doc, sequence)
       VALUES (@guid, @app_id, @org, @party_id, @last_changed, @created, @due_before, @visible_after, @current_task, @is_complete,
         @end_event, @is_archived, @is_soft_deleted, @is_hard_deleted, @org_confirmed, @version, @doc, @sequence)`,
    ),
    replaceInstance: db.prepare(
      `UPDATE instances SET app_id = @app_id, org = @org, party_id = @party_id, last_changed = @last_changed, created = @created,
         due_before = @due_before, visible_after = @visible_after, current_task = @current_task, is_complete = @is_complete,
         end_event = @end_event, is_archived = @is_archived, is_soft_deleted = @is_soft_deleted, is_hard_deleted = @is_hard_deleted,
         org_confirmed = @org_confirmed, version = @version, doc = @doc, sequence = @sequence
       WHERE guid = @guid AND version = @expected_version`,
    ),
    removeInstance: db.prepare('DELETE FROM instances WHERE guid = ?'),
    removeConfirmations: db.prepare('DELETE FROM instance_confirmations WHERE guid = ?'),
    insertConfirmation: db.prepare('INSERT OR IGNORE INTO instance_confirmations (guid, stakeholder) VALUES (?, ?)'),
    insertEvent: db.prepare('INSERT INTO events (id, instance_id, created, event_type, doc, app_id, sequence) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    // The app of an event recorded on its own: its instance's, or (instance gone) that of its earlier events.
    appOfInstance: db
      .prepare<[string, string], string>(
        `SELECT coalesce((SELECT app_id FROM instances WHERE guid = ?), (SELECT app_id FROM events WHERE instance_id = ? AND app_id != '' LIMIT 1), '')`,
      )
      .pluck(),
    // The write lock is held from the first statement of a write transaction to its commit, so sequences
    // are handed out in commit order; the counter is the committed watermark of every reader's snapshot.
    nextSequence: db.prepare<[], number>('UPDATE sequence_counter SET value = value + 1 WHERE id = 1 RETURNING value').pluck(),
    removeEvents: db.prepare('DELETE FROM events WHERE instance_id = ?'),
    getEvent: db.prepare<[string, string], string>('SELECT doc FROM events WHERE id = ? AND instance_id = ?').pluck(),
    restOfWrite: db.prepare('SELECT doc, sequence, app_id FROM events WHERE sequence = ? AND id > ? ORDER BY id'),
    insertUpload: db.prepare('INSERT INTO pending_uploads (data_element_id, started, doc) VALUES (?, ?, ?)'),
    removeUpload: db.prepare('DELETE FROM pending_uploads WHERE data_element_id = ?'),
    listUploads: db.prepare<[string, number], { doc: string }>(
      'SELECT doc FROM pending_uploads WHERE started < ? ORDER BY started, data_element_id LIMIT ?',
    ),
    putScanJob: db.prepare('INSERT OR REPLACE INTO scan_queue (data_element_id, due, doc) VALUES (?, ?, ?)'),
    removeScanJob: db.prepare('DELETE FROM scan_queue WHERE data_element_id = ?'),
    getContent: db.prepare<[string], Buffer>('SELECT bytes FROM inline_contents WHERE key = ?').pluck(),
    putContent: db.prepare('INSERT OR REPLACE INTO inline_contents (key, bytes) VALUES (?, ?)'),
    removeContent: db.prepare('DELETE FROM inline_contents WHERE key = ?'),
    hasContent: db.prepare<[string], number>('SELECT 1 FROM inline_contents WHERE key = ?').pluck(),
    scanBacklog: db.prepare<[], { jobs: number; oldestQueued: string | null }>(
      "SELECT count(*) AS jobs, min(json_extract(doc, '$.queued')) AS oldestQueued FROM scan_queue",
    ),
    listDueScanJobs: db.prepare<[string, number], { doc: string }>('SELECT doc FROM scan_queue WHERE due <= ? ORDER BY due, data_element_id LIMIT ?'),
  };
}
