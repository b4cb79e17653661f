import type { AppDefinition } from '@forms/app-definition';
import { authOptionsFromConfig, authPlugin } from '@forms/auth-plugin';
import type { StorageApi } from '@forms/client';
import { createServer, healthRoutes, serverOptionsFrom, openApi, type LoggerOptions, type TypedFastify } from '@forms/service-kit';
import type { AppServiceConfig } from './config';
import { appContextPlugin } from './plugins/app-context';
import dataRoutes from './routes/data';
import dataPatchRoutes from './routes/data-patch';
import dataTagRoutes from './routes/data-tags';
import instanceLifecycleRoutes from './routes/instance-lifecycle';
import instanceRoutes from './routes/instances';
import metadataRoutes from './routes/metadata';
import optionsRoutes from './routes/options';
import processRoutes from './routes/process';
import statelessRoutes from './routes/stateless';
import userDefinedMetadataRoutes from './routes/user-defined-metadata';

export interface AppServiceOptions {
  config: AppServiceConfig;
  definition: AppDefinition;
  storage: StorageApi;
  clock?: () => string;
  logger?: LoggerOptions | false;
}

/** One app's API under `/<org>/<app>`: the app's rules applied, everything persisted through storage. */
export async function buildAppService(options: AppServiceOptions): Promise<TypedFastify> {
  const { config, definition, storage } = options;
  const prefix = `/${definition.metadata.id}`;
  const maxFormDataBytes = config.MAX_FORM_DATA_KB * 1024;
  const app = createServer({
    name: `app:${definition.metadata.id}`,
    bodyLimit: maxFormDataBytes,
    ...serverOptionsFrom(config, options.logger),
  });

  await app.register(openApi, {
    title: `${definition.metadata.id} app API`,
    description: `Instances, form data, attachments and process of the app ${definition.metadata.id}.`,
    version: '1.0.0',
    routePrefix: `${prefix}/swagger`,
  });
  await app.register(authPlugin, authOptionsFromConfig(config));
  await app.register(appContextPlugin, {
    definition,
    storage,
    clock: options.clock ?? (() => new Date().toISOString()),
    log: app.log,
    maxFormDataBytes,
    storageTimeoutMs: config.STORAGE_TIMEOUT_MS,
  });
  await app.register(healthRoutes, { checks: [{ name: 'storage', check: () => storage.ready() }] });
  await app.register(
    async (api) => {
      await api.register(metadataRoutes);
      await api.register(optionsRoutes);
      await api.register(instanceRoutes);
      await api.register(instanceLifecycleRoutes);
      await api.register(dataRoutes);
      await api.register(dataPatchRoutes);
      await api.register(dataTagRoutes);
      await api.register(userDefinedMetadataRoutes);
      await api.register(processRoutes);
      await api.register(statelessRoutes);
    },
    { prefix },
  );
  return app;
}
