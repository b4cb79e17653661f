import envSchema from 'env-schema';
import { Type, type Static, type TObject } from '@sinclair/typebox';

/**
 * Reads and validates configuration once, at start-up. Services pass their TypeBox schema;
 * a missing or malformed variable stops the process with a message naming it.
 */
export function loadConfig<T extends TObject>(schema: T, env: Record<string, string | undefined> = process.env): Static<T> {
  return envSchema<Static<T>>({ schema, data: env, dotenv: false });
}

/** What every service's server takes from the environment; spread into each service's config schema. */
export const ServerConfig = {
  LOG_LEVEL: Type.String({ default: 'info' }),
  SHUTDOWN_GRACE_SECONDS: Type.Integer({ default: 10, minimum: 0, description: 'how long in-flight requests get on SIGTERM' }),
  IDLE_TIMEOUT_SECONDS: Type.Integer({
    default: 90,
    minimum: 1,
    description: 'a connection that sends and takes nothing this long is closed, also mid-request (above the 72 s keep-alive)',
  }),
  METRICS_PORT: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 65535, description: 'Prometheus metrics at GET /metrics on this port (on HOST), never the API port; unset: off' }),
  ),
};
