import { randomUUID } from 'node:crypto';
import { DuplicateClientError, type ClientStore } from '../../src/domain/ports/client-store';
import type { ClientRecord } from '../../src/domain/clients';

/** What an adapter's test file supplies to run the contract against it. */
export interface ClientStoreTestTarget {
  /** A new, initialised store over empty storage. */
  createEmpty(): Promise<ClientStore>;
  /** A second store over the same storage as `store`: after a restart (closed) or another instance (open). */
  reopen(store: ClientStore): Promise<ClientStore>;
  /** Whether two stores may be open over the same storage at once (MongoDB yes, the embedded store no). */
  sharedBetweenProcesses: boolean;
  cleanup(): Promise<void>;
}

export function buildClient(overrides: Partial<ClientRecord> = {}): ClientRecord {
  return {
    clientId: `client-${randomUUID()}`,
    name: 'Accounting system',
    subject: { kind: 'system', systemId: 'accounting', partyId: '50001' },
    scopes: ['altinn:instances.read'],
    credential: { method: 'client_secret', secretHash: 'scrypt$16384$8$1$c2FsdA$aGFzaA' },
    createdAt: '2025-01-01T00:00:00.000Z',
    ...overrides,
  };
}

const at = (iso: string) => new Date(iso);

/** The behaviour every ClientStore adapter must share. */
export function describeClientStoreContract(name: string, target: ClientStoreTestTarget): void {
  describe(`ClientStore contract: ${name}`, () => {
    let store: ClientStore;
    const opened: ClientStore[] = [];
    const open = async (creating: Promise<ClientStore>) => {
      const created = await creating;
      opened.push(created);
      return created;
    };

    beforeEach(async () => {
      store = await open(target.createEmpty());
    });
    afterEach(async () => {
      for (const each of opened.splice(0)) await each.close();
    });
    afterAll(() => target.cleanup());

    describe('clients', () => {
      it('inserts, gets, lists in client id order and deletes', async () => {
        const org = buildClient({
          clientId: 'b-org',
          subject: { kind: 'org', org: 'nav', orgNumber: '889640782' },
          credential: { method: 'private_key_jwt', publicJwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k1' } },
        });
        const user = buildClient({ clientId: 'a-user', subject: { kind: 'user', userId: '1001', partyId: '50001', authLevel: 2 } });
        await store.insertClient(org);
        await store.insertClient(user);

        expect(await store.getClient('b-org')).toEqual(org);
        expect(await store.getClient('a-user')).toEqual(user);
        expect(await store.getClient('nobody')).toBeNull();
        expect((await store.listClients()).map((client) => client.clientId)).toEqual(['a-user', 'b-org']);

        expect(await store.deleteClient('b-org')).toBe(true);
        expect(await store.deleteClient('b-org')).toBe(false);
        expect(await store.getClient('b-org')).toBeNull();
        expect(await store.listClients()).toEqual([user]);
      });

      it('refuses a second client with the same id and keeps the first', async () => {
        const first = buildClient({ clientId: 'taken' });
        await store.insertClient(first);
        await expect(store.insertClient(buildClient({ clientId: 'taken', name: 'impostor' }))).rejects.toBeInstanceOf(DuplicateClientError);
        expect(await store.getClient('taken')).toEqual(first);
      });

      it('lets exactly one of concurrent inserts of one id win', async () => {
        const results = await Promise.allSettled(
          Array.from({ length: 5 }, (_, index) => store.insertClient(buildClient({ clientId: 'raced', name: `n${index}` }))),
        );
        expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
        expect((await store.listClients()).filter((client) => client.clientId === 'raced')).toHaveLength(1);
      });

      it('keeps clients across a restart', async () => {
        const client = buildClient();
        await store.insertClient(client);
        await store.close();
        const reopened = await open(target.reopen(store));
        expect(await reopened.getClient(client.clientId)).toEqual(client);
      });
    });

    describe('assertion ids', () => {
      const now = at('2025-06-01T12:00:00Z');
      const later = at('2025-06-01T12:02:00Z');

      it('accepts a (client, jti) pair once while it is valid', async () => {
        expect(await store.rememberAssertionId('c1', 'jti-1', later, now)).toBe(true);
        expect(await store.rememberAssertionId('c1', 'jti-1', later, now)).toBe(false);
        expect(await store.rememberAssertionId('c1', 'jti-1', later, at('2025-06-01T12:01:59Z'))).toBe(false);
        // Scoped per client: another client may use the same jti.
        expect(await store.rememberAssertionId('c2', 'jti-1', later, now)).toBe(true);
        // No two pairs run together, whatever the characters.
        expect(await store.rememberAssertionId('c1j', 'ti-1', later, now)).toBe(true);
      });

      it('accepts a pair again once its record has expired', async () => {
        expect(await store.rememberAssertionId('c1', 'jti-1', later, now)).toBe(true);
        const afterExpiry = at('2025-06-01T12:02:00Z');
        expect(await store.rememberAssertionId('c1', 'jti-1', at('2025-06-01T12:04:00Z'), afterExpiry)).toBe(true);
        expect(await store.rememberAssertionId('c1', 'jti-1', at('2025-06-01T12:04:00Z'), afterExpiry)).toBe(false);
      });

      it('lets exactly one of concurrent uses of one pair through', async () => {
        const results = await Promise.all(Array.from({ length: 8 }, () => store.rememberAssertionId('c1', 'raced', later, now)));
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('remembers used pairs across a restart', async () => {
        expect(await store.rememberAssertionId('c1', 'jti-1', later, now)).toBe(true);
        await store.close();
        const reopened = await open(target.reopen(store));
        expect(await reopened.rememberAssertionId('c1', 'jti-1', later, now)).toBe(false);
      });

      if (target.sharedBetweenProcesses) {
        it('refuses a replay that goes to another instance sharing the store', async () => {
          const other = await open(target.reopen(store));
          const results = await Promise.all([
            store.rememberAssertionId('c1', 'twice', later, now),
            other.rememberAssertionId('c1', 'twice', later, now),
          ]);
          expect(results.sort()).toEqual([false, true]);
        });
      }
    });

    describe('rate-limit counts', () => {
      it('counts hits per key in a window, and starts a new window once it has ended', async () => {
        const first = await store.countHit('client:a', 400);
        expect(first.count).toBe(1);
        expect(first.resetInMs).toBeGreaterThan(0);
        expect(first.resetInMs).toBeLessThanOrEqual(400);
        expect((await store.countHit('client:a', 400)).count).toBe(2);
        expect((await store.countHit('client:b', 400)).count).toBe(1);
        await new Promise((resolve) => setTimeout(resolve, 450));
        expect((await store.countHit('client:a', 400)).count).toBe(1);
      });

      it('counts every one of concurrent hits', async () => {
        const counts = await Promise.all(Array.from({ length: 12 }, () => store.countHit('client:busy', 60_000)));
        expect(counts.map((hit) => hit.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      });

      if (target.sharedBetweenProcesses) {
        it('counts hits through another instance sharing the store in the same window', async () => {
          const other = await open(target.reopen(store));
          await store.countHit('client:shared', 60_000);
          await other.countHit('client:shared', 60_000);
          expect((await store.countHit('client:shared', 60_000)).count).toBe(3);
        });
      }
    });

    it('answers ping while open and reports unavailable once closed', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
      await store.close();
      await expect(store.ping()).rejects.toMatchObject({ kind: 'unavailable', code: 'CLIENT_STORE_UNAVAILABLE' });
      await expect(store.getClient('x')).rejects.toMatchObject({ kind: 'unavailable' });
    });
  });
}
