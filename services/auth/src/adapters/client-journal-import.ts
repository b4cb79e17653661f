import { readFile, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { SqliteDatabase } from '@forms/sqlite-support';

type JournalOp = { op: 'put'; id: string; doc: { expiresAt?: string } } | { op: 'del'; id: string };

/**
 * Imports the journals of the embedded store the SQLite database replaced (`clients.jsonl`,
 * `assertionIds.jsonl` in `DATA_DIR/db`) in one transaction on first start, then renames the folder
 * `<folder>.imported-<time>`. These files are small (one line per client or recent assertion).
 */
export async function importClientJournals(db: SqliteDatabase, directory: string): Promise<boolean> {
  const files = await readdir(directory).catch(() => [] as string[]);
  if (!files.some((file) => file.endsWith('.jsonl'))) return false;
  const clients = await replay(join(directory, 'clients.jsonl'));
  const assertions = await replay(join(directory, 'assertionIds.jsonl'));
  db.transaction(() => {
    const putClient = db.prepare('INSERT OR REPLACE INTO clients (client_id, doc) VALUES (?, ?)');
    for (const [id, doc] of clients) putClient.run(id, JSON.stringify(doc));
    const putAssertion = db.prepare('INSERT OR REPLACE INTO assertion_ids (client_id, jti, expires_at) VALUES (?, ?, ?)');
    for (const [key, doc] of assertions) {
      const [clientId, jti] = JSON.parse(key) as [string, string];
      putAssertion.run(clientId, jti, Date.parse(doc.expiresAt ?? '') || 0);
    }
  })();
  await rename(directory, `${directory}.imported-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  return true;
}

/** The documents a journal leaves after replay; a torn last line (never acknowledged) is ignored. */
async function replay(path: string): Promise<Map<string, { expiresAt?: string }>> {
  const documents = new Map<string, { expiresAt?: string }>();
  const text = await readFile(path, 'utf8').catch(() => '');
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  for (const [index, line] of complete.split('\n').entries()) {
    if (line.trim() === '') continue;
    let op: JournalOp;
    try {
      op = JSON.parse(line) as JournalOp;
    } catch (error) {
      throw new Error(`${path}:${index + 1} is not a journal line; the journal is damaged and was not imported`, { cause: error });
    }
    if (op.op === 'put') documents.set(op.id, op.doc);
    else documents.delete(op.id);
  }
  return documents;
}
