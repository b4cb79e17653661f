import { join } from 'node:path';
import type { AuthConfig } from '../config';
import { Keyring } from '../domain/keyring';
import type { ClientStore } from '../domain/ports/client-store';
import { FileKeyringStore } from './file-keyring-store';
import { MongoClientStore } from './mongo-client-store';
import { SqliteClientStore } from './sqlite-client-store';

/** MongoDB when MONGODB_URL is set, SQLite in DATA_DIR otherwise (importing the journals of the earlier embedded store in DATA_DIR/db). */
export function createClientStore(config: AuthConfig): ClientStore {
  return config.MONGODB_URL
    ? new MongoClientStore(config.MONGODB_URL, config.MONGODB_DATABASE)
    : new SqliteClientStore(config.DATA_DIR, join(config.DATA_DIR, 'db'));
}

/** The managed keyring's file in DATA_DIR. */
export const SIGNING_KEYS_FILE = 'signing-keys.json';
export const keyringPath = (config: Pick<AuthConfig, 'DATA_DIR'>): string => join(config.DATA_DIR, SIGNING_KEYS_FILE);

/** The keys from SIGNING_KEY_PEM when set; otherwise the managed keyring in DATA_DIR (generated on first start). */
export function openKeyring(config: AuthConfig, now?: () => number): Promise<Keyring> {
  const options = {
    tokenLifetimeSeconds: config.TOKEN_LIFETIME_SECONDS,
    clockSkewSeconds: config.CLOCK_SKEW_SECONDS,
    ...(now !== undefined ? { now } : {}),
  };
  return config.signingKeyPem !== undefined
    ? Keyring.fromPem(config.signingKeyPem, config.PREVIOUS_SIGNING_KEYS_PEM, options)
    : Keyring.managed(new FileKeyringStore(keyringPath(config)), options);
}

/** Whether this configuration keeps state in DATA_DIR (and so needs the DATA_DIR lock). */
export const usesDataDir = (config: AuthConfig): boolean => !config.MONGODB_URL || config.signingKeyPem === undefined;

export { DuplicateClientError, type ClientStore } from '../domain/ports/client-store';
export { DataDirLock, DataDirLockedError } from './data-dir-lock';
export { SqliteClientStore } from './sqlite-client-store';
export { MongoClientStore } from './mongo-client-store';
