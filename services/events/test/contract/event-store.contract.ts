import type { EventStore, StoredEvent } from '../../src/domain/ports/event-store';
import type { Subscription } from '../../src/domain/subscription';

export interface EventStoreTarget {
  createEmpty(): Promise<EventStore>;
  /** The same store opened again after `close` (its data kept). */
  reopen(closed: EventStore): Promise<EventStore>;
  cleanup(): Promise<void>;
}

export function storedEvent(sequence: number, appId = 'nav/child-benefit', partyId = '50001', type = 'app.instance.created'): StoredEvent {
  const source = `https://nav.apps.example/${appId}/instances/${partyId}/00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`;
  return {
    sequence,
    appId,
    type,
    subject: `/party/${partyId}`,
    source,
    event: { specversion: '1.0', id: `e${sequence}`, type, source, subject: `/party/${partyId}`, time: new Date(sequence).toISOString(), resource: 'r', sequence: String(sequence) },
  };
}

export function subscription(id: string, owner = 'org:nav', overrides: Partial<Subscription['delivery']> = {}): Subscription {
  return {
    id,
    owner,
    createdBy: 'nav',
    created: new Date(Date.UTC(2026, 0, 1, 0, 0, Number(id.slice(-2)) || 0)).toISOString(),
    endPoint: 'https://example.org/hook',
    appId: 'nav/child-benefit',
    secret: 'whsec_c2VjcmV0',
    validated: true,
    delivery: { position: 0, attempts: 0, nextAttemptAt: 0, ...overrides },
    version: 1,
  };
}

/** What every EventStore adapter must do; run by test/adapters/*-event-store.test.ts. */
export function describeEventStoreContract(name: string, target: EventStoreTarget): void {
  describe(`${name} (EventStore contract)`, () => {
    let store: EventStore;
    beforeEach(async () => {
      store = await target.createEmpty();
    });
    afterEach(() => store.close());
    afterAll(() => target.cleanup());

    test('appended events are listed in sequence order, filtered by app, type and subject, never past the relay position', async () => {
      expect(await store.events.position()).toBe(0);
      await store.events.append([storedEvent(3), storedEvent(5, 'skd/tax-return'), storedEvent(7, 'nav/child-benefit', '50002', 'app.instance.process.completed')], 7);
      // Stored but not yet covered by the position: invisible.
      await store.events.append([storedEvent(9)], 6);
      expect(await store.events.position()).toBe(7);
      expect((await store.events.list({ after: 0, limit: 10 })).map((e) => e.sequence)).toEqual([3, 5, 7]);
      expect((await store.events.list({ after: 3, limit: 10 })).map((e) => e.sequence)).toEqual([5, 7]);
      expect((await store.events.list({ after: 0, limit: 2 })).map((e) => e.sequence)).toEqual([3, 5]);
      expect((await store.events.list({ after: 0, appId: 'nav/child-benefit', limit: 10 })).map((e) => e.sequence)).toEqual([3, 7]);
      expect((await store.events.list({ after: 0, type: 'app.instance.process.completed', limit: 10 })).map((e) => e.sequence)).toEqual([7]);
      expect((await store.events.list({ after: 0, subject: '/party/50001', limit: 10 })).map((e) => e.sequence)).toEqual([3, 5]);
      await store.events.append([], 9);
      expect((await store.events.list({ after: 7, limit: 10 })).map((e) => e.sequence)).toEqual([9]);
      expect((await store.events.list({ after: 0, limit: 1 }))[0]).toEqual(storedEvent(3));
    });

    test('appending an event twice keeps the first; the position never moves back', async () => {
      await store.events.append([storedEvent(1), storedEvent(2)], 2);
      const changed = { ...storedEvent(2), type: 'other' };
      await store.events.append([changed, storedEvent(3)], 3);
      await store.events.append([storedEvent(1)], 1);
      expect(await store.events.position()).toBe(3);
      const listed = await store.events.list({ after: 0, limit: 10 });
      expect(listed.map((e) => [e.sequence, e.type])).toEqual([
        [1, 'app.instance.created'],
        [2, 'app.instance.created'],
        [3, 'app.instance.created'],
      ]);
    });

    test('events, position, subscriptions and dead letters survive a close and reopen', async () => {
      await store.events.append([storedEvent(4)], 4);
      await store.subscriptions.insert(subscription('s-01'));
      await store.deadLetters.put({ subscriptionId: 's-01', sequence: 4, event: storedEvent(4).event, attempts: 3, lastError: 'HTTP 500', failedAt: 'x', replayRequested: false });
      await store.close();
      store = await target.reopen(store);
      expect(await store.events.position()).toBe(4);
      expect(await store.events.list({ after: 0, limit: 5 })).toEqual([storedEvent(4)]);
      expect(await store.subscriptions.get('s-01')).toEqual(subscription('s-01'));
      expect(await store.deadLetters.list('s-01', 5)).toHaveLength(1);
    });

    test('subscriptions: get, list by owner, replace only at the expected version, remove with their dead letters', async () => {
      await store.subscriptions.insert(subscription('s-02'));
      await store.subscriptions.insert(subscription('s-01'));
      await store.subscriptions.insert(subscription('s-03', 'party:50001'));
      expect(await store.subscriptions.get('nope')).toBeNull();
      expect((await store.subscriptions.listByOwner('org:nav')).map((s) => s.id)).toEqual(['s-01', 's-02']);
      expect((await store.subscriptions.listByOwner('party:50001')).map((s) => s.id)).toEqual(['s-03']);

      const moved = { ...subscription('s-01'), delivery: { position: 9, attempts: 0, nextAttemptAt: 0 }, version: 2 };
      expect(await store.subscriptions.replace(moved, 1)).toBe(true);
      // A second writer that read version 1 loses.
      expect(await store.subscriptions.replace({ ...moved, delivery: { ...moved.delivery, position: 4 } }, 1)).toBe(false);
      expect((await store.subscriptions.get('s-01'))?.delivery.position).toBe(9);
      expect(await store.subscriptions.replace({ ...subscription('gone'), version: 2 }, 1)).toBe(false);

      await store.deadLetters.put({ subscriptionId: 's-01', sequence: 4, event: storedEvent(4).event, attempts: 3, lastError: 'HTTP 500', failedAt: 'x', replayRequested: false });
      expect(await store.subscriptions.remove('s-01')).toBe(true);
      expect(await store.subscriptions.remove('s-01')).toBe(false);
      expect(await store.subscriptions.get('s-01')).toBeNull();
      expect(await store.deadLetters.list('s-01', 5)).toEqual([]);
    });

    test('due subscriptions: backoff passed, and not leased by anyone or the lease expired', async () => {
      await store.subscriptions.insert(subscription('s-01'));
      await store.subscriptions.insert(subscription('s-02', 'org:nav', { nextAttemptAt: 5_000 }));
      await store.subscriptions.insert(subscription('s-03', 'org:nav', { leaseOwner: 'a', leaseUntil: 2_000 }));
      expect((await store.subscriptions.listDue(1_000, 10)).map((s) => s.id).sort()).toEqual(['s-01']);
      expect((await store.subscriptions.listDue(3_000, 10)).map((s) => s.id).sort()).toEqual(['s-01', 's-03']);
      expect((await store.subscriptions.listDue(6_000, 10)).map((s) => s.id).sort()).toEqual(['s-01', 's-02', 's-03']);
      expect(await store.subscriptions.listDue(6_000, 1)).toHaveLength(1);
      const leased = { ...subscription('s-01'), delivery: { position: 0, attempts: 0, nextAttemptAt: 0, leaseOwner: 'b', leaseUntil: 10_000 }, version: 2 };
      expect(await store.subscriptions.replace(leased, 1)).toBe(true);
      expect((await store.subscriptions.listDue(6_000, 10)).map((s) => s.id)).not.toContain('s-01');
    });

    test('dead letters: idempotent by subscription and sequence, replay marks, removal', async () => {
      const letter = (sequence: number, replayRequested = false) => ({
        subscriptionId: 's-01',
        sequence,
        event: storedEvent(sequence).event,
        attempts: 5,
        lastError: 'HTTP 503',
        failedAt: '2026-01-01T00:00:00.000Z',
        replayRequested,
      });
      await store.deadLetters.put(letter(8));
      await store.deadLetters.put(letter(3));
      await store.deadLetters.put({ ...letter(3), attempts: 6 });
      await store.deadLetters.put({ ...letter(1), subscriptionId: 's-02' });
      expect(await store.deadLetters.list('s-01', 10)).toEqual([{ ...letter(3), attempts: 6 }, letter(8)]);
      expect(await store.deadLetters.listReplayRequested('s-01', 10)).toEqual([]);
      await store.deadLetters.put(letter(8, true));
      expect(await store.deadLetters.listReplayRequested('s-01', 10)).toEqual([letter(8, true)]);
      expect(await store.deadLetters.remove('s-01', 8)).toBe(true);
      expect(await store.deadLetters.remove('s-01', 8)).toBe(false);
      expect((await store.deadLetters.list('s-01', 10)).map((l) => l.sequence)).toEqual([3]);
      expect(await store.deadLetters.list('s-02', 10)).toHaveLength(1);
    });
  });
}
