import type { JWK } from 'jose';
import type { TokenSubject } from '../subjects';

export type ClientCredential = { method: 'private_key_jwt'; publicJwk: JWK } | { method: 'client_secret'; secretHash: string };

/** A registered client as stored. */
export interface ClientRecord {
  clientId: string;
  name?: string;
  /** Whom the client's tokens speak for. */
  subject: TokenSubject;
  /** The scopes it may be granted. */
  scopes: string[];
  credential: ClientCredential;
  createdAt: string;
}


/**
 * Persistence of the token service: registered clients, and the ids of client assertions already used
 * (replay protection). Two adapters implement it, MongoDB and the embedded store; both must pass
 * test/contract/client-store.contract.ts. Uniqueness rests on document ids only, never on secondary indexes.
 */
export interface ClientStore {
  /** Connects or loads. Called once at start-up. */
  init(): Promise<void>;
  /** Throws when the store cannot serve requests (used by /ready). */
  ping(): Promise<void>;
  close(): Promise<void>;

  getClient(clientId: string): Promise<ClientRecord | null>;
  /** Every client, ordered by client id. */
  listClients(): Promise<ClientRecord[]>;
  /** @throws DuplicateClientError when the client id is taken. */
  insertClient(client: ClientRecord): Promise<void>;
  /** Resolves to whether the client existed. */
  deleteClient(clientId: string): Promise<boolean>;

  /**
   * Records that `clientId` used assertion id `jti`, valid until `expiresAt`. Resolves to false when that
   * pair is already recorded and still valid at `now` (a replay). Atomic: of two concurrent calls with
   * the same pair, at most one resolves to true, also across processes sharing the store.
   */
  rememberAssertionId(clientId: string, jti: string, expiresAt: Date, now: Date): Promise<boolean>;

  /**
   * Counts one request under `key` in its current fixed window of `windowMs`, for rate limits that hold for
   * every replica sharing the store. Atomic: concurrent hits, also from other processes, are all counted.
   * Resolves to the count in the window (this hit included) and the time until the window ends.
   */
  countHit(key: string, windowMs: number): Promise<RateLimitCount>;
}

export interface RateLimitCount {
  count: number;
  resetInMs: number;
}

export class DuplicateClientError extends Error {
  constructor(readonly clientId: string) {
    super(`a client with id ${clientId} exists`);
    this.name = 'DuplicateClientError';
  }
}
