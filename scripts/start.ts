/**
 * Starts the platform in one process on its embedded default: no Docker, database or cloud account.
 * Each service reads its own configuration from the environment as it would in a container.
 *
 * Until the token service (services/auth) is part of this start, a development issuer signs tokens:
 * it serves a JWKS on a free local port, the storage service trusts it, and the tokens it mints for a
 * sample person and two orgs are printed below, valid for 12 hours.
 */
import { Scopes } from '@forms/contracts';
import { listenWithGracefulShutdown } from '@forms/service-kit';
import { TestIssuer } from '@forms/test-support';
import { createBlobStore, createMetadataStore } from '../services/storage/src/adapters';
import { buildStorageApp, publicBaseUrl } from '../services/storage/src/app';
import { API_PREFIX, loadStorageConfig } from '../services/storage/src/config';

const TWELVE_HOURS = 12 * 3600;

async function main(): Promise<void> {
  const issuer = await TestIssuer.start();
  const storageConfig = loadStorageConfig({ ...process.env, JWKS_URL: issuer.jwksUrl, TOKEN_ISSUER: issuer.issuer });
  const storage = await buildStorageApp({
    config: storageConfig,
    store: createMetadataStore(storageConfig),
    blobs: createBlobStore(storageConfig),
    logger: { level: storageConfig.LOG_LEVEL === 'info' ? 'warn' : storageConfig.LOG_LEVEL },
  });
  storage.addHook('onClose', () => issuer.stop());
  await listenWithGracefulShutdown(storage, { host: storageConfig.HOST, port: storageConfig.PORT });
  const storageUrl = publicBaseUrl(storageConfig);

  const lifetime = { expiresInSeconds: TWELVE_HOURS };
  const serviceOwner = [Scopes.serviceOwnerRead, Scopes.serviceOwnerWrite];
  const person = issuer.userToken({ userId: 1001, partyId: 50001, scopes: [Scopes.instancesRead, Scopes.instancesWrite] }, lifetime);
  const nav = issuer.orgToken({ org: 'nav', orgNumber: '889640782', scopes: serviceOwner }, lifetime);
  const skd = issuer.orgToken({ org: 'skd', orgNumber: '974761076', scopes: serviceOwner }, lifetime);

  console.log(`
Forms platform is running on its embedded default (data in ${storageConfig.DATA_DIR}).

  storage API   ${storageUrl}${API_PREFIX}
  storage docs  ${storageUrl}/storage/swagger

Development tokens (12 h), for example: curl -H "authorization: Bearer $ORG" ${storageUrl}${API_PREFIX}/applications/nav

  export STORAGE=${storageUrl}${API_PREFIX}
  export ME=${person}      # person: user 1001, party 50001
  export ORG=${nav}      # org nav (app owner)
  export SKD=${skd}      # org skd

Stop with Ctrl-C.`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
