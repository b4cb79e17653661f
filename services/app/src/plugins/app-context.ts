import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { Deadline } from '@forms/client';
import type { AppContext } from '../domain/app-context';

declare module 'fastify' {
  interface FastifyInstance {
    appContext: AppContext;
  }
  interface FastifyRequest {
    /** The app's context for this request: its storage calls share the request's deadline. */
    appContext: AppContext;
  }
}

export interface AppContextOptions extends AppContext {
  /** What all the storage calls of one request may take together, counted from its arrival. */
  storageTimeoutMs: number;
}

/**
 * Makes the app's definition, storage client and clock available to every route: `app.appContext` at
 * registration, `request.appContext` while handling a request. The latter's storage client is bounded by one
 * deadline, STORAGE_TIMEOUT_MS from the request's arrival (moved on by streamed upload progress), so a request
 * needing several calls to a hung storage is answered (504) within that time, not within one timeout per call,
 * and its calls carry the request's id (`x-request-id`), which storage takes as its own for them.
 */
export const appContextPlugin = fp(
  async function appContextPlugin(app: FastifyInstance, options: AppContextOptions) {
    const { storageTimeoutMs, ...context } = options;
    app.decorate('appContext', context);
    app.decorateRequest('appContext', null as unknown as AppContext);
    app.addHook('onRequest', (request, reply, done) => {
      const deadline = Deadline.after(storageTimeoutMs, Date.now() - reply.elapsedTime);
      // The request's id goes with its storage calls: storage logs them under the same id.
      request.appContext = { ...context, storage: context.storage.within(deadline, request.id) };
      done();
    });
  },
  { name: 'app-context' },
);
