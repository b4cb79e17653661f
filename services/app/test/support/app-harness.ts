import { join } from 'node:path';
import { loadAppDefinition } from '@forms/app-definition';
import { StorageClient, type StorageApi } from '@forms/client';
import { Scopes } from '@forms/contracts';
import type { TypedFastify } from '@forms/service-kit';
import { buildAppService } from '../../src/app';
import { loadAppServiceConfig } from '../../src/config';
import { registerInStorage } from '../../src/domain/registration';
import { bearer, startStorage, type AdapterSet, type StorageHarness } from '../../../storage/test/support/storage-harness';

export const REPO_ROOT = join(__dirname, '..', '..', '..', '..');
export const appFolder = (appId: string) => join(REPO_ROOT, 'apps', appId);

export interface AppHarness {
  app: TypedFastify;
  storage: StorageHarness;
  storageUrl: string;
  appId: string;
  base: string;
  close(): Promise<void>;
}

export interface AppHarnessOptions {
  /** Storage's adapters: embedded (default), or MongoDB + S3 stand-ins from jest's global setup. */
  adapters?: AdapterSet;
  /** App service configuration on top of the harness's own. */
  env?: Record<string, string>;
  /** Storage configuration, e.g. JWKS_URL and TOKEN_ISSUER of a real token service; both services then trust it. */
  storageEnv?: Record<string, string>;
  /** The app's own token (registers the app, and goes beside the party's on every storage call); by default from the test issuer. */
  appToken?: string;
  /** The app's folder, when not the example app of that id in apps/. */
  appDir?: string;
  /** An already running storage harness to use (and leave running on close) instead of a new one. */
  storage?: StorageHarness;
  /** The storage client the app service gets, made from the real one (a test that makes storage misbehave). */
  wrapStorage?: (client: StorageClient) => StorageApi;
}

/**
 * The app service of one example app in front of a real storage service (listening on a real port,
 * embedded adapters), both trusting the same token issuer.
 */
export async function startApp(appId: string, options: AppHarnessOptions = {}): Promise<AppHarness> {
  const ownStorage = !options.storage;
  const storage = options.storage ?? (await startStorage(options.adapters ?? 'embedded', options.storageEnv));
  const storageAddress = ownStorage ? await storage.app.listen({ host: '127.0.0.1', port: 0 }) : storageAddressOf(storage);
  const storageUrl = `${storageAddress}/storage/api/v1`;
  const appDir = options.appDir ?? appFolder(appId);
  const definition = await loadAppDefinition(appDir);
  const config = loadAppServiceConfig({
    APP_DIR: appDir,
    STORAGE_URL: storageUrl,
    JWKS_URL: storage.config.JWKS_URL,
    TOKEN_ISSUER: storage.config.TOKEN_ISSUER,
    ...(storage.config.TOKEN_AUDIENCE && { TOKEN_AUDIENCE: storage.config.TOKEN_AUDIENCE }),
    STORAGE_TIMEOUT_MS: '3000',
    ...options.env,
  });
  const appToken = options.appToken ?? storage.issuer.appToken({ app: appId, scopes: [Scopes.serviceOwnerRead, Scopes.serviceOwnerWrite] });
  const client = new StorageClient({ baseUrl: config.STORAGE_URL, timeoutMs: config.STORAGE_TIMEOUT_MS, accessToken: async () => appToken });
  await registerInStorage(definition, client, appToken);
  const app = await buildAppService({ config, definition, storage: options.wrapStorage?.(client) ?? client, logger: false });
  await app.ready();
  return {
    app,
    storage,
    storageUrl,
    appId,
    base: `/${appId}`,
    async close() {
      await app.close();
      if (ownStorage) await storage.close();
    },
  };
}

function storageAddressOf(storage: StorageHarness): string {
  const address = storage.app.server.address();
  if (!address || typeof address === 'string') throw new Error('the shared storage harness must be listening');
  return `http://127.0.0.1:${address.port}`;
}

export { bearer };
