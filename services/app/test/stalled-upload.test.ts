/**
 * A client that stops sending in the middle of an upload through the app loses its connection after
 * IDLE_TIMEOUT_SECONDS of silence; the app ends its own upload to storage with it, and storage keeps nothing.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { OWNER_PARTY } from '../../storage/test/support/storage-harness';
import { listStoredBlobs } from '../../storage/test/support/blob-listing';
import { stallUpload } from '../../storage/test/support/http-transfer';
import { startApp, type AppHarness } from './support/app-harness';
import { createInstance, storedInstance } from './support/fixtures';

let h: AppHarness;
let baseUrl: string;

beforeAll(async () => {
  h = await startApp('nav/child-benefit', { env: { IDLE_TIMEOUT_SECONDS: '1' } });
  baseUrl = await h.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(() => h.close());

test('a proof whose body stops half-way is dropped by the app and by storage', async () => {
  const owner = h.storage.auth.owner;
  const instance = await createInstance(h, owner, OWNER_PARTY);
  const sent = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(1024 * 1024, 0x20)]);
  const closedAfter = await stallUpload(`${baseUrl}${h.base}/instances/${instance.id}/data?dataType=proof`, { ...owner, 'content-type': 'application/pdf' }, 3 * 1024 * 1024, sent);
  expect(closedAfter).toBeDefined();
  expect(closedAfter).toBeGreaterThanOrEqual(900);

  const leftovers = async () => ({
    elements: (await storedInstance(h, owner, instance.id))?.data.map((element) => element.dataType),
    blobs: await listStoredBlobs(h.storage.config, `${instance.appId}/${instance.id.split('/')[1]}/`),
    pendingUploads: await h.storage.app.storage.context.store.pendingUploads.listStartedBefore('9999', 100),
  });
  // The form's alone; storage cleans up once it sees the app's upload end.
  const nothing = { elements: ['model'], blobs: [instance.data[0]!.blobStoragePath], pendingUploads: [] };
  for (let i = 0; i < 100 && JSON.stringify(await leftovers()) !== JSON.stringify(nothing); i++) await sleep(100);
  expect(await leftovers()).toEqual(nothing);
}, 30_000);
