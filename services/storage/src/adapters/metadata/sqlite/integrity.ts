import { Worker } from 'node:worker_threads';
import { driverPath } from '@forms/sqlite-support';

export type IntegrityReport =
  | { state: 'not-needed' | 'running' }
  | { state: 'ok'; milliseconds: number }
  | { state: 'damaged'; problems: string[] }
  | { state: 'failed'; error: string };

/**
 * `PRAGMA quick_check` on a read-only connection in a worker thread, so that a check of a large file
 * neither blocks requests nor delays readiness. The worker is plain JavaScript (no TypeScript loader in
 * a worker) and needs only better-sqlite3.
 */
export function startIntegrityCheck(path: string): Promise<IntegrityReport> {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const Database = require(workerData.driver);
    const started = Date.now();
    try {
      const db = new Database(workerData.path, { readonly: true, fileMustExist: true, timeout: 5000 });
      const rows = db.pragma('quick_check').map((row) => Object.values(row)[0]);
      db.close();
      const ok = rows.length === 1 && rows[0] === 'ok';
      parentPort.postMessage(ok ? { state: 'ok', milliseconds: Date.now() - started } : { state: 'damaged', problems: rows.slice(0, 20) });
    } catch (error) {
      const code = String(error && error.code);
      parentPort.postMessage(code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB'
        ? { state: 'damaged', problems: [String(error.message)] } : { state: 'failed', error: String(error && error.message) });
    }`;
  return new Promise((resolve) => {
    const worker = new Worker(source, { eval: true, workerData: { path, driver: driverPath() } });
    worker.once('message', (report: IntegrityReport) => resolve(report));
    worker.once('error', (error) => resolve({ state: 'failed', error: error.message }));
    worker.unref();
  });
}
