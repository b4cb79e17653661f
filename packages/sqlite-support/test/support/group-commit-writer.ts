/**
 * Child process of the SIGKILL test: writes pairs (a row in `pairs` and its `halves` row, in one write) through
 * GroupCommit, many per turn, and prints `ack <id>` for each write once its promise has resolved, for ever, while a
 * BackgroundCheckpointer copies the log into the database file every few milliseconds.
 * Every tenth write also inserts a duplicate and must fail alone (`fail <id>`). Usage: group-commit-writer.ts <file>
 */
import { BackgroundCheckpointer, GroupCommit, openSqlite } from '../../src';

const path = process.argv[2] as string;
const opened = openSqlite(path, {
  owner: 'writer',
  migrations: [(db) => db.exec('CREATE TABLE pairs (id INTEGER PRIMARY KEY); CREATE TABLE halves (id INTEGER PRIMARY KEY REFERENCES pairs (id));')],
});
const db = opened.db;
const checkpointer = new BackgroundCheckpointer(db, { intervalMs: 5, catchUpPages: 200 });
const commits = new GroupCommit(db, { afterCommit: () => checkpointer.committed() });
const insertPair = db.prepare('INSERT INTO pairs (id) VALUES (?)');
const insertHalf = db.prepare('INSERT INTO halves (id) VALUES (?)');
const writePair = db.transaction((id: number, duplicate: boolean) => {
  insertPair.run(id);
  insertHalf.run(id);
  if (duplicate) insertPair.run(id); // fails: this write is undone, the others of the batch are not
});

let next = (db.prepare('SELECT coalesce(max(id), 0) AS id FROM pairs').get() as { id: number }).id + 1;
process.stdout.write(`ready ${next}\n`);
const turn = () => {
  for (let count = 0; count < 20; count += 1) {
    const id = next;
    next += 1;
    const duplicate = id % 10 === 0;
    commits.run(() => writePair(id, duplicate)).then(
      () => process.stdout.write(`ack ${id}\n`),
      () => process.stdout.write(`fail ${id}\n`),
    );
  }
  setImmediate(turn);
};
turn();
