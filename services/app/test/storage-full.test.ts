/**
 * Storage's blob disk full (a real tmpfs, filled): the app passes storage's 507 STORAGE_FULL on for an attachment
 * and for an instantiation (whose prefilled form cannot be stored; the instance is removed again), and works
 * again as soon as there is space, without a restart.
 */
import { mountSmallDisk } from '../../storage/test/support/small-disk';
import { OWNER_PARTY } from '../../storage/test/support/storage-harness';
import { startApp, type AppHarness } from './support/app-harness';
import { createInstance, expectProblem, instanceCount } from './support/fixtures';

const disk = mountSmallDisk(8, 'app-storage-full');
// A PDF ends with its %%EOF trailer (checked as the upload ends).
const pdf = (size: number) => Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(size - 16, 0x41), Buffer.from('\n%%EOF\n')]);

(disk ? describe : describe.skip)('storage out of blob space behind the app', () => {
  let h: AppHarness;
  beforeAll(async () => {
    // Forms in files, as without the embedded store's inline content (ADR 0018): the instantiation needs blob space too.
    h = await startApp('nav/child-benefit', { storageEnv: { DATA_DIR: disk!.dataDir, INLINE_CONTENT_MAX_KB: '0' } });
  });
  afterAll(async () => {
    await h?.close();
    disk?.remove();
  });

  it('answers 507 STORAGE_FULL for an attachment and an instantiation, leaves nothing, and recovers once space returns', async () => {
    const owner = h.storage.auth.owner;
    const instance = await createInstance(h, owner, OWNER_PARTY);
    const uploadProof = () =>
      h.app.inject({
        method: 'POST',
        url: `${h.base}/instances/${instance.id}/data?dataType=proof`,
        headers: { ...owner, 'content-type': 'application/pdf' },
        payload: pdf(1024 * 1024),
      });
    const before = await instanceCount(h, h.storage.auth.nav, OWNER_PARTY);
    await disk!.fill();

    expectProblem(await uploadProof(), 507, 'STORAGE_FULL');
    const create = await h.app.inject({ method: 'POST', url: `${h.base}/instances?instanceOwnerPartyId=${OWNER_PARTY}`, headers: owner, payload: {} });
    expectProblem(create, 507, 'STORAGE_FULL');
    expect(await instanceCount(h, h.storage.auth.nav, OWNER_PARTY)).toBe(before);

    await disk!.free();
    expect((await uploadProof()).statusCode).toBe(201);
    const created = await h.app.inject({ method: 'POST', url: `${h.base}/instances?instanceOwnerPartyId=${OWNER_PARTY}`, headers: owner, payload: {} });
    expect(created.statusCode).toBe(201);
  });
});
