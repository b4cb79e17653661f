import type { DataElement, Instance } from '@forms/contracts';
import { purgeHardDeleted } from '../../../src/domain/hard-delete-cleanup';
import { loadStorageConfig } from '../../../src/config';
import { API, createInstance, instanceUrl, registerApp, startStorage, viaApp, storedSize, type StorageHarness } from '../../support/storage-harness';

/** Status fields and deletes as Altinn's InstancesController and MessageBoxInstancesController keep them. */
let h: StorageHarness;
const PDF = Buffer.from('%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n');

beforeAll(async () => {
  h = await startStorage();
  await registerApp(h, 'nav/sample-app');
});
afterAll(() => h.close());

const get = async (instance: Instance, headers: Record<string, string>) => h.app.inject({ method: 'GET', url: instanceUrl(instance), headers });

describe('instance status', () => {
  it('defaults visibleAfter to the creation time', async () => {
    const instance = await createInstance(h);
    expect(instance.visibleAfter).toBe(instance.created);
    const later = await createInstance(h, { body: { visibleAfter: '2030-01-01T00:00:00Z' } });
    expect(later.visibleAfter).toBe('2030-01-01T00:00:00.000Z');
  });

  it('records an org by its organisation number in lastChangedBy', async () => {
    const instance = await createInstance(h);
    const changed = await h.app.inject({ method: 'PUT', url: `${instanceUrl(instance)}/substatus`, headers: h.auth.nav, payload: { label: 'Received' } });
    expect(changed.json<Instance>().lastChangedBy).toBe('889640782');
  });

  it('reads readstatus case-insensitively and refuses an unknown one', async () => {
    const instance = await createInstance(h);
    const read = await h.app.inject({ method: 'PUT', url: `${instanceUrl(instance)}/readstatus?status=read`, headers: h.auth.owner });
    expect(read.statusCode).toBe(200);
    expect(read.json<Instance>().status.readStatus).toBe('Read');
    const updated = await h.app.inject({ method: 'PUT', url: `${instanceUrl(instance)}/readstatus?status=UPDATEDSINCELASTREVIEW`, headers: h.auth.owner });
    expect(updated.json<Instance>().status.readStatus).toBe('UpdatedSinceLastReview');
    const bad = await h.app.inject({ method: 'PUT', url: `${instanceUrl(instance)}/readstatus?status=skimmed`, headers: h.auth.owner });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('INVALID_READ_STATUS');
  });

  it('keeps presentationTexts: set at creation and by the app or org, an empty value removes one, never by the party alone', async () => {
    const instance = await createInstance(h, { body: { presentationTexts: { title: 'Søknad 2024', empty: '' } } });
    expect(instance.presentationTexts).toEqual({ title: 'Søknad 2024' });
    const url = `${instanceUrl(instance)}/presentationtexts`;
    const byApp = await h.app.inject({ method: 'PUT', url, headers: viaApp(h, h.auth.owner), payload: { texts: { amount: '1000', title: '' } } });
    expect(byApp.statusCode).toBe(200);
    expect(byApp.json<Instance>().presentationTexts).toEqual({ amount: '1000' });
    const byOrg = await h.app.inject({ method: 'PUT', url, headers: h.auth.nav, payload: { texts: { amount: null } } });
    expect(byOrg.json<Instance>().presentationTexts).toEqual({});
    const byParty = await h.app.inject({ method: 'PUT', url, headers: h.auth.owner, payload: { texts: { amount: '1' } } });
    expect(byParty.statusCode).toBe(403);
  });

  it('marks an element the org added unread until the owner downloads it', async () => {
    const instance = await createInstance(h);
    const upload = (headers: Record<string, string>) =>
      h.app.inject({ method: 'POST', url: `${instanceUrl(instance)}/data?dataType=attachment`, headers: { ...headers, 'content-type': 'application/pdf' }, payload: PDF });
    const fromOrg = (await upload(h.auth.nav)).json<DataElement>();
    const fromOwner = (await upload(h.auth.owner)).json<DataElement>();
    expect(fromOrg.isRead).toBe(false);
    expect(fromOwner.isRead).toBe(true);
    const dataUrl = `${instanceUrl(instance)}/data/${fromOrg.id}`;
    // The org reading its own element does not make it read; the owner does.
    expect((await h.app.inject({ method: 'GET', url: dataUrl, headers: h.auth.nav })).statusCode).toBe(200);
    expect((await get(instance, h.auth.nav)).json<Instance>().data.find((d) => d.id === fromOrg.id)?.isRead).toBe(false);
    expect((await h.app.inject({ method: 'GET', url: dataUrl, headers: h.auth.owner })).statusCode).toBe(200);
    expect((await get(instance, h.auth.nav)).json<Instance>().data.find((d) => d.id === fromOrg.id)?.isRead).toBe(true);
  });
});

describe('deletes', () => {
  it('lets the owner restore what it deleted (undelete), but not a hard-deleted instance', async () => {
    const instance = await createInstance(h);
    expect((await h.app.inject({ method: 'DELETE', url: instanceUrl(instance), headers: h.auth.owner })).statusCode).toBe(200);
    const url = `${API}/sbl/instances/${instance.id}/undelete`;
    expect((await h.app.inject({ method: 'PUT', url, headers: h.auth.otherOwner })).statusCode).toBe(404);
    expect((await h.app.inject({ method: 'PUT', url, headers: h.auth.nav })).statusCode).toBe(403);
    const restored = await h.app.inject({ method: 'PUT', url, headers: h.auth.owner });
    expect(restored.statusCode).toBe(200);
    expect(restored.json()).toBe(true);
    expect((await get(instance, h.auth.owner)).json<Instance>().status).toMatchObject({ isSoftDeleted: false, softDeleted: null });
    const events = await h.app.storage.context.store.events.list(instance.id, { eventTypes: ['Undeleted'] });
    expect(events).toHaveLength(1);

    expect((await h.app.inject({ method: 'DELETE', url: `${instanceUrl(instance)}?hard=true`, headers: h.auth.nav })).statusCode).toBe(200);
    expect((await h.app.inject({ method: 'PUT', url, headers: h.auth.owner })).statusCode).toBe(404);
  });

  it('removes a hard-deleted instance, with its content, only once its retention has passed', async () => {
    const instance = await createInstance(h);
    const element = (
      await h.app.inject({ method: 'POST', url: `${instanceUrl(instance)}/data?dataType=attachment`, headers: { ...h.auth.owner, 'content-type': 'application/pdf' }, payload: PDF })
    ).json<DataElement>();
    const hard = await h.app.inject({ method: 'DELETE', url: `${instanceUrl(instance)}?hard=true`, headers: h.auth.nav });
    expect(hard.json<Instance>().status).toMatchObject({ isHardDeleted: true, isSoftDeleted: true });
    const { context, instances } = h.app.storage;
    expect(await purgeHardDeleted(context, instances, 60_000)).toBe(0);
    expect((await get(instance, h.auth.nav)).statusCode).toBe(200);
    expect(await storedSize(context, element.blobStoragePath)).toBe(PDF.length);
    expect(await purgeHardDeleted(context, instances, 0)).toBeGreaterThanOrEqual(1);
    expect((await get(instance, h.auth.nav)).statusCode).toBe(404);
    expect(await storedSize(context, element.blobStoragePath)).toBeNull();
    // The audit log outlives the instance.
    expect((await context.store.events.list(instance.id, {})).map((e) => e.eventType)).toEqual(['Created', 'DataCreated', 'Deleted']);
  });

  it('runs the cleanup job on its own, every HARD_DELETE_CLEANUP_INTERVAL_SECONDS', async () => {
    const quick = await startStorage('embedded', { HARD_DELETE_CLEANUP_INTERVAL_SECONDS: '1', HARD_DELETE_RETENTION_SECONDS: '0' });
    try {
      await registerApp(quick, 'nav/sample-app');
      const instance = await createInstance(quick);
      expect((await quick.app.inject({ method: 'DELETE', url: `${instanceUrl(instance)}?hard=true`, headers: quick.auth.nav })).statusCode).toBe(200);
      let status = 200;
      for (let waited = 0; status === 200 && waited < 10_000; waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = (await quick.app.inject({ method: 'GET', url: instanceUrl(instance), headers: quick.auth.nav })).statusCode;
      }
      expect(status).toBe(404);
    } finally {
      await quick.close();
    }
  });

  it('validates the retention settings at start-up', () => {
    expect(loadStorageConfig({}).HARD_DELETE_RETENTION_SECONDS).toBe(7 * 24 * 3600);
    expect(() => loadStorageConfig({ HARD_DELETE_RETENTION_SECONDS: '-1' })).toThrow();
    expect(() => loadStorageConfig({ HARD_DELETE_CLEANUP_INTERVAL_SECONDS: 'hourly' })).toThrow();
  });
});
