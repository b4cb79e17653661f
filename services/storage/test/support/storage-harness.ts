import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { ApplicationInput, Instance } from '@forms/contracts';
import { ACCESS_TOKEN_HEADER, Scopes } from '@forms/contracts';
import type { TypedFastify } from '@forms/service-kit';
import { TestIssuer } from '@forms/test-support';
import { buildStorageApp } from '../../src/app';
import { loadStorageConfig, type StorageConfig } from '../../src/config';
import { createBlobStore, createMetadataStore } from '../../src/adapters';
import { readContent } from '../../src/domain/content';
import type { StorageContext } from '../../src/domain/storage-context';

export type AdapterSet = 'embedded' | 'mongo-s3';

export interface StorageHarness {
  app: TypedFastify;
  issuer: TestIssuer;
  config: StorageConfig;
  /** Bearer headers for the usual cast of callers. */
  auth: {
    owner: Record<string, string>;
    otherOwner: Record<string, string>;
    nav: Record<string, string>;
    navReadOnly: Record<string, string>;
    skd: Record<string, string>;
    system: Record<string, string>;
  };
  close(): Promise<void>;
}

export const OWNER_PARTY = '50001';
export const OTHER_PARTY = '50002';
export const SYSTEM_PARTY = '50003';
export const API = '/storage/api/v1';

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A party's headers as its app service sends them to storage: the party's token and the app's own token. */
export function viaApp(h: Pick<StorageHarness, 'issuer'>, partyHeaders: Record<string, string>, appId = 'nav/sample-app'): Record<string, string> {
  if (partyHeaders[ACCESS_TOKEN_HEADER] !== undefined) return partyHeaders;
  return { ...partyHeaders, [ACCESS_TOKEN_HEADER]: h.issuer.appToken({ app: appId }) };
}

/** An app service's own token alone (its org, limited to that app). */
export const appOwnToken = (h: Pick<StorageHarness, 'issuer'>, appId = 'nav/sample-app') => bearer(h.issuer.appToken({ app: appId }));

/**
 * A storage service over real adapters: the embedded ones in a temp folder, or MongoDB (CongoServer or
 * MONGODB_URL) and S3 (s3rver) as started by jest's global setup, each harness with its own database and bucket.
 */
export async function startStorage(adapters: AdapterSet = 'embedded', env: Record<string, string> = {}): Promise<StorageHarness> {
  const issuer = await TestIssuer.start();
  const dataDir = mkdtempSync(join(tmpdir(), 'storage-test-'));
  const unique = randomUUID().slice(0, 8);
  const config = loadStorageConfig({
    DATA_DIR: dataDir,
    JWKS_URL: issuer.jwksUrl,
    TOKEN_ISSUER: issuer.issuer,
    REAPER_INTERVAL_SECONDS: '0',
    ...(adapters === 'mongo-s3' && {
      MONGODB_URL: requiredEnv('TEST_MONGODB_URL'),
      MONGODB_DATABASE: `storage_${unique}`,
      S3_ENDPOINT: requiredEnv('TEST_S3_ENDPOINT'),
      S3_BUCKET: `storage-${unique}`,
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
    }),
    ...env,
  });
  const app = await buildStorageApp({ config, store: createMetadataStore(config), blobs: createBlobStore(config), logger: false });
  await app.ready();
  const { instancesRead, instancesWrite, serviceOwnerRead, serviceOwnerWrite } = Scopes;
  const partyScopes = [instancesRead, instancesWrite];
  return {
    app,
    issuer,
    config,
    auth: {
      owner: bearer(issuer.userToken({ userId: 1001, partyId: OWNER_PARTY, scopes: partyScopes })),
      otherOwner: bearer(issuer.userToken({ userId: 1002, partyId: OTHER_PARTY, scopes: partyScopes })),
      nav: bearer(issuer.orgToken({ org: 'nav', orgNumber: '889640782', scopes: [serviceOwnerRead, serviceOwnerWrite] })),
      navReadOnly: bearer(issuer.orgToken({ org: 'nav', scopes: [serviceOwnerRead] })),
      skd: bearer(issuer.orgToken({ org: 'skd', orgNumber: '974761076', scopes: [serviceOwnerRead, serviceOwnerWrite] })),
      system: bearer(issuer.systemToken({ systemId: 'accounting-system', partyId: SYSTEM_PARTY, scopes: partyScopes })),
    },
    async close() {
      await app.close();
      await issuer.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through jest's global setup`);
  return value;
}

export const SAMPLE_APP: ApplicationInput = {
  title: { nb: 'Søknad', en: 'Application' },
  dataTypes: [
    { id: 'model', allowedContentTypes: ['application/xml', 'application/json'], maxCount: 1, minCount: 1, taskId: 'Task_1' },
    { id: 'attachment', allowedContentTypes: ['application/pdf', 'image/*'], maxSize: 1, maxCount: 3, minCount: 0 },
    { id: 'bigfile', allowedContentTypes: ['application/octet-stream'], maxCount: 0, minCount: 0 },
  ],
  partyTypesAllowed: { bankruptcyEstate: false, organisation: true, person: true, subUnit: false },
  processTasks: ['Task_1', 'Task_2'],
};

/** Registers `nav/<app>` (and optionally others) through the API, as the org. */
export async function registerApp(h: StorageHarness, appId = 'nav/sample-app', input: ApplicationInput = SAMPLE_APP): Promise<void> {
  const [org] = appId.split('/');
  const response = await h.app.inject({
    method: 'POST',
    url: `${API}/applications/${appId}`,
    headers: org === 'skd' ? h.auth.skd : h.auth.nav,
    payload: input,
  });
  if (response.statusCode !== 201) throw new Error(`register ${appId}: ${response.statusCode} ${response.body}`);
}

export async function createInstance(
  h: StorageHarness,
  options: { appId?: string; partyId?: string; headers?: Record<string, string>; body?: Record<string, unknown> } = {},
): Promise<Instance> {
  const partyId = options.partyId ?? OWNER_PARTY;
  const response = await h.app.inject({
    method: 'POST',
    url: `${API}/instances?appId=${options.appId ?? 'nav/sample-app'}`,
    // Instances are created by the app for the party (storage refuses a party alone).
    headers: viaApp(h, options.headers ?? h.auth.owner, options.appId ?? 'nav/sample-app'),
    payload: { instanceOwner: { partyId }, ...options.body },
  });
  if (response.statusCode !== 201) throw new Error(`create instance: ${response.statusCode} ${response.body}`);
  return response.json<Instance>();
}

export const instanceUrl = (instance: Pick<Instance, 'id'>) => `${API}/instances/${instance.id}`;

/** The size of the content stored under `key`, wherever storage keeps it (blob store or inline, ADR 0018); null when none. */
export async function storedSize(context: StorageContext, key: string): Promise<number | null> {
  const content = await readContent(context, key);
  content?.body.destroy();
  return content?.totalSize ?? null;
}
