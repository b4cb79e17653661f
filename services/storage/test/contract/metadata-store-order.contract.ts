import type { Instance, InstanceEvent } from '@forms/contracts';
import type { InstanceQuery, MetadataStore, SequencedInstanceEvent } from '../../src/domain/ports/metadata-store';
import { at, buildEvent, buildInstance, guidOf } from './test-data';

/**
 * The order of writes (docs/adr/0013-order-across-replicas.md): instances are queried in the order of
 * their last write, whatever their timestamps say, and the event feed gives the events of each write under
 * its sequence. Part of the MetadataStore contract (metadata-store.contract.ts).
 */
export function describeOrderContract(current: () => MetadataStore, reopen: (closed: MetadataStore) => Promise<MetadataStore>): void {
  describe('instance query order and paging', () => {
    /** 24 instances over 4 lastChanged values, inserted in an order that neither timestamps nor guids give. */
    async function seed(): Promise<Instance[]> {
      const instances = Array.from({ length: 24 }, (_, index) =>
        buildInstance({ appId: index % 2 === 0 ? 'acme/alpha' : 'other/gamma', lastChanged: at([30, 10, 40, 20][index % 4] ?? 0) }),
      );
      for (const instance of instances) await current().instances.insert(instance);
      return instances;
    }

    const query = (filters: Omit<InstanceQuery, 'limit'> & { limit?: number }) => current().instances.query({ limit: 1000, ...filters });

    it('orders by write, not by lastChanged: a later write with an earlier lastChanged comes last', async () => {
      const instances = await seed();
      expect((await query({})).map(guidOf)).toEqual(instances.map(guidOf));
      const moved = { ...(instances[3] as Instance), lastChanged: at(-100) };
      expect(await current().instances.replace(moved, moved.version)).toBe(true);
      const expected = [...instances.filter((instance) => instance.id !== moved.id), moved].map(guidOf);
      expect((await query({})).map(guidOf)).toEqual(expected);
    });

    it('gives each instance the sequence of its last write, strictly increasing in write order', async () => {
      await seed();
      const rows = await current().instances.querySequenced({ limit: 100 });
      expect(rows).toHaveLength(24);
      for (let index = 1; index < rows.length; index += 1) {
        expect((rows[index] as { sequence: number }).sequence).toBeGreaterThan((rows[index - 1] as { sequence: number }).sequence);
      }
    });

    it('pages through every instance exactly once with the keyset cursor', async () => {
      const instances = await seed();
      expect(await walk({}, 5)).toEqual(instances.map(guidOf));
    });

    it('pages through a filtered result exactly once', async () => {
      const instances = await seed();
      expect(await walk({ org: 'other' }, 4)).toEqual(instances.filter((instance) => instance.org === 'other').map(guidOf));
    });

    it('resumes after its last position and sees what was written meanwhile, once, in write order', async () => {
      const instances = await seed();
      const first = await current().instances.querySequenced({ limit: 10 });
      const later = [buildInstance({ lastChanged: at(0) }), buildInstance({ lastChanged: at(-5) })];
      for (const instance of later) await current().instances.insert(instance);
      const rest = await walk({}, 7, { sequence: (first.at(-1) as { sequence: number }).sequence });
      expect([...first.map((row) => guidOf(row.instance)), ...rest]).toEqual([...instances, ...later].map(guidOf));
    });

    it('starts after a cursor position that no instance holds', async () => {
      const instances = await seed();
      expect((await query({ after: { sequence: 0 } })).map(guidOf)).toEqual(instances.map(guidOf));
      expect(await query({ after: { sequence: Number.MAX_SAFE_INTEGER } })).toEqual([]);
    });

    it('keeps the order across a reopen, and later writes come after', async () => {
      const instances = await seed();
      await current().close();
      const reopened = await reopen(current());
      const later = buildInstance({ lastChanged: at(-1) });
      await reopened.instances.insert(later);
      expect((await reopened.instances.query({ limit: 100 })).map(guidOf)).toEqual([...instances, later].map(guidOf));
    });

    it('ends a result at maxBytes with the instance that reaches it, at least one, in order and either direction', async () => {
      const instances = await seed();
      const large = { ...buildInstance(), dataValues: { notes: 'x'.repeat(20_000) } };
      await current().instances.insert(large);
      const all = await current().instances.querySequenced({ limit: 100 });
      const small = all[0]!.bytes;
      expect(small).toBeGreaterThan(100);
      expect(all.at(-1)!.bytes).toBeGreaterThan(small + 19_000);

      const cut = await current().instances.querySequenced({ limit: 100, maxBytes: small * 2.5 });
      expect(cut.map((row) => guidOf(row.instance))).toEqual(instances.slice(0, 3).map(guidOf));
      const newestFirst = await current().instances.querySequenced({ limit: 100, maxBytes: 1, descending: true });
      expect(newestFirst.map((row) => guidOf(row.instance))).toEqual([guidOf(large)]);
      expect(await current().instances.querySequenced({ limit: 100, maxBytes: 10_000_000 })).toHaveLength(25);
    });

    /** Follows `after` from page to page, as the query endpoint's `next` link does. */
    async function walk(filters: Omit<InstanceQuery, 'limit' | 'after'>, pageSize: number, start?: InstanceQuery['after']): Promise<string[]> {
      const seen: string[] = [];
      let after = start;
      for (let page = 0; page < 100; page += 1) {
        const rows = await current().instances.querySequenced({ ...filters, limit: pageSize, after });
        expect(rows.length).toBeLessThanOrEqual(pageSize);
        seen.push(...rows.map((row) => guidOf(row.instance)));
        const last = rows.at(-1);
        if (rows.length < pageSize || !last) return seen;
        after = { sequence: last.sequence };
      }
      throw new Error('paging did not end');
    }
  });

  describe('event feed', () => {
    const alpha = buildInstance({ appId: 'acme/alpha', partyId: '1001' });
    const gamma = buildInstance({ appId: 'other/gamma', partyId: '1002' });
    // Ids out of time order within a write: the feed orders a write's events by id.
    const created = buildEvent(alpha, 'Created', at(0), 'b0000000-0000-4000-8000-000000000000');
    const createdToo = buildEvent(alpha, 'process_StartEvent', at(0), 'a0000000-0000-4000-8000-000000000000');
    const gammaCreated = buildEvent(gamma, 'Created', at(-50));
    const saved = buildEvent(alpha, 'Saved', at(-10));
    const scanned = buildEvent(alpha, 'Saved', at(1));
    const deleted = buildEvent(gamma, 'Deleted', at(2));

    /** Four writes of alpha and gamma, each with its events; the timestamps deliberately disagree with the order. */
    async function writeAll(): Promise<void> {
      const store = current();
      await store.instances.insert(alpha, { events: [created, createdToo] });
      await store.instances.insert(gamma, { events: [gammaCreated] });
      const changed = { ...alpha, version: alpha.version + 1 };
      expect(await store.instances.replace(changed, alpha.version, { events: [saved] })).toBe(true);
      await store.events.insert(scanned);
      await store.instances.remove(guidOf(gamma), { events: [deleted] });
    }

    const withoutSequence = ({ sequence: _sequence, appId: _appId, ...event }: SequencedInstanceEvent): InstanceEvent => event;

    it('gives the events of every write in write order, those of one write under one sequence, ordered by id', async () => {
      await writeAll();
      const feed = await current().events.feed({ after: 0, limit: 100 });
      expect(feed.map(withoutSequence)).toEqual([createdToo, created, gammaCreated, saved, scanned, deleted]);
      expect(feed.map((event) => event.appId)).toEqual(['acme/alpha', 'acme/alpha', 'other/gamma', 'acme/alpha', 'acme/alpha', 'other/gamma']);
      const sequences = feed.map((event) => event.sequence);
      expect(sequences[0]).toBe(sequences[1]);
      for (let index = 2; index < sequences.length; index += 1) expect(sequences[index]).toBeGreaterThan(sequences[index - 1] as number);
    });

    it('shares the sequence of a write between its instance and its events', async () => {
      await current().instances.insert(alpha, { events: [created] });
      const [row] = await current().instances.querySequenced({ limit: 1 });
      const [event] = await current().events.feed({ after: 0, limit: 1 });
      expect(event?.sequence).toBe(row?.sequence);
    });

    it('resumes after a sequence and filters by app', async () => {
      await writeAll();
      const all = await current().events.feed({ after: 0, limit: 100 });
      const afterSecondWrite = (all[2] as SequencedInstanceEvent).sequence;
      expect((await current().events.feed({ after: afterSecondWrite, limit: 100 })).map(withoutSequence)).toEqual([saved, scanned, deleted]);
      expect((await current().events.feed({ after: 0, appIds: ['other/gamma'], limit: 100 })).map(withoutSequence)).toEqual([gammaCreated, deleted]);
      expect(await current().events.feed({ after: 0, appIds: [], limit: 100 })).toEqual([]);
      expect(await current().events.feed({ after: 0, limit: 0 })).toEqual([]);
    });

    it('pages by limit without splitting a write, so resuming after the last sequence loses nothing', async () => {
      await writeAll();
      const seen: InstanceEvent[] = [];
      let after = 0;
      for (let page = 0; page < 20; page += 1) {
        const events = await current().events.feed({ after, limit: 1 });
        if (events.length === 0) break;
        expect(new Set(events.map((event) => event.sequence)).size).toBe(1);
        seen.push(...events.map(withoutSequence));
        after = (events.at(-1) as SequencedInstanceEvent).sequence;
      }
      expect(seen).toEqual([createdToo, created, gammaCreated, saved, scanned, deleted]);
    });

    it('keeps the feed across a reopen, later writes after it', async () => {
      await writeAll();
      const before = await current().events.feed({ after: 0, limit: 100 });
      await current().close();
      const reopened = await reopen(current());
      const later = buildEvent(alpha, 'Saved', at(-99));
      await reopened.events.insert(later);
      const after = await reopened.events.feed({ after: 0, limit: 100 });
      expect(after.slice(0, before.length)).toEqual(before);
      expect(after.slice(before.length).map(withoutSequence)).toEqual([later]);
    });
  });
}
