import { randomUUID } from 'node:crypto';
import type { Instance, InstanceEvent } from '@forms/contracts';
import { DuplicateKeyError, type EventQuery, type InstanceQuery, type MetadataStore } from '../../src/domain/ports/metadata-store';
import {
  at,
  buildApplication,
  buildEvent,
  buildInstance,
  buildPendingUpload,
  endedProcess,
  guidOf,
  processInTask,
} from './test-data';
import { describeScanQueueContract } from './scan-queue.contract';
import { describeOrderContract } from './metadata-store-order.contract';

/** What an adapter's test file supplies to run the contract against it. */
export interface MetadataStoreTestTarget {
  /** A new, initialised store over empty storage. */
  createEmpty(): Promise<MetadataStore>;
  /** A new, initialised store over the same storage as `closedStore`, as after a restart. */
  reopen(closedStore: MetadataStore): Promise<MetadataStore>;
  /** Runs once after the suite: removes the storage the target created. */
  cleanup(): Promise<void>;
}

/** The behaviour every MetadataStore adapter must share. Call it from a test file, once per adapter. */
export function describeMetadataStoreContract(name: string, target: MetadataStoreTestTarget): void {
  describe(`MetadataStore contract: ${name}`, () => {
    let store: MetadataStore;
    const openedStores: MetadataStore[] = [];

    const open = async (creating: Promise<MetadataStore>): Promise<MetadataStore> => {
      const opened = await creating;
      openedStores.push(opened);
      return opened;
    };

    beforeEach(async () => {
      store = await open(target.createEmpty());
    });

    afterEach(async () => {
      for (const opened of openedStores.splice(0)) await opened.close();
    });

    afterAll(async () => {
      await target.cleanup();
    });

    describeScanQueueContract(
      () => store,
      (closed) => open(target.reopen(closed)),
    );

    const query = (filters: Omit<InstanceQuery, 'limit'> & { limit?: number }): Promise<Instance[]> =>
      store.instances.query({ limit: 1000, ...filters });

    describe('instances', () => {
      it('inserts and gets an instance by guid', async () => {
        const instance = buildInstance({ dueBefore: at(60) });
        await store.instances.insert(instance);
        expect(await store.instances.get(guidOf(instance))).toEqual(instance);
        expect(await store.instances.get(randomUUID())).toBeNull();
      });

      it('keeps an absent optional member absent and a null one null', async () => {
        const instance = buildInstance({ visibleAfter: null });
        await store.instances.insert({ ...instance, dueBefore: undefined });
        const stored = await store.instances.get(guidOf(instance));
        expect(stored && 'dueBefore' in stored).toBe(false);
        expect(stored?.visibleAfter).toBeNull();
      });

      it('hands out copies: changing a returned instance does not change the stored one', async () => {
        const instance = buildInstance();
        await store.instances.insert(instance);
        const read = await store.instances.get(guidOf(instance));
        read?.completeConfirmations.push({ stakeholderId: 'changed', confirmedOn: at(1) });
        (await query({}))[0]?.data.pop();
        expect(await store.instances.get(guidOf(instance))).toEqual(instance);
      });

      it('rejects a second insert with the same guid with DuplicateKeyError', async () => {
        const instance = buildInstance();
        await store.instances.insert(instance);
        const duplicate = buildInstance({ guid: guidOf(instance), partyId: '999', appId: 'other/app' });
        const error = await store.instances.insert(duplicate).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(DuplicateKeyError);
        expect(error).toMatchObject({ id: guidOf(instance) });
        expect(await store.instances.get(guidOf(instance))).toEqual(instance);
      });

      it('replaces only while the stored version is the expected one', async () => {
        const instance = buildInstance({ version: 1 });
        await store.instances.insert(instance);
        const changed: Instance = { ...instance, version: 2, lastChanged: at(5), dataValues: { reference: 'REF-2' } };

        expect(await store.instances.replace({ ...changed, dataValues: { stale: 'yes' } }, 7)).toBe(false);
        expect(await store.instances.get(guidOf(instance))).toEqual(instance);

        expect(await store.instances.replace(changed, 1)).toBe(true);
        expect(await store.instances.get(guidOf(instance))).toEqual(changed);

        // A writer that read version 1 has lost the race now.
        expect(await store.instances.replace({ ...instance, version: 2 }, 1)).toBe(false);
        expect(await store.instances.get(guidOf(instance))).toEqual(changed);
      });

      it('does not create an instance on replace', async () => {
        const instance = buildInstance();
        expect(await store.instances.replace(instance, 1)).toBe(false);
        expect(await store.instances.get(guidOf(instance))).toBeNull();
      });

      it('lets one of two concurrent replaces of the same version win', async () => {
        const instance = buildInstance({ version: 3 });
        await store.instances.insert(instance);
        const outcomes = await Promise.all([
          store.instances.replace({ ...instance, version: 4, lastChangedBy: 'first' }, 3),
          store.instances.replace({ ...instance, version: 4, lastChangedBy: 'second' }, 3),
        ]);
        expect(outcomes.filter(Boolean)).toHaveLength(1);
        const winner = outcomes[0] ? 'first' : 'second';
        expect((await store.instances.get(guidOf(instance)))?.lastChangedBy).toBe(winner);
      });

      it('removes an instance, idempotently', async () => {
        const kept = buildInstance();
        const removed = buildInstance();
        await store.instances.insert(kept);
        await store.instances.insert(removed);

        await store.instances.remove(guidOf(removed));
        await store.instances.remove(guidOf(removed));
        await store.instances.remove(randomUUID());

        expect(await store.instances.get(guidOf(removed))).toBeNull();
        expect(await store.instances.get(guidOf(kept))).toEqual(kept);
        expect(await query({})).toEqual([kept]);
        // The guid is free again.
        await store.instances.insert(removed);
        expect(await store.instances.get(guidOf(removed))).toEqual(removed);
      });
    });

    describe('instance query filters', () => {
      /**
       * Five instances with distinct lastChanged (a1 < a2 < b1 < c1 < c2), last written in that order, so
       * every expectation below also checks the result order (the order of the last writes).
       */
      const seed = {
        a1: buildInstance({
          appId: 'acme/alpha',
          partyId: '1001',
          process: processInTask('Task_1'),
          created: at(0),
          lastChanged: at(10),
          dueBefore: at(100),
          visibleAfter: at(5),
        }),
        a2: buildInstance({
          appId: 'acme/alpha',
          partyId: '1002',
          process: endedProcess('EndEvent_1', at(20)),
          created: at(1),
          lastChanged: at(20),
          dueBefore: at(200),
          status: { isArchived: true, archived: at(20), isHiddenFromOwner: true },
          completeConfirmations: [{ stakeholderId: 'acme', confirmedOn: at(21) }],
        }),
        b1: buildInstance({
          appId: 'acme/beta',
          partyId: '1001',
          process: processInTask('Task_2'),
          created: at(2),
          lastChanged: at(30),
          visibleAfter: at(50),
          status: { isSoftDeleted: true, softDeleted: at(30) },
        }),
        c1: buildInstance({
          appId: 'other/gamma',
          partyId: '2001',
          process: endedProcess('EndEvent_2', at(40)),
          created: at(3),
          lastChanged: at(40),
          dueBefore: at(100),
          status: { isArchived: true, isSoftDeleted: true, isHardDeleted: true, hardDeleted: at(40) },
          completeConfirmations: [
            { stakeholderId: 'other', confirmedOn: at(41) },
            { stakeholderId: 'acme', confirmedOn: at(42) },
          ],
        }),
        c2: buildInstance({
          appId: 'other/gamma',
          partyId: '2002',
          process: { started: at(4), startEvent: 'StartEvent_1' },
          created: at(4),
          lastChanged: at(50),
          dueBefore: null,
          visibleAfter: null,
          completeConfirmations: [{ stakeholderId: 'other', confirmedOn: at(51) }],
        }),
      };
      type SeedName = keyof typeof seed;
      const everyone: SeedName[] = ['a1', 'a2', 'b1', 'c1', 'c2'];

      beforeEach(async () => {
        // Inserted out of order, then written again in order: a write moves an instance to the end.
        for (const name of ['c1', 'a2', 'c2', 'a1', 'b1'] as const) await store.instances.insert(seed[name]);
        for (const name of everyone) expect(await store.instances.replace(seed[name], seed[name].version)).toBe(true);
      });

      const namesOf = (instances: Instance[]): string[] =>
        instances.map((instance) => (Object.keys(seed) as SeedName[]).find((name) => seed[name].id === instance.id) ?? instance.id);

      const cases: Array<[string, Omit<InstanceQuery, 'limit'>, SeedName[]]> = [
        ['no filter', {}, everyone],
        ['appIds, one app', { appIds: ['acme/alpha'] }, ['a1', 'a2']],
        ['appIds, two apps', { appIds: ['acme/alpha', 'other/gamma'] }, ['a1', 'a2', 'c1', 'c2']],
        ['appIds, empty list matches nothing', { appIds: [] }, []],
        ['org', { org: 'acme' }, ['a1', 'a2', 'b1']],
        ['org, unknown', { org: 'nobody' }, []],
        ['partyIds, one party', { partyIds: ['1001'] }, ['a1', 'b1']],
        ['partyIds, two parties', { partyIds: ['1001', '2002'] }, ['a1', 'b1', 'c2']],
        ['partyIds, empty list matches nothing', { partyIds: [] }, []],
        ['currentTask', { currentTask: 'Task_1' }, ['a1']],
        ['currentTask, other task', { currentTask: 'Task_2' }, ['b1']],
        ['isComplete true', { isComplete: true }, ['a2', 'c1']],
        ['isComplete false (ended null or absent)', { isComplete: false }, ['a1', 'b1', 'c2']],
        ['endEvent', { endEvent: 'EndEvent_1' }, ['a2']],
        ['lastChanged gt', { lastChanged: { gt: at(20) } }, ['b1', 'c1', 'c2']],
        ['lastChanged gte', { lastChanged: { gte: at(20) } }, ['a2', 'b1', 'c1', 'c2']],
        ['lastChanged lt', { lastChanged: { lt: at(20) } }, ['a1']],
        ['lastChanged lte', { lastChanged: { lte: at(20) } }, ['a1', 'a2']],
        ['lastChanged eq', { lastChanged: { eq: at(30) } }, ['b1']],
        ['lastChanged gt and lt', { lastChanged: { gt: at(10), lt: at(40) } }, ['a2', 'b1']],
        ['lastChanged without bounds', { lastChanged: {} }, everyone],
        ['created gt', { created: { gt: at(2) } }, ['c1', 'c2']],
        ['created gte', { created: { gte: at(2) } }, ['b1', 'c1', 'c2']],
        ['created lt', { created: { lt: at(1) } }, ['a1']],
        ['created lte', { created: { lte: at(1) } }, ['a1', 'a2']],
        ['created eq', { created: { eq: at(3) } }, ['c1']],
        ['dueBefore gt (absent and null never match)', { dueBefore: { gt: at(100) } }, ['a2']],
        ['dueBefore gte', { dueBefore: { gte: at(100) } }, ['a1', 'a2', 'c1']],
        ['dueBefore lt', { dueBefore: { lt: at(150) } }, ['a1', 'c1']],
        ['dueBefore lte', { dueBefore: { lte: at(100) } }, ['a1', 'c1']],
        ['dueBefore eq', { dueBefore: { eq: at(200) } }, ['a2']],
        ['visibleAfter gt', { visibleAfter: { gt: at(5) } }, ['b1']],
        ['visibleAfter gte', { visibleAfter: { gte: at(5) } }, ['a1', 'b1']],
        ['visibleAfter lt', { visibleAfter: { lt: at(50) } }, ['a1']],
        ['visibleAfter lte', { visibleAfter: { lte: at(50) } }, ['a1', 'b1']],
        ['visibleAfter eq', { visibleAfter: { eq: at(50) } }, ['b1']],
        ['isArchived true', { isArchived: true }, ['a2', 'c1']],
        ['isArchived false', { isArchived: false }, ['a1', 'b1', 'c2']],
        ['isSoftDeleted true', { isSoftDeleted: true }, ['b1', 'c1']],
        ['isSoftDeleted false', { isSoftDeleted: false }, ['a1', 'a2', 'c2']],
        ['isHardDeleted true', { isHardDeleted: true }, ['c1']],
        ['isHardDeleted false', { isHardDeleted: false }, ['a1', 'a2', 'b1', 'c2']],
        ['excludeHiddenFromOwner', { excludeHiddenFromOwner: true }, ['a1', 'b1', 'c1', 'c2']],
        ['excludeConfirmedBy, one of several confirmations', { excludeConfirmedBy: 'acme' }, ['a1', 'b1', 'c2']],
        ['excludeConfirmedBy, other stakeholder', { excludeConfirmedBy: 'other' }, ['a1', 'a2', 'b1']],
        ['excludeConfirmedBy, nobody confirmed', { excludeConfirmedBy: 'unknown' }, everyone],
        ['confirmedBy', { confirmedBy: 'acme' }, ['a2', 'c1']],
        ['confirmedBy, nobody confirmed', { confirmedBy: 'unknown' }, []],
        ['processEnded gte (absent never matches)', { processEnded: { gte: at(20) } }, ['a2', 'c1']],
        ['processEnded lt', { processEnded: { lt: at(40) } }, ['a2']],
        ['processEnded eq', { processEnded: { eq: at(40) } }, ['c1']],
        ['filters combine with AND', { org: 'acme', isComplete: false, partyIds: ['1001', '1002'] }, ['a1', 'b1']],
        ['filters combine with AND, no match', { appIds: ['acme/alpha'], isSoftDeleted: true }, []],
      ];

      it.each(cases)('%s', async (_description, filters, expected) => {
        expect(namesOf(await query(filters))).toEqual(expected);
      });

      it('starts after a sequence, the filters still applying', async () => {
        const rows = await store.instances.querySequenced({ limit: 10 });
        const sequenceOf = (name: SeedName): number => rows.find((row) => row.instance.id === seed[name].id)?.sequence ?? -1;
        expect(namesOf(await query({ after: { sequence: sequenceOf('a2') } }))).toEqual(['b1', 'c1', 'c2']);
        expect(namesOf(await query({ org: 'acme', after: { sequence: sequenceOf('a1') } }))).toEqual(['a2', 'b1']);
      });

      it('walks newest write first when descending, the cursor then meaning below, the filters still applying', async () => {
        const ascending = namesOf(await query({}));
        expect(namesOf(await query({ descending: true }))).toEqual([...ascending].reverse());
        const rows = await store.instances.querySequenced({ limit: 10, descending: true });
        expect(rows.map((row) => row.sequence)).toEqual([...rows.map((row) => row.sequence)].sort((a, b) => b - a));
        const sequenceOf = (name: SeedName): number => rows.find((row) => row.instance.id === seed[name].id)?.sequence ?? -1;
        expect(namesOf(await query({ descending: true, after: { sequence: sequenceOf('b1') } }))).toEqual(['a2', 'a1']);
        expect(namesOf(await query({ descending: true, org: 'acme', limit: 1, after: { sequence: sequenceOf('b1') } }))).toEqual(['a2']);
        expect(namesOf(await query({ descending: true, after: { sequence: sequenceOf('a1') } }))).toEqual([]);
      });

      it('returns whole instances', async () => {
        expect(await query({ appIds: ['acme/beta'] })).toEqual([seed.b1]);
      });

      it('returns at most limit instances, the first in order', async () => {
        expect(namesOf(await query({ limit: 2 }))).toEqual(['a1', 'a2']);
        expect(namesOf(await query({ org: 'acme', limit: 1 }))).toEqual(['a1']);
        expect(await query({ limit: 0 })).toEqual([]);
      });
    });

    describeOrderContract(
      () => store,
      (closed) => open(target.reopen(closed)),
    );

    describe('applications', () => {
      it('inserts and gets an application', async () => {
        const application = buildApplication('acme/tax-return');
        await store.applications.insert(application);
        expect(await store.applications.get('acme/tax-return')).toEqual(application);
        expect(await store.applications.get('acme/unknown')).toBeNull();
      });

      it('rejects a second insert with the same id with DuplicateKeyError', async () => {
        const application = buildApplication('acme/tax-return');
        await store.applications.insert(application);
        const error = await store.applications.insert(buildApplication('acme/tax-return', { version: 9 })).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(DuplicateKeyError);
        expect(error).toMatchObject({ id: 'acme/tax-return' });
        expect(await store.applications.get('acme/tax-return')).toEqual(application);
      });

      it("lists an org's applications ordered by id", async () => {
        for (const appId of ['acme/zeta', 'other/alpha', 'acme/alpha', 'acme/mid']) await store.applications.insert(buildApplication(appId));
        expect((await store.applications.listByOrg('acme')).map((application) => application.id)).toEqual(['acme/alpha', 'acme/mid', 'acme/zeta']);
        expect(await store.applications.listByOrg('other')).toEqual([buildApplication('other/alpha')]);
        expect(await store.applications.listByOrg('nobody')).toEqual([]);
      });

      it('lists every application ordered by id', async () => {
        for (const appId of ['other/alpha', 'acme/zeta', 'acme/alpha']) await store.applications.insert(buildApplication(appId));
        expect((await store.applications.listAll()).map((application) => application.id)).toEqual(['acme/alpha', 'acme/zeta', 'other/alpha']);
      });

      it('removes an application, idempotently, and leaves the others', async () => {
        for (const appId of ['acme/alpha', 'acme/beta']) await store.applications.insert(buildApplication(appId));
        await store.applications.remove('acme/alpha');
        await store.applications.remove('acme/alpha');
        expect(await store.applications.get('acme/alpha')).toBeNull();
        expect((await store.applications.listAll()).map((application) => application.id)).toEqual(['acme/beta']);
      });

      it('replaces only while the stored version is the expected one', async () => {
        const application = buildApplication('acme/tax-return', { version: 1 });
        await store.applications.insert(application);
        const changed = { ...application, version: 2, title: { en: 'Changed' }, lastChanged: at(5) };

        expect(await store.applications.replace(changed, 2)).toBe(false);
        expect(await store.applications.get(application.id)).toEqual(application);
        expect(await store.applications.replace(changed, 1)).toBe(true);
        expect(await store.applications.get(application.id)).toEqual(changed);
        expect(await store.applications.replace(buildApplication('acme/unknown'), 1)).toBe(false);
        expect(await store.applications.get('acme/unknown')).toBeNull();
      });
    });

    describe('events', () => {
      const instance = buildInstance({ partyId: '1001' });
      const otherInstance = buildInstance({ partyId: '1001' });
      // Ids chosen so that the tie at at(2) is broken by id.
      const created = buildEvent(instance, 'Created', at(0));
      const savedLate = buildEvent(instance, 'Saved', at(2), 'ffffffff-0000-4000-8000-000000000000');
      const savedEarly = buildEvent(instance, 'Saved', at(2), '00000000-0000-4000-8000-000000000000');
      const submitted = buildEvent(instance, 'Submited', at(3));
      const endEvent = buildEvent(instance, 'process_EndEvent', at(4));
      const otherEvent = buildEvent(otherInstance, 'Created', at(1));

      beforeEach(async () => {
        for (const event of [submitted, savedLate, otherEvent, endEvent, created, savedEarly]) await store.events.insert(event);
      });

      it('lists an instance’s events ordered by created, ties by id', async () => {
        expect(await store.events.list(instance.id, {})).toEqual([created, savedEarly, savedLate, submitted, endEvent]);
        expect(await store.events.list(otherInstance.id, {})).toEqual([otherEvent]);
        expect(await store.events.list(`1001/${randomUUID()}`, {})).toEqual([]);
      });

      it('filters by event type', async () => {
        expect(await store.events.list(instance.id, { eventTypes: ['Saved', 'process_EndEvent'] })).toEqual([savedEarly, savedLate, endEvent]);
        expect(await store.events.list(instance.id, { eventTypes: ['Deleted'] })).toEqual([]);
        expect(await store.events.list(instance.id, { eventTypes: [] })).toEqual([]);
      });

      it('filters by time, both bounds inclusive', async () => {
        expect(await store.events.list(instance.id, { from: at(2) })).toEqual([savedEarly, savedLate, submitted, endEvent]);
        expect(await store.events.list(instance.id, { to: at(2) })).toEqual([created, savedEarly, savedLate]);
        expect(await store.events.list(instance.id, { from: at(2), to: at(3) })).toEqual([savedEarly, savedLate, submitted]);
        expect(await store.events.list(instance.id, { from: at(2), to: at(3), eventTypes: ['Submited'] })).toEqual([submitted]);
        expect(await store.events.list(instance.id, { from: at(5) })).toEqual([]);
      });

      it('pages with limit and the keyset cursor, across a tie, each event once, filters kept', async () => {
        const page = (query: EventQuery) => store.events.list(instance.id, query);
        const cursor = (event: InstanceEvent) => ({ created: event.created, id: event.id });
        expect(await page({ limit: 2 })).toEqual([created, savedEarly]);
        expect(await page({ limit: 2, after: cursor(savedEarly) })).toEqual([savedLate, submitted]);
        expect(await page({ limit: 2, after: cursor(submitted) })).toEqual([endEvent]);
        expect(await page({ limit: 2, after: cursor(endEvent) })).toEqual([]);
        expect(await page({ after: cursor(created) })).toEqual([savedEarly, savedLate, submitted, endEvent]);
        expect(await page({ limit: 1, after: cursor(created), eventTypes: ['Saved', 'process_EndEvent'] })).toEqual([savedEarly]);
        expect(await page({ limit: 5, after: cursor(savedEarly), eventTypes: ['Saved', 'process_EndEvent'], to: at(3) })).toEqual([savedLate]);
        expect(await page({ after: cursor(created), from: at(3) })).toEqual([submitted, endEvent]);
        expect(await page({ after: cursor(submitted), from: at(2) })).toEqual([endEvent]);
        expect(await page({ limit: 0 })).toEqual([]);
      });

      it('finds one event of an instance by its id, and none of another instance', async () => {
        expect(await store.events.get(instance.id, savedLate.id)).toEqual(savedLate);
        expect(await store.events.get(otherInstance.id, otherEvent.id)).toEqual(otherEvent);
        expect(await store.events.get(otherInstance.id, savedLate.id)).toBeNull();
        expect(await store.events.get(instance.id, randomUUID())).toBeNull();
      });

      it('rejects a second event with the same id with DuplicateKeyError', async () => {
        await expect(store.events.insert({ ...created, eventType: 'Deleted' })).rejects.toBeInstanceOf(DuplicateKeyError);
      });

      it('removes the events of one instance only', async () => {
        await store.events.removeForInstance(instance.id);
        await store.events.removeForInstance(instance.id);
        expect(await store.events.list(instance.id, {})).toEqual([]);
        expect(await store.events.list(otherInstance.id, {})).toEqual([otherEvent]);
      });
    });

    describe('pending uploads', () => {
      it('lists uploads started strictly before a time, oldest first, at most limit', async () => {
        const uploads = [at(5), at(1), at(3), at(2), at(4)].map((started) => buildPendingUpload(started));
        for (const upload of uploads) await store.pendingUploads.insert(upload);
        const startedOf = (list: { started: string }[]) => list.map((upload) => upload.started);

        expect(startedOf(await store.pendingUploads.listStartedBefore(at(4), 10))).toEqual([at(1), at(2), at(3)]);
        expect(startedOf(await store.pendingUploads.listStartedBefore(at(4), 2))).toEqual([at(1), at(2)]);
        expect(await store.pendingUploads.listStartedBefore(at(1), 10)).toEqual([]);
        expect(await store.pendingUploads.listStartedBefore(at(9), 0)).toEqual([]);
        expect(await store.pendingUploads.listStartedBefore(at(2), 10)).toEqual([uploads[1]]);
      });

      it('breaks ties in start time by data element id', async () => {
        const later = buildPendingUpload(at(1), 'ffffffff-0000-4000-8000-000000000000');
        const earlier = buildPendingUpload(at(1), '00000000-0000-4000-8000-000000000000');
        await store.pendingUploads.insert(later);
        await store.pendingUploads.insert(earlier);
        expect(await store.pendingUploads.listStartedBefore(at(2), 10)).toEqual([earlier, later]);
      });

      it('removes an upload, idempotently', async () => {
        const kept = buildPendingUpload(at(1));
        const removed = buildPendingUpload(at(2));
        await store.pendingUploads.insert(kept);
        await store.pendingUploads.insert(removed);
        await store.pendingUploads.remove(removed.dataElementId);
        await store.pendingUploads.remove(removed.dataElementId);
        await store.pendingUploads.remove(randomUUID());
        expect(await store.pendingUploads.listStartedBefore(at(9), 10)).toEqual([kept]);
      });

      it('rejects a second upload with the same data element id with DuplicateKeyError', async () => {
        const upload = buildPendingUpload(at(1));
        await store.pendingUploads.insert(upload);
        await expect(store.pendingUploads.insert({ ...upload, started: at(2) })).rejects.toBeInstanceOf(DuplicateKeyError);
      });
    });

    describe('writes of an instance with what belongs to them', () => {
      const created = (instance: Instance) => buildEvent(instance, 'Created', instance.created);

      it('stores an instance with its events and pending uploads', async () => {
        const instance = buildInstance();
        // Same time: ordered by id, as the time-ordered ids the service makes are.
        const events = [
          buildEvent(instance, 'Created', instance.created, '00000000-0000-4000-8000-000000000001'),
          buildEvent(instance, 'process_StartEvent', instance.created, '00000000-0000-4000-8000-000000000002'),
        ];
        const upload = { ...buildPendingUpload(at(0)), instanceGuid: guidOf(instance) };
        await store.instances.insert(instance, { events, pendingUploads: [upload] });
        expect(await store.instances.get(guidOf(instance))).toEqual(instance);
        expect(await store.events.list(instance.id, {})).toEqual(events);
        expect(await store.events.get(instance.id, events[1]!.id)).toEqual(events[1]);
        expect(await store.pendingUploads.listStartedBefore(at(9), 10)).toEqual([upload]);
      });

      it('stores nothing of the write when the instance is a duplicate', async () => {
        const instance = buildInstance();
        await store.instances.insert(instance, { events: [created(instance)] });
        const retry = created(instance);
        const upload = buildPendingUpload(at(0));
        await expect(store.instances.insert(instance, { events: [retry], pendingUploads: [upload] })).rejects.toBeInstanceOf(DuplicateKeyError);
        expect((await store.events.list(instance.id, {})).map((event) => event.id)).not.toContain(retry.id);
        expect(await store.pendingUploads.listStartedBefore(at(9), 10)).toEqual([]);
      });

      it('stores the events of a replace, settles its uploads, and keeps the events of every earlier write', async () => {
        const instance = buildInstance({ version: 1 });
        const upload = { ...buildPendingUpload(at(1)), instanceGuid: guidOf(instance) };
        const createdEvent = created(instance);
        await store.instances.insert(instance, { events: [createdEvent], pendingUploads: [upload] });
        const second: Instance = { ...instance, version: 2, lastChanged: at(2) };
        const third: Instance = { ...instance, version: 3, lastChanged: at(3) };
        const saved = buildEvent(instance, 'Saved', at(2));
        const dataCreated = buildEvent(instance, 'DataCreated', at(3));
        expect(await store.instances.replace(second, 1, { events: [saved], settledUploads: [upload.dataElementId] })).toBe(true);
        expect(await store.instances.replace(third, 2, { events: [dataCreated] })).toBe(true);
        expect(await store.events.list(instance.id, {})).toEqual([createdEvent, saved, dataCreated]);
        expect(await store.pendingUploads.listStartedBefore(at(9), 10)).toEqual([]);
      });

      it('stores nothing of a replace that lost the race', async () => {
        const instance = buildInstance({ version: 1 });
        await store.instances.insert(instance);
        const stale = buildEvent(instance, 'Saved', at(2));
        const upload = buildPendingUpload(at(1));
        expect(await store.instances.replace({ ...instance, version: 2 }, 5, { events: [stale], pendingUploads: [upload] })).toBe(false);
        expect(await store.events.list(instance.id, {})).toEqual([]);
        expect(await store.pendingUploads.listStartedBefore(at(9), 10)).toEqual([]);
      });

      it('keeps only the winner’s events of two concurrent replaces', async () => {
        const instance = buildInstance({ version: 1 });
        await store.instances.insert(instance);
        const first = buildEvent(instance, 'Saved', at(2));
        const second = buildEvent(instance, 'Saved', at(3));
        const outcomes = await Promise.all([
          store.instances.replace({ ...instance, version: 2, lastChangedBy: 'first' }, 1, { events: [first] }),
          store.instances.replace({ ...instance, version: 2, lastChangedBy: 'second' }, 1, { events: [second] }),
        ]);
        expect(outcomes.filter(Boolean)).toHaveLength(1);
        expect(await store.events.list(instance.id, {})).toEqual([outcomes[0] ? first : second]);
      });

      it('records the events of a removal and keeps the earlier ones', async () => {
        const instance = buildInstance();
        await store.instances.insert(instance, { events: [created(instance)] });
        const deleted = buildEvent(instance, 'Deleted', at(5));
        await store.instances.remove(guidOf(instance), { events: [deleted] });
        expect(await store.instances.get(guidOf(instance))).toBeNull();
        expect((await store.events.list(instance.id, {})).map((event) => event.eventType)).toEqual(['Created', 'Deleted']);
      });

      it('keeps an instance and its events together across a reopen', async () => {
        const instance = buildInstance();
        await store.instances.insert(instance, { events: [created(instance)] });
        await store.close();
        const reopened = await open(target.reopen(store));
        expect(await reopened.instances.get(guidOf(instance))).toEqual(instance);
        expect((await reopened.events.list(instance.id, {})).map((event) => event.eventType)).toEqual(['Created']);
      });
    });

    describe('scan queue', () => {
      const job = (dataElementId: string, due: string, attempts = 0) => ({ dataElementId, instanceGuid: randomUUID(), attempts, due, queued: at(0) });

      it('lists the jobs due, earliest first (ties by data element id), at most limit; put replaces, remove is idempotent', async () => {
        const late = job('ffffffff-0000-4000-8000-000000000000', at(3));
        const tieLater = job('bbbbbbbb-0000-4000-8000-000000000000', at(1));
        const tieEarlier = job('aaaaaaaa-0000-4000-8000-000000000000', at(1));
        for (const each of [late, tieLater, tieEarlier]) await store.scanQueue.put(each);
        expect(await store.scanQueue.listDue(at(2), 10)).toEqual([tieEarlier, tieLater]);
        expect(await store.scanQueue.listDue(at(3), 1)).toEqual([tieEarlier]);
        const retried = { ...tieEarlier, attempts: 1, due: at(5) };
        await store.scanQueue.put(retried);
        expect(await store.scanQueue.listDue(at(9), 10)).toEqual([tieLater, late, retried]);
        await store.scanQueue.remove(tieLater.dataElementId);
        await store.scanQueue.remove(tieLater.dataElementId);
        expect(await store.scanQueue.listDue(at(9), 10)).toEqual([late, retried]);
      });
    });

    describe('lifecycle', () => {
      it('answers ping while open and fails it once closed', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
        await store.close();
        await expect(store.ping()).rejects.toMatchObject({ kind: 'unavailable', code: 'METADATA_STORE_UNAVAILABLE' });
        expect(() => store.instances).toThrow();
      });

      it('keeps every kind of record across close and reopen', async () => {
        const instance = buildInstance({ lastChanged: at(3) });
        const replaced: Instance = { ...instance, version: 2, lastChanged: at(4) };
        const removedInstance = buildInstance();
        const application = buildApplication('acme/tax-return');
        const event = buildEvent(instance, 'Created', at(0));
        const upload = buildPendingUpload(at(1));
        await store.instances.insert(instance);
        await store.instances.replace(replaced, 1);
        await store.instances.insert(removedInstance);
        await store.instances.remove(guidOf(removedInstance));
        await store.applications.insert(application);
        await store.events.insert(event);
        await store.pendingUploads.insert(upload);
        await store.close();

        const reopened = await open(target.reopen(store));
        expect(await reopened.instances.get(guidOf(instance))).toEqual(replaced);
        expect(await reopened.instances.get(guidOf(removedInstance))).toBeNull();
        expect(await reopened.instances.query({ limit: 10 })).toEqual([replaced]);
        expect(await reopened.applications.get(application.id)).toEqual(application);
        expect(await reopened.events.list(instance.id, {})).toEqual([event]);
        expect(await reopened.pendingUploads.listStartedBefore(at(9), 10)).toEqual([upload]);
        // Version guards and duplicate detection hold across the restart too.
        expect(await reopened.instances.replace({ ...replaced, version: 3 }, 1)).toBe(false);
        await expect(reopened.instances.insert(instance)).rejects.toBeInstanceOf(DuplicateKeyError);
      });
    });
  });
}
