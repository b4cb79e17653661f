import { DatabaseUnavailableError, DuplicateIdError, EmbeddedDatabase, type EmbeddedCollection } from '@forms/embedded-db';
import type { ClientRecord } from '../domain/clients';
import { DuplicateClientError, type ClientStore } from '../domain/ports/client-store';
import { clientStoreUnavailable, compareStrings } from './store-errors';

interface AssertionIdRecord {
  expiresAt: string;
}

/** Expired assertion ids are swept at most this often (on the next use after it). */
const SWEEP_INTERVAL_MS = 60_000;

/**
 * ClientStore on @forms/embedded-db: in memory, journalled to files in `directory`. One process only;
 * the service holds the DATA_DIR lock (see data-dir-lock.ts) so the CLI cannot write beside it.
 */
export class EmbeddedClientStore implements ClientStore {
  private database: EmbeddedDatabase | undefined;
  private clients: EmbeddedCollection<ClientRecord> | undefined;
  private assertionIds: EmbeddedCollection<AssertionIdRecord> | undefined;
  private opening: Promise<void> | undefined;
  private lastSweep = 0;

  constructor(private readonly directory: string) {}

  init(): Promise<void> {
    // Shared, so concurrent calls cannot open the folder twice.
    this.opening ??= this.open().catch((error: unknown) => {
      this.opening = undefined;
      throw error;
    });
    return this.opening;
  }

  private async open(): Promise<void> {
    const database = await translate(() => EmbeddedDatabase.open(this.directory));
    try {
      this.clients = await translate(() => database.collection<ClientRecord>('clients'));
      this.assertionIds = await translate(() => database.collection<AssertionIdRecord>('assertionIds'));
      this.database = database;
    } catch (error) {
      await database.close();
      throw error;
    }
  }

  async ping(): Promise<void> {
    const database = this.database;
    if (!database) throw clientStoreUnavailable('the embedded client store is not open');
    await translate(() => database.check());
  }

  async close(): Promise<void> {
    await this.opening?.catch(() => undefined);
    this.opening = undefined;
    const database = this.database;
    this.database = undefined;
    this.clients = undefined;
    this.assertionIds = undefined;
    await database?.close();
  }

  async getClient(clientId: string): Promise<ClientRecord | null> {
    return translate(() => this.opened().clients.get(clientId) ?? null);
  }

  async listClients(): Promise<ClientRecord[]> {
    return translate(() => this.opened().clients.find(() => true, { compare: (a, b) => compareStrings(a.clientId, b.clientId) }));
  }

  async insertClient(client: ClientRecord): Promise<void> {
    await translate(() => this.opened().clients.insert(client.clientId, client));
  }

  async deleteClient(clientId: string): Promise<boolean> {
    return translate(() => this.opened().clients.remove(clientId));
  }

  async rememberAssertionId(clientId: string, jti: string, expiresAt: Date, now: Date): Promise<boolean> {
    const { assertionIds } = this.opened();
    await this.sweep(assertionIds, now);
    const key = assertionKey(clientId, jti);
    const record = { expiresAt: expiresAt.toISOString() };
    return translate(async () => {
      try {
        // The check and the write happen in one synchronous step (see EmbeddedCollection), so no other call can slip in.
        await assertionIds.insert(key, record);
        return true;
      } catch (error) {
        if (!(error instanceof DuplicateIdError)) throw error;
        // Recorded before, but expired and not swept yet: that use can no longer be replayed, so this one is new.
        return assertionIds.replaceIf(key, record, (current) => Date.parse(current.expiresAt) <= now.getTime());
      }
    });
  }

  private async sweep(assertionIds: EmbeddedCollection<AssertionIdRecord>, now: Date): Promise<void> {
    if (now.getTime() - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = now.getTime();
    await translate(() => assertionIds.removeWhere((record) => Date.parse(record.expiresAt) <= now.getTime()));
  }

  private opened(): { clients: EmbeddedCollection<ClientRecord>; assertionIds: EmbeddedCollection<AssertionIdRecord> } {
    if (!this.clients || !this.assertionIds) throw clientStoreUnavailable('the embedded client store is not open (call init first)');
    return { clients: this.clients, assertionIds: this.assertionIds };
  }
}

/** JSON array, so no choice of client id and jti can collide with another pair. */
const assertionKey = (clientId: string, jti: string): string => JSON.stringify([clientId, jti]);

async function translate<T>(operation: () => T | Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof DuplicateIdError) throw new DuplicateClientError(error.id);
    if (error instanceof DatabaseUnavailableError) throw clientStoreUnavailable(`client store unavailable: ${error.message}`, error);
    throw error;
  }
}
