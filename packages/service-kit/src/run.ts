import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';

export interface ListenOptions {
  host: string;
  port: number;
  /** How long in-flight requests get to finish on SIGTERM before the process exits anyway. */
  shutdownGraceMs?: number;
}

/**
 * On SIGTERM/SIGINT or a fatal error: every app stops taking requests, lets in-flight ones finish and
 * closes, in the order given (callers before the services they call), before the process exits.
 *
 * A process started by a supervisor with an IPC channel (`npm run up`) also closes when that channel does:
 * a supervisor that dies without stopping its services leaves none running.
 */
export function closeTogetherOnShutdown(apps: FastifyInstance[], shutdownGraceMs = 10_000): void {
  const { close } = closeWithGrace({ delay: shutdownGraceMs }, async ({ signal, err, manual }) => {
    for (const app of apps) {
      if (err) app.log.error({ err }, 'fatal error, shutting down');
      else app.log.info({ signal: signal ?? (manual ? 'supervisor gone' : undefined) }, 'shutting down');
      await app.close();
    }
  });
  if (process.send !== undefined) {
    if (process.connected) process.once('disconnect', () => void close());
    else void close();
  }
}

/** Listens, and closes gracefully on shutdown (see `closeTogetherOnShutdown`). */
export async function listenWithGracefulShutdown(app: FastifyInstance, options: ListenOptions): Promise<string> {
  closeTogetherOnShutdown([app], options.shutdownGraceMs);
  return app.listen({ host: options.host, port: options.port });
}
