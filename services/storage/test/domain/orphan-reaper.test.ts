import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { DataElement } from '@forms/contracts';
import { eventually } from '@forms/test-support';
import { reapOrphanBlobs } from '../../src/domain/orphan-reaper';
import { createInstance, instanceUrl, registerApp, startStorage, type StorageHarness } from '../support/storage-harness';

let h: StorageHarness;
beforeAll(async () => {
  // The reaper's subject is the blob store's files: small content stays out of the metadata store here.
  h = await startStorage('embedded', { INLINE_CONTENT_MAX_KB: '0' });
  await registerApp(h);
});
afterAll(() => h.close());

const HOUR = 3600_000;

it('deletes blobs of abandoned uploads and keeps blobs that data elements point at', async () => {
  const { store, blobs } = h.app.storage.context;
  const instance = await createInstance(h);
  const guid = instance.id.split('/')[1]!;
  const uploaded = await h.app.inject({
    method: 'POST',
    url: `${instanceUrl(instance)}/data?dataType=attachment`,
    headers: { ...h.auth.owner, 'content-type': 'application/pdf' },
    payload: '%PDF-1.7\n%%EOF',
  });
  const element = uploaded.json<DataElement>();

  // As if the process had crashed: one blob written but never recorded, and one stale record for a recorded blob.
  const orphanPath = `nav/sample-app/${guid}/data/00000000-0000-4000-8000-000000000001`;
  await blobs.put(orphanPath, Readable.from([Buffer.from('orphan')]), { contentType: 'application/pdf' });
  const longAgo = new Date(Date.now() - 2 * HOUR).toISOString();
  await store.pendingUploads.insert({ dataElementId: '00000000-0000-4000-8000-000000000001', instanceGuid: guid, blobStoragePath: orphanPath, started: longAgo });
  await store.pendingUploads.insert({ dataElementId: element.id, instanceGuid: guid, blobStoragePath: element.blobStoragePath, started: longAgo });
  // A fresh upload in flight must be left alone.
  const inFlightPath = `nav/sample-app/${guid}/data/00000000-0000-4000-8000-000000000002`;
  await blobs.put(inFlightPath, Readable.from([Buffer.from('uploading')]), { contentType: 'application/pdf' });
  await store.pendingUploads.insert({
    dataElementId: '00000000-0000-4000-8000-000000000002',
    instanceGuid: guid,
    blobStoragePath: inFlightPath,
    started: new Date().toISOString(),
  });

  // A long upload that has just finished (its blob fresh) while its record is old: being recorded right now.
  const justFinishedPath = `nav/sample-app/${guid}/data/00000000-0000-4000-8000-000000000003`;
  await blobs.put(justFinishedPath, Readable.from([Buffer.from('just finished')]), { contentType: 'application/pdf' });
  await store.pendingUploads.insert({ dataElementId: '00000000-0000-4000-8000-000000000003', instanceGuid: guid, blobStoragePath: justFinishedPath, started: longAgo });
  // The crashed upload's blob was written as long ago as its record.
  const blobFile = (path: string) => join(h.config.DATA_DIR, 'blobs', ...path.split('/'));
  await utimes(blobFile(orphanPath), new Date(longAgo), new Date(longAgo));
  await utimes(blobFile(element.blobStoragePath), new Date(longAgo), new Date(longAgo));

  expect(await reapOrphanBlobs(h.app.storage.context, HOUR)).toBe(1);
  expect(await blobs.stat(orphanPath)).toBeNull();
  expect(await blobs.stat(justFinishedPath)).toEqual({ size: 13 });
  expect(await blobs.stat(element.blobStoragePath)).toEqual({ size: 14 });
  expect(await blobs.stat(inFlightPath)).toEqual({ size: 9 });
  const remaining = await store.pendingUploads.listStartedBefore('9999-01-01T00:00:00.000Z', 10);
  expect(remaining.map((u) => u.blobStoragePath).sort()).toEqual([inFlightPath, justFinishedPath].sort());
});

it('reports not ready, with the failing dependency, once a store is gone', async () => {
  const broken = await startStorage();
  try {
    await broken.app.storage.context.store.close();
    const ready = await broken.app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ status: 'unavailable', checks: { blobs: 'ok' } });
    expect(ready.json().checks.metadata).not.toBe('ok');
    const request = await broken.app.inject({ method: 'GET', url: '/storage/api/v1/applications/nav/some-app', headers: broken.auth.owner });
    expect(request.statusCode).toBe(503);
    expect(request.json().code).toBe('METADATA_STORE_UNAVAILABLE');
  } finally {
    await broken.close();
  }
});

describe('the scheduled reaper', () => {
  let scheduled: StorageHarness;
  beforeAll(async () => {
    // The service's own schedule, every second; no call of reapOrphanBlobs from the test.
    scheduled = await startStorage('embedded', { REAPER_INTERVAL_SECONDS: '1', REAPER_STALE_AFTER_SECONDS: '60' });
    await registerApp(scheduled);
  });
  afterAll(() => scheduled.close());

  it('runs on its interval and removes an abandoned upload, leaving a fresh one alone', async () => {
    const { store, blobs } = scheduled.app.storage.context;
    const instance = await createInstance(scheduled);
    const guid = instance.id.split('/')[1]!;
    const upload = async (dataId: string, started: string) => {
      const path = `nav/sample-app/${guid}/data/${dataId}`;
      await blobs.put(path, Readable.from([Buffer.from('abandoned')]), { contentType: 'application/pdf' });
      await store.pendingUploads.insert({ dataElementId: dataId, instanceGuid: guid, blobStoragePath: path, started });
      return path;
    };
    const twoHoursAgo = new Date(Date.now() - 2 * HOUR);
    const abandoned = await upload('00000000-0000-4000-8000-00000000000a', twoHoursAgo.toISOString());
    // Abandoned as a crash leaves it: its blob was last written when its upload started, not just now.
    const abandonedFile = join(scheduled.config.DATA_DIR, 'blobs', ...abandoned.split('/'));
    await utimes(abandonedFile, twoHoursAgo, twoHoursAgo);
    const fresh = await upload('00000000-0000-4000-8000-00000000000b', new Date().toISOString());

    await eventually(async () => (await blobs.stat(abandoned)) === null, {
      timeoutMs: 15_000,
      intervalMs: 100,
      what: 'the scheduled reaper removing the abandoned blob',
    });
    expect(await blobs.stat(fresh)).toEqual({ size: 9 });
    const remaining = await store.pendingUploads.listStartedBefore('9999-01-01T00:00:00.000Z', 10);
    expect(remaining.map((u) => u.blobStoragePath)).toEqual([fresh]);
  }, 30_000);
});
