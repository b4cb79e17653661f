import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../domain/app-context';

declare module 'fastify' {
  interface FastifyInstance {
    appContext: AppContext;
  }
}

/** Makes the app's definition, storage client and clock available to every route. */
export const appContextPlugin = fp(
  async function appContextPlugin(app: FastifyInstance, context: AppContext) {
    app.decorate('appContext', context);
  },
  { name: 'app-context' },
);
