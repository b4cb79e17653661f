// Starts wire-protocol stand-ins for MongoDB (CongoServer) and S3 (s3rver) on free loopback ports
// and prints one JSON line with their URLs. Run with: node --openssl-legacy-provider
// (s3rver's continuation tokens use DES, which OpenSSL 3 only offers through the legacy provider).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { CongoServer } from '@push.rocks/smartmongo/dist_ts/congodb/index.js';
import { freePort } from './free-port.mjs';
import { multipartExtension } from './s3rver-multipart.mjs';

const result = {};
let mongo;
if (!process.env.MONGODB_URL) {
  mongo = new CongoServer({ host: '127.0.0.1', port: await freePort() });
  await mongo.start();
  // CongoServer answers the driver's streaming (exhaust) heartbeat once and then stops, which the driver takes
  // for a server failure every ~10 s: it clears the connection pool and fails the operations in flight. Polling
  // heartbeats are plain commands it answers.
  result.TEST_MONGODB_URL = `${mongo.getConnectionUri()}/?serverMonitoringMode=poll`;
} else {
  result.TEST_MONGODB_URL = process.env.MONGODB_URL;
}
const s3Dir = mkdtempSync(join(tmpdir(), 's3rver-'));
const s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3Dir });
// First in line, before s3rver's router answers these operations with NotImplemented / MethodNotAllowed.
s3.middleware.unshift(multipartExtension(s3.store));
const { port: s3Port } = await s3.run();
result.TEST_S3_ENDPOINT = `http://127.0.0.1:${s3Port}`;
process.stdout.write(JSON.stringify(result) + '\n');

const stop = async () => {
  await mongo?.stop().catch(() => {});
  await s3.close().catch(() => {});
  rmSync(s3Dir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
