import { open, readFile, rename, rm, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { JournalCorruptError } from './errors';

/**
 * Journal file format: one JSON object per line, each a put or a delete of one document.
 * Replaying the lines in order rebuilds the collection; the last op for an id wins.
 */
type JournalOp = { op: 'put'; id: string; doc: object } | { op: 'del'; id: string };

const NEWLINE = 0x0a;

export interface ReplayedJournal {
  documents: Map<string, object>;
  /** Lines in the journal file after replay, the measure for compaction. */
  lineCount: number;
}

/** `doc` must already be JSON text, so the caller serialises each document once. */
export const putLine = (id: string, docJson: string): string => `{"op":"put","id":${JSON.stringify(id)},"doc":${docJson}}\n`;

export const deleteLine = (id: string): string => `{"op":"del","id":${JSON.stringify(id)}}\n`;

/**
 * Reads and replays a journal; a missing file is an empty collection.
 * Bytes after the last newline are a write torn by a crash. It was never acknowledged (an append
 * resolves only after its newline is written), so it is cut off the file before anything is appended.
 */
export async function replayJournal(path: string): Promise<ReplayedJournal> {
  let content: Buffer;
  try {
    content = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { documents: new Map(), lineCount: 0 };
    throw error;
  }
  const completeLength = content.lastIndexOf(NEWLINE) + 1;
  if (completeLength < content.length) await truncate(path, completeLength);

  const documents = new Map<string, object>();
  let lineCount = 0;
  const lines = content.subarray(0, completeLength).toString('utf8').split('\n');
  lines.pop(); // the empty string after the final newline
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const op = parseLine(line, path, index + 1);
    if (op.op === 'put') documents.set(op.id, op.doc);
    else documents.delete(op.id);
    lineCount += 1;
  }
  return { documents, lineCount };
}

function parseLine(line: string, path: string, lineNumber: number): JournalOp {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw new JournalCorruptError(path, lineNumber, { cause: error });
  }
  if (typeof parsed === 'object' && parsed !== null && 'id' in parsed && typeof parsed.id === 'string' && 'op' in parsed) {
    if (parsed.op === 'del') return { op: 'del', id: parsed.id };
    if (parsed.op === 'put' && 'doc' in parsed && typeof parsed.doc === 'object' && parsed.doc !== null) {
      return { op: 'put', id: parsed.id, doc: parsed.doc };
    }
  }
  throw new JournalCorruptError(path, lineNumber);
}

/**
 * Replaces the journal with one put line per live document. Written to a temporary file, flushed and
 * renamed over the journal, so a crash leaves either the old journal or the new one, never a mix.
 */
export async function writeCompactedJournal(path: string, documents: ReadonlyMap<string, object>): Promise<void> {
  const temporaryPath = compactionTemporaryPath(path);
  const lines: string[] = [];
  for (const [id, doc] of documents) lines.push(putLine(id, JSON.stringify(doc)));
  const handle = await open(temporaryPath, 'w');
  try {
    await handle.writeFile(lines.join(''));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporaryPath, path);
  await syncDirectory(dirname(path));
}

export const compactionTemporaryPath = (path: string): string => `${path}.compacting`;

/** Left behind when a crash interrupted a compaction; the journal itself is still complete. */
export const removeInterruptedCompaction = (path: string): Promise<void> => rm(compactionTemporaryPath(path), { force: true });

/** Makes a rename durable. Not every platform can open a directory for syncing; there it is skipped. */
async function syncDirectory(directory: string): Promise<void> {
  let handle;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch {
    // best effort, see above
  } finally {
    await handle?.close();
  }
}
