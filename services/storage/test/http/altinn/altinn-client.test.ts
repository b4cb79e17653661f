import { createHash } from 'node:crypto';
import { freePort } from '@forms/test-support';
import { API, OWNER_PARTY, createInstance, registerApp, startStorage, viaApp, type StorageHarness } from '../../support/storage-harness';

/**
 * An org's archive integration as it is written for Altinn 3: its types come from Altinn's public models
 * (Altinn.Platform.Storage.Interface: Instance, DataElement, QueryResponse<T>), not from this project's contracts,
 * and it speaks plain HTTP. It must run unchanged against this storage.
 */
interface AltinnDataElement {
  id: string;
  instanceGuid: string;
  dataType: string;
  contentType: string;
  size: number;
  locked: boolean;
  isRead: boolean;
  selfLinks: { platform: string; apps?: string };
  lastChangedBy: string;
}
interface AltinnInstance {
  id: string;
  appId: string;
  org: string;
  instanceOwner: { partyId: string };
  process: { ended?: string | null; endEvent?: string | null };
  status: { isArchived: boolean; archived?: string | null; isSoftDeleted: boolean; isHardDeleted: boolean; readStatus: string };
  completeConfirmations: { stakeholderId: string; confirmedOn: string }[];
  data: AltinnDataElement[];
  visibleAfter?: string | null;
  lastChanged: string;
  lastChangedBy: string;
}
interface AltinnQueryResponse<T> {
  count: number;
  self: string;
  next?: string | null;
  instances: T[];
}

class AltinnArchiveClient {
  constructor(
    private readonly platform: string,
    private readonly token: string,
  ) {}

  private async call(url: string, init: RequestInit = {}): Promise<Response> {
    const response = await fetch(url, { ...init, headers: { Authorization: `Bearer ${this.token}`, ...init.headers } });
    if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${await response.text()}`);
    return response;
  }

  /** Every completed instance of the app this org has not confirmed yet, following `next`. */
  async unconfirmed(appId: string): Promise<AltinnInstance[]> {
    const found: AltinnInstance[] = [];
    let url: string | null | undefined = `${this.platform}/storage/api/v1/instances?appId=${appId}&process.isComplete=true&excludeConfirmedBy=${appId.split('/')[0]}&size=2`;
    while (url) {
      const page = (await (await this.call(url)).json()) as AltinnQueryResponse<AltinnInstance>;
      found.push(...page.instances);
      url = page.next;
    }
    return found;
  }

  async download(element: AltinnDataElement): Promise<Buffer> {
    return Buffer.from(await (await this.call(element.selfLinks.platform)).arrayBuffer());
  }

  async complete(instance: AltinnInstance): Promise<AltinnInstance> {
    const response = await this.call(`${this.platform}/storage/api/v1/instances/${instance.id}/complete`, { method: 'POST' });
    return (await response.json()) as AltinnInstance;
  }
}

let h: StorageHarness;
let platform: string;
beforeAll(async () => {
  // Links (selfLinks, next) are absolute, as in Altinn: the public URL is where this test reaches storage.
  const port = await freePort();
  platform = `http://127.0.0.1:${port}`;
  h = await startStorage('embedded', { PUBLIC_URL: platform });
  await h.app.listen({ host: '127.0.0.1', port });
  await registerApp(h, 'nav/sample-app');
});
afterAll(() => h.close());

it("runs an org's archive flow written against Altinn: query completed and unconfirmed, download, complete", async () => {
  const app = viaApp(h, h.auth.owner);
  const at = '2024-05-01T10:00:00.000Z';
  const forms: string[] = [];
  for (let i = 0; i < 3; i++) {
    const instance = await createInstance(h, { body: { process: { started: at, startEvent: 'StartEvent_1', currentTask: { flow: 2, started: at, elementId: 'Task_1', altinnTaskType: 'data' } } } });
    const form = `<model><n>${i}</n></model>`;
    forms.push(form);
    const upload = await h.app.inject({ method: 'POST', url: `${API}/instances/${instance.id}/data?dataType=model`, headers: { ...app, 'content-type': 'application/xml' }, payload: form });
    expect(upload.statusCode).toBe(201);
    const end = { started: at, startEvent: 'StartEvent_1', ended: '2024-05-02T10:00:00.000Z', endEvent: 'EndEvent_1' };
    expect((await h.app.inject({ method: 'PUT', url: `${API}/instances/${instance.id}/process`, headers: app, payload: end })).statusCode).toBe(200);
  }
  await createInstance(h); // still in progress: not for the archive

  const archive = new AltinnArchiveClient(platform, h.auth.nav.authorization!.replace(/^Bearer /, ''));
  const waiting = await archive.unconfirmed('nav/sample-app');
  expect(waiting).toHaveLength(3);
  const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
  for (const instance of waiting) {
    expect(instance.instanceOwner.partyId).toBe(OWNER_PARTY);
    expect(instance.status).toMatchObject({ isArchived: true, archived: '2024-05-02T10:00:00.000Z', isHardDeleted: false });
    const [model] = instance.data;
    expect(forms.map(sha)).toContain(sha(await archive.download(model!)));
    const confirmed = await archive.complete(instance);
    expect(confirmed.completeConfirmations.map((c) => c.stakeholderId)).toEqual(['nav']);
    expect(confirmed.lastChangedBy).toBe('889640782');
  }
  expect(await archive.unconfirmed('nav/sample-app')).toEqual([]);
});
