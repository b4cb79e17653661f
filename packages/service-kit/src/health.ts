import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Type } from '@sinclair/typebox';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
  /**
   * A dependency the service works around when it fails (e.g. a malware scanner whose uploads wait as Pending): its
   * failure is reported in `checks` but leaves the service ready, so an outage of it does not take the service out.
   */
  degradedOnly?: boolean;
}

const HealthResponse = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  checks: Type.Optional(Type.Record(Type.String(), Type.String())),
});

/**
 * `/health`: the process is alive (liveness probe). `/ready`: every dependency answers (readiness probe);
 * 503 with the failing checks otherwise, and during shutdown.
 */
export const healthRoutes = fp(
  async function healthRoutes(app: FastifyInstance, options: { prefix?: string; checks: ReadinessCheck[] }) {
    const prefix = options.prefix ?? '';
    let closing = false;
    app.addHook('preClose', async () => {
      closing = true;
    });
    app.get(
      `${prefix}/health`,
      { config: { auth: false }, logLevel: 'warn', schema: { hide: true, response: { 200: HealthResponse } } },
      async () => ({ status: 'ok' as const }),
    );
    app.get(
      `${prefix}/ready`,
      { config: { auth: false }, logLevel: 'warn', schema: { hide: true, response: { 200: HealthResponse, 503: HealthResponse } } },
      async (_request, reply) => {
        const checks: Record<string, string> = {};
        let ready = !closing;
        if (closing) checks.shutdown = 'in progress';
        await Promise.all(
          options.checks.map(async ({ name, check, degradedOnly }) => {
            try {
              await check();
              checks[name] = 'ok';
            } catch (error) {
              if (!degradedOnly) ready = false;
              const message = error instanceof Error ? error.message : 'failed';
              checks[name] = degradedOnly ? `degraded: ${message}` : message;
            }
          }),
        );
        return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', checks });
      },
    );
  },
  { name: 'health-routes' },
);
