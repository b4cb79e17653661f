/**
 * Storage enforces the app's authority: the permission table of the README, row by row and caller by caller,
 * and each bypass of the app's rules found by calling storage directly, refused with problem+json and a code.
 */
import type { ApplicationInput, Instance, InstanceEvent, InstanceQueryResponse } from '@forms/contracts';
import { Scopes } from '@forms/contracts';
import {
  API,
  OWNER_PARTY,
  appOwnToken,
  bearer,
  createInstance,
  instanceUrl,
  startStorage,
  viaApp,
  type AdapterSet,
  type StorageHarness,
} from '../support/storage-harness';

const APP = 'nav/sample-app';
const OTHER_APP = 'nav/other-app';
const PDF = Buffer.from('%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n');
const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]), Buffer.alloc(256, 0)]);

const METADATA: ApplicationInput = {
  dataTypes: [
    { id: 'model', allowedContentTypes: ['application/json'], maxCount: 1, minCount: 0, taskId: 'Task_1', appLogic: { classRef: 'Model' } },
    { id: 'attachment', allowedContentTypes: ['application/pdf'], maxCount: 0, minCount: 0, taskId: 'Task_1' },
    { id: 'receipt', allowedContentTypes: ['application/pdf'], maxCount: 0, minCount: 0, allowedContributors: ['org:nav'] },
    { id: 'internal', allowedContentTypes: ['application/pdf'], maxCount: 0, minCount: 0, allowedContributors: ['app:owned'] },
  ],
  processTasks: ['Task_1', 'Task_2'],
};

const at = '2024-05-01T10:00:00.000Z';
const task = (elementId: string) => ({ flow: 2, started: at, elementId, altinnTaskType: 'data' as const });
const inTask = (elementId: string) => ({ started: at, startEvent: 'StartEvent_1', currentTask: task(elementId) });
const ended = { started: at, startEvent: 'StartEvent_1', ended: '2024-05-02T10:00:00.000Z', endEvent: 'EndEvent_1' };

describe.each<AdapterSet>(['embedded', 'mongo-s3'])('authority on the %s adapters', (adapters) => {
  let h: StorageHarness;
  /** The callers of the table: the party alone, its app acting for it, the org, and another app of the org. */
  let caller: Record<'party' | 'app' | 'org' | 'otherApp' | 'readOnlyParty', Record<string, string>>;

  beforeAll(async () => {
    h = await startStorage(adapters);
    for (const appId of [APP, OTHER_APP]) {
      const registered = await h.app.inject({ method: 'POST', url: `${API}/applications/${appId}`, headers: h.auth.nav, payload: METADATA });
      expect(registered.statusCode).toBe(201);
    }
    const readOnly = bearer(h.issuer.userToken({ userId: 1001, partyId: OWNER_PARTY, scopes: [Scopes.instancesRead] }));
    caller = {
      party: h.auth.owner,
      app: viaApp(h, h.auth.owner, APP),
      org: h.auth.nav,
      otherApp: viaApp(h, h.auth.owner, OTHER_APP),
      readOnlyParty: readOnly,
    };
  });
  afterAll(() => h.close());

  /** Status and problem code of a request; problem answers must be problem+json. */
  async function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, headers: Record<string, string>, payload?: unknown) {
    const contentType = Buffer.isBuffer(payload) ? { 'content-type': 'application/pdf' } : {};
    const response = await h.app.inject({ method, url, headers: { ...contentType, ...headers }, ...(payload !== undefined && { payload: payload as string }) });
    if (response.statusCode >= 400) expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const code = response.statusCode >= 400 ? response.json<{ code: string }>().code : undefined;
    return { status: response.statusCode, code, body: response.statusCode < 300 && response.body ? response.json<Instance>() : undefined };
  }

  /** A fresh instance created by the app, in Task_1. */
  const fresh = () => createInstance(h, { body: { process: inTask('Task_1') } });
  const moveTo = async (instance: Instance, process: object) => {
    const moved = await call('PUT', `${instanceUrl(instance)}/process`, caller.app, process);
    expect(moved.status).toBe(200);
  };

  describe('the bypasses found by calling storage directly', () => {
    it('a party cannot create an instance (submitted or not); nobody creates one already ended', async () => {
      const create = (headers: Record<string, string>, process: object = inTask('Task_1')) =>
        call('POST', `${API}/instances?appId=${APP}`, headers, { instanceOwner: { partyId: OWNER_PARTY }, process });
      expect(await create(caller.party, ended)).toMatchObject({ status: 403, code: 'APP_REQUIRED' });
      expect(await create(caller.party)).toMatchObject({ status: 403, code: 'APP_REQUIRED' });
      expect(await create(caller.app, ended)).toMatchObject({ status: 409, code: 'INVALID_PROCESS_STATE' });
      expect(await create(caller.org, ended)).toMatchObject({ status: 409, code: 'INVALID_PROCESS_STATE' });
      const todo = await call('GET', `${API}/instances?appId=${APP}&process.isComplete=true`, caller.org);
      expect((todo.body as unknown as InstanceQueryResponse).instances).toEqual([]);
    });

    it('only the app moves the process, only to coherent states of the registered process, and an ended process is final', async () => {
      const instance = await fresh();
      const url = `${instanceUrl(instance)}/process`;
      expect(await call('PUT', url, caller.party, ended)).toMatchObject({ status: 403, code: 'APP_REQUIRED' });
      expect(await call('PUT', url, caller.org, ended)).toMatchObject({ status: 403, code: 'APP_REQUIRED' });
      expect(await call('PUT', url, caller.app, { ...ended, currentTask: task('Task_2') })).toMatchObject({ status: 409, code: 'INVALID_PROCESS_STATE' });
      expect(await call('PUT', url, caller.app, inTask('Task_9'))).toMatchObject({ status: 409, code: 'INVALID_PROCESS_STATE' });
      expect(await call('PUT', url, caller.app, { started: at })).toMatchObject({ status: 409, code: 'INVALID_PROCESS_STATE' });
      await moveTo(instance, ended);
      await call('POST', `${instanceUrl(instance)}/complete`, caller.org);
      expect(await call('PUT', url, caller.app, inTask('Task_1'))).toMatchObject({ status: 409, code: 'PROCESS_ENDED' });
      // The ended task's history event names the task that ended, and the audit names the app.
      const events = (await h.app.inject({ url: `${instanceUrl(instance)}/events?eventTypes=process_EndTask`, headers: caller.org })).json<{
        instanceEvents: InstanceEvent[];
      }>().instanceEvents;
      expect(events.map((e) => [e.processInfo?.currentTask?.elementId, e.user])).toEqual([
        ['Task_1', { userId: '1001', authenticationLevel: 2, appId: APP }],
      ]);
    });

    it('form data (appLogic) is the app’s: the party cannot write it, whatever it contains', async () => {
      const instance = await fresh();
      const tampered = JSON.stringify({ monthlyBenefit: 99999999, notInSchema: true });
      const created = await h.app.inject({
        method: 'POST',
        url: `${instanceUrl(instance)}/data?dataType=model`,
        headers: { ...caller.app, 'content-type': 'application/json' },
        payload: '{}',
      });
      expect(created.statusCode).toBe(201);
      const dataUrl = `${instanceUrl(instance)}/data/${created.json<{ id: string }>().id}`;
      const put = await h.app.inject({ method: 'PUT', url: dataUrl, headers: { ...caller.party, 'content-type': 'application/json' }, payload: tampered });
      expect([put.statusCode, put.json().code]).toEqual([403, 'DATA_TYPE_NOT_WRITABLE']);
      const post = await h.app.inject({
        method: 'POST',
        url: `${instanceUrl(instance)}/data?dataType=model`,
        headers: { ...caller.party, 'content-type': 'application/json' },
        payload: tampered,
      });
      expect([post.statusCode, post.json().code]).toEqual([403, 'DATA_TYPE_NOT_WRITABLE']);
      expect(await call('DELETE', dataUrl, caller.party)).toMatchObject({ status: 403, code: 'DATA_TYPE_NOT_WRITABLE' });
      expect((await h.app.inject({ url: dataUrl, headers: caller.org })).body).toBe('{}');
    });

    it('content is judged by what it is: an ELF is not a PDF, nor is %PDF- followed by an ELF', async () => {
      const instance = await fresh();
      const url = `${instanceUrl(instance)}/data?dataType=attachment`;
      for (const body of [ELF, Buffer.concat([Buffer.from('%PDF-'), ELF]), Buffer.concat([Buffer.from('%PDF-1.7\n'), ELF])]) {
        for (const headers of [caller.party, caller.app]) expect(await call('POST', url, headers, body)).toMatchObject({ status: 415, code: 'CONTENT_TYPE_MISMATCH' });
      }
      const current = await call('GET', instanceUrl(instance), caller.org);
      expect(current.body?.data).toEqual([]);
      expect(await h.app.storage.context.store.pendingUploads.listStartedBefore('9999-01-01T00:00:00.000Z', 100)).toEqual([]);
    });

    it('downloads are attachments, never sniffed, with names stripped of control and bidi characters', async () => {
      const instance = await fresh();
      const uploaded = await h.app.inject({
        method: 'POST',
        url: `${instanceUrl(instance)}/data?dataType=attachment`,
        headers: { ...caller.party, 'content-type': 'application/pdf', 'content-disposition': "attachment; filename*=UTF-8''faktura%E2%80%AEfdp.exe%0D%0A.pdf" },
        payload: PDF,
      });
      expect(uploaded.statusCode).toBe(201);
      const element = uploaded.json<{ id: string; filename: string }>();
      expect(element.filename).toBe('fakturafdp.exe.pdf');
      const raw = await h.app.inject({
        method: 'POST',
        url: `${instanceUrl(instance)}/data?dataType=attachment`,
        headers: { ...caller.party, 'content-type': 'application/pdf', 'content-disposition': Buffer.from('attachment; filename="Søknad.pdf"').toString('latin1') },
        payload: PDF,
      });
      expect(raw.json<{ filename: string }>().filename).toBe('Søknad.pdf');
      const download = await h.app.inject({ url: `${instanceUrl(instance)}/data/${element.id}`, headers: caller.org });
      expect(download.headers['x-content-type-options']).toBe('nosniff');
      expect(download.headers['content-disposition']).toBe('attachment; filename="fakturafdp.exe.pdf"');
    });

    it('a party never deletes for good; once submitted its delete hides the instance from it only', async () => {
      const instance = await fresh();
      await moveTo(instance, ended);
      expect(await call('DELETE', `${instanceUrl(instance)}?hard=true`, caller.party)).toMatchObject({ status: 403, code: 'ORG_REQUIRED' });
      expect(await call('DELETE', `${instanceUrl(instance)}?hard=true`, caller.app)).toMatchObject({ status: 403, code: 'ORG_REQUIRED' });
      const soft = await call('DELETE', instanceUrl(instance), caller.party);
      expect(soft.status).toBe(200);
      expect(soft.body?.status).toMatchObject({ isSoftDeleted: false, isHiddenFromOwner: true });
      const ids = async (query: string, headers: Record<string, string>) =>
        (await h.app.inject({ url: `${API}/instances?${query}`, headers })).json<InstanceQueryResponse>().instances.map((i) => i.id);
      expect(await ids(`appId=${APP}&process.isComplete=true&excludeConfirmedBy=nav`, caller.org)).toContain(instance.id);
      expect(await ids(`appId=${APP}`, caller.party)).not.toContain(instance.id);
    });

    it("a party's own token replayed against every write route does only what the party may", async () => {
      const instance = await fresh();
      const url = instanceUrl(instance);
      const element = async (dataType: string) => {
        const uploaded = await call('POST', `${url}/data?dataType=${dataType}`, caller.app, PDF);
        expect(uploaded.status).toBe(201);
        return (uploaded.body as unknown as { id: string }).id;
      };
      const internal = await element('internal');
      const receipt = await element('receipt');
      const refused: Array<[string, 'POST' | 'PUT' | 'DELETE', string, unknown, string]> = [
        ['register an app', 'POST', `${API}/applications/nav/party-app`, METADATA, 'FORBIDDEN'],
        ['update the app', 'PUT', `${API}/applications/${APP}`, METADATA, 'FORBIDDEN'],
        ['create an instance', 'POST', `${API}/instances?appId=${APP}`, { instanceOwner: { partyId: OWNER_PARTY } }, 'APP_REQUIRED'],
        ['move the process', 'PUT', `${url}/process`, ended, 'APP_REQUIRED'],
        ['set the substatus', 'PUT', `${url}/substatus`, { label: 'accepted' }, 'ORG_REQUIRED'],
        ['set data values', 'PUT', `${url}/datavalues`, { values: { approved: 'yes' } }, 'NOT_ALLOWED_FOR_CALLER'],
        ['confirm the download', 'POST', `${url}/complete`, undefined, 'ORG_REQUIRED'],
        ['delete for good', 'DELETE', `${url}?hard=true`, undefined, 'ORG_REQUIRED'],
        ['upload app-owned data', 'POST', `${url}/data?dataType=internal`, PDF, 'DATA_TYPE_NOT_WRITABLE'],
        ["upload the org's data", 'POST', `${url}/data?dataType=receipt`, PDF, 'DATA_TYPE_NOT_WRITABLE'],
        ['replace app-owned data', 'PUT', `${url}/data/${internal}`, PDF, 'DATA_TYPE_NOT_WRITABLE'],
        ["replace the org's data", 'PUT', `${url}/data/${receipt}`, PDF, 'DATA_TYPE_NOT_WRITABLE'],
        ['delete app-owned data', 'DELETE', `${url}/data/${internal}`, undefined, 'DATA_TYPE_NOT_WRITABLE'],
      ];
      for (const [what, method, target, payload, code] of refused) {
        const { status, code: actual } = await call(method, target, caller.party, payload);
        expect({ what, status, code: actual }).toEqual({ what, status: 403, code });
      }
      const after = await call('GET', url, caller.org);
      expect(after.body).toMatchObject({ version: instance.version + 2, process: inTask('Task_1'), dataValues: {} });
    });

    it('a read-only party token cannot change the read status', async () => {
      const instance = await fresh();
      expect(await call('PUT', `${instanceUrl(instance)}/readstatus?status=Read`, caller.readOnlyParty)).toMatchObject({ status: 403, code: 'MISSING_SCOPE' });
      expect((await call('PUT', `${instanceUrl(instance)}/readstatus?status=Read`, caller.party)).status).toBe(200);
    });
  });

  describe('the permission table, each row for each caller', () => {
    type Caller = keyof typeof caller;
    /** Runs `operation` on a fresh instance for each caller and returns its status (and code). */
    async function outcomes(callers: Caller[], operation: (instance: Instance, headers: Record<string, string>) => ReturnType<typeof call>) {
      const result: Record<string, string | number> = {};
      for (const who of callers) {
        const { status, code } = await operation(await fresh(), caller[who]);
        result[who] = code ? `${status} ${code}` : status;
      }
      return result;
    }
    const everyone: Caller[] = ['party', 'app', 'org', 'otherApp'];

    it('instances: create, read, query', async () => {
      const create = (_: Instance, headers: Record<string, string>) =>
        call('POST', `${API}/instances?appId=${APP}`, headers, { instanceOwner: { partyId: OWNER_PARTY }, process: inTask('Task_1') });
      expect(await outcomes(everyone, create)).toEqual({ party: '403 APP_REQUIRED', app: 201, org: 201, otherApp: '403 APP_MISMATCH' });
      expect(await outcomes(everyone, (i, headers) => call('GET', instanceUrl(i), headers))).toEqual({
        party: 200,
        app: 200,
        org: 200,
        otherApp: '404 INSTANCE_NOT_FOUND',
      });
      const query = await call('GET', `${API}/instances?appId=${APP}`, caller.otherApp);
      expect(query).toMatchObject({ status: 403, code: 'APP_MISMATCH' });
    });

    it('process, substatus, read status, data values, confirmation', async () => {
      const put = (path: string, payload?: unknown) => (i: Instance, headers: Record<string, string>) => call('PUT', `${instanceUrl(i)}/${path}`, headers, payload);
      expect(await outcomes(everyone, put('process', inTask('Task_2')))).toEqual({
        party: '403 APP_REQUIRED',
        app: 200,
        org: '403 APP_REQUIRED',
        otherApp: '403 APP_MISMATCH',
      });
      expect(await outcomes(everyone, put('substatus', { label: 'ok' }))).toEqual({
        party: '403 ORG_REQUIRED',
        app: '403 ORG_REQUIRED',
        org: 200,
        otherApp: '403 APP_MISMATCH',
      });
      expect(await outcomes(everyone, put('readstatus?status=Read'))).toEqual({
        party: 200,
        app: 200,
        org: '403 NOT_ALLOWED_FOR_CALLER',
        otherApp: '403 APP_MISMATCH',
      });
      expect(await outcomes(everyone, put('datavalues', { values: { a: '1' } }))).toEqual({
        party: '403 NOT_ALLOWED_FOR_CALLER',
        app: 200,
        org: 200,
        otherApp: '403 APP_MISMATCH',
      });
      expect(await outcomes(everyone, (i, headers) => call('POST', `${instanceUrl(i)}/complete`, headers))).toEqual({
        party: '403 ORG_REQUIRED',
        app: '403 ORG_REQUIRED',
        org: 200,
        otherApp: '403 APP_MISMATCH',
      });
    });

    it('deleting: softly by anyone who may write it, for good by the org (and the app, for a draft)', async () => {
      expect(await outcomes(everyone, (i, headers) => call('DELETE', instanceUrl(i), headers))).toEqual({
        party: 200,
        app: 200,
        org: 200,
        otherApp: '403 APP_MISMATCH',
      });
      expect(await outcomes(everyone, (i, headers) => call('DELETE', `${instanceUrl(i)}?hard=true`, headers))).toEqual({
        party: '403 ORG_REQUIRED',
        app: 200,
        org: 200,
        otherApp: '403 APP_MISMATCH',
      });
    });

    it('data types: appLogic and app:owned for the app, org:<org> for that org and the app, unset for anyone in the task', async () => {
      const upload = (dataType: string) => (i: Instance, headers: Record<string, string>) => call('POST', `${instanceUrl(i)}/data?dataType=${dataType}`, headers, PDF);
      const appOnly = { party: '403 DATA_TYPE_NOT_WRITABLE', app: 201, org: '403 DATA_TYPE_NOT_WRITABLE', otherApp: '403 APP_MISMATCH' };
      expect(await outcomes(everyone, upload('internal'))).toEqual(appOnly);
      expect(await outcomes(everyone, upload('receipt'))).toEqual({ ...appOnly, org: 201 });
      expect(await outcomes(everyone, upload('attachment'))).toEqual({ party: 201, app: 201, org: 201, otherApp: '403 APP_MISMATCH' });

      // The party only while the process is in the type's task, and not after the end; the org's receipts still.
      const instance = await fresh();
      await moveTo(instance, inTask('Task_2'));
      expect(await upload('attachment')(instance, caller.party)).toMatchObject({ status: 409, code: 'NOT_IN_TASK' });
      await moveTo(instance, ended);
      expect(await upload('attachment')(instance, caller.party)).toMatchObject({ status: 409, code: 'INSTANCE_LOCKED' });
      expect(await upload('internal')(instance, caller.app)).toMatchObject({ status: 409, code: 'INSTANCE_LOCKED' });
      expect((await upload('receipt')(instance, caller.org)).status).toBe(201);
    });

    it("an app's own token: registers and reads its own app only, and never acts for another org's app", async () => {
      const own = appOwnToken(h, APP);
      const update = await h.app.inject({ method: 'PUT', url: `${API}/applications/${APP}`, headers: own, payload: METADATA });
      expect(update.statusCode).toBe(200);
      const other = await h.app.inject({ method: 'PUT', url: `${API}/applications/${OTHER_APP}`, headers: own, payload: METADATA });
      expect([other.statusCode, other.json().code]).toEqual([403, 'APP_MISMATCH']);
      const skdApp = { ...h.auth.owner, platformaccesstoken: h.issuer.appToken({ app: 'skd/tax-return' }) };
      const instance = await fresh();
      expect(await call('PUT', `${instanceUrl(instance)}/process`, skdApp, inTask('Task_2'))).toMatchObject({ status: 403, code: 'APP_MISMATCH' });
      // A party's or an org's token is no app token.
      const forged = { ...h.auth.owner, platformaccesstoken: h.auth.nav.authorization!.slice('Bearer '.length) };
      expect(await call('PUT', `${instanceUrl(instance)}/process`, forged, inTask('Task_2'))).toMatchObject({ status: 401, code: 'INVALID_TOKEN' });
    });
  });
});
