import { createReadStream } from 'node:fs';
import { readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Instance } from '@forms/contracts';
import type { SqliteDatabase } from '@forms/sqlite-support';
import { instanceGuidOf } from '../metadata-support';
import { instanceRow } from './instance-row';
import { numberUnsequencedRows } from './schema';

type JournalOp = { op: 'put'; id: string; doc: Record<string, unknown> } | { op: 'del'; id: string };

export interface ImportSummary {
  directory: string;
  movedTo: string;
  documents: Record<string, number>;
}

/**
 * Imports the journals of the embedded store this database replaced (`<collection>.jsonl`, one put or
 * delete per line) on first start: every collection in one transaction, so a crash mid-way imports
 * nothing and the next start begins again; then the folder is renamed `<folder>.imported-<time>` (kept,
 * not deleted: the operator removes it once satisfied). Lines are streamed, never read whole.
 */
export async function importJournals(db: SqliteDatabase, directory: string): Promise<ImportSummary | undefined> {
  const files = await readdir(directory).catch(() => [] as string[]);
  if (!files.some((file) => file.endsWith('.jsonl'))) return undefined;

  const puts = {
    applications: db.prepare('INSERT OR REPLACE INTO applications (id, org, version, doc) VALUES (?, ?, ?, ?)'),
    instances: db.prepare(
      `INSERT OR REPLACE INTO instances (guid, app_id, org, party_id, last_changed, created, due_before, visible_after, current_task, is_complete,
         end_event, is_archived, is_soft_deleted, is_hard_deleted, org_confirmed, version, doc, sequence)
       VALUES (@guid, @app_id, @org, @party_id, @last_changed, @created, @due_before, @visible_after, @current_task, @is_complete,
         @end_event, @is_archived, @is_soft_deleted, @is_hard_deleted, @org_confirmed, @version, @doc, @sequence)`,
    ),
    confirmation: db.prepare('INSERT OR IGNORE INTO instance_confirmations (guid, stakeholder) VALUES (?, ?)'),
    instanceEvents: db.prepare('INSERT OR REPLACE INTO events (id, instance_id, created, event_type, doc) VALUES (?, ?, ?, ?, ?)'),
    pendingUploads: db.prepare('INSERT OR REPLACE INTO pending_uploads (data_element_id, started, doc) VALUES (?, ?, ?)'),
    scanQueue: db.prepare('INSERT OR REPLACE INTO scan_queue (data_element_id, due, doc) VALUES (?, ?, ?)'),
  };
  const deletes = {
    applications: db.prepare('DELETE FROM applications WHERE id = ?'),
    instances: db.prepare('DELETE FROM instances WHERE guid = ?'),
    instanceEvents: db.prepare('DELETE FROM events WHERE id = ?'),
    pendingUploads: db.prepare('DELETE FROM pending_uploads WHERE data_element_id = ?'),
    scanQueue: db.prepare('DELETE FROM scan_queue WHERE data_element_id = ?'),
  };
  const deleteConfirmations = db.prepare('DELETE FROM instance_confirmations WHERE guid = ?');
  const nextSequence = db.prepare<[], number>('UPDATE sequence_counter SET value = value + 1 WHERE id = 1 RETURNING value').pluck();
  const apply = (collection: keyof typeof deletes, op: JournalOp) => {
    if (op.op === 'del') {
      deletes[collection].run(op.id);
      if (collection === 'instances') deleteConfirmations.run(op.id);
      return;
    }
    const doc = op.doc;
    if (collection === 'instances') {
      const instance = doc as unknown as Instance;
      const guid = instanceGuidOf(instance);
      puts.instances.run({ ...instanceRow(guid, instance), sequence: nextSequence.get() });
      for (const confirmation of instance.completeConfirmations ?? []) puts.confirmation.run(guid, confirmation.stakeholderId);
    } else if (collection === 'applications') {
      puts.applications.run(op.id, String(doc.org), Number(doc.version), JSON.stringify(doc));
    } else if (collection === 'instanceEvents') {
      puts.instanceEvents.run(op.id, String(doc.instanceId), String(doc.created), String(doc.eventType), JSON.stringify(doc));
    } else if (collection === 'scanQueue') {
      puts.scanQueue.run(op.id, String(doc.due), JSON.stringify(doc));
    } else {
      puts.pendingUploads.run(op.id, String(doc.started), JSON.stringify(doc));
    }
  };

  const documents: Record<string, number> = {};
  db.exec('BEGIN IMMEDIATE');
  try {
    for (const collection of Object.keys(deletes) as (keyof typeof deletes)[]) {
      documents[collection] = await replay(join(directory, `${collection}.jsonl`), (op) => apply(collection, op));
    }
    numberUnsequencedRows(db);
    db.exec('COMMIT');
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
  const movedTo = `${directory}.imported-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  await rename(directory, movedTo);
  return { directory, movedTo, documents };
}

/** Applies each complete line in order; a torn last line (a write the crash cut off, never acknowledged) is skipped. */
async function replay(path: string, apply: (op: JournalOp) => void): Promise<number> {
  const size = await stat(path).then((info) => info.size, () => -1);
  if (size < 0) return 0;
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let pending: { text: string; number: number } | undefined;
  let number = 0;
  let count = 0;
  const applyLine = (text: string, at: number) => {
    let op: JournalOp;
    try {
      op = JSON.parse(text) as JournalOp;
    } catch (error) {
      throw new Error(`${path}:${at} is not a journal line; the journal is damaged and was not imported`, { cause: error });
    }
    apply(op);
    count += 1;
  };
  for await (const text of lines) {
    number += 1;
    if (pending !== undefined) applyLine(pending.text, pending.number);
    pending = text.trim() === '' ? undefined : { text, number };
  }
  if (pending !== undefined) {
    // The last line counts only if the file ends with its newline.
    const endsWithNewline = await endsWithByte(path, size, 0x0a);
    if (endsWithNewline) applyLine(pending.text, pending.number);
  }
  return count;
}

async function endsWithByte(path: string, size: number, byte: number): Promise<boolean> {
  if (size === 0) return false;
  const stream = createReadStream(path, { start: size - 1, end: size - 1 });
  for await (const chunk of stream) return (chunk as Buffer)[0] === byte;
  return false;
}
