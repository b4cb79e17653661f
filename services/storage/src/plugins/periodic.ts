import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

export interface PeriodicOptions {
  name: string;
  intervalMs: number;
  run: () => Promise<void>;
}

/** A background job: once when the server is ready, then every `intervalMs`; never two passes at once; waited for on close. */
export const periodic = fp(
  async function periodic(app: FastifyInstance, { name, intervalMs, run }: PeriodicOptions) {
    let running: Promise<void> | undefined;
    const pass = () => {
      running ??= run()
        .catch((err: unknown) => app.log.warn({ err }, `${name} failed`))
        .finally(() => {
          running = undefined;
        });
    };
    const timer = setInterval(pass, intervalMs);
    timer.unref();
    app.addHook('onReady', async () => pass());
    app.addHook('onClose', async () => {
      clearInterval(timer);
      await running;
    });
  },
  { name: 'periodic' },
);
