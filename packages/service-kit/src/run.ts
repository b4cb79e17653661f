import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';

export interface ListenOptions {
  host: string;
  port: number;
  /** How long in-flight requests get to finish on SIGTERM before the process exits anyway. */
  shutdownGraceMs?: number;
}

/** Listens, and on SIGTERM/SIGINT or a fatal error stops taking requests, lets in-flight ones finish, closes. */
export async function listenWithGracefulShutdown(app: FastifyInstance, options: ListenOptions): Promise<string> {
  closeWithGrace({ delay: options.shutdownGraceMs ?? 10_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'fatal error, shutting down');
    else app.log.info({ signal }, 'shutting down');
    await app.close();
  });
  return app.listen({ host: options.host, port: options.port });
}
