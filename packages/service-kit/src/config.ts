import envSchema from 'env-schema';
import type { Static, TObject } from '@sinclair/typebox';

/**
 * Reads and validates configuration once, at start-up. Services pass their TypeBox schema;
 * a missing or malformed variable stops the process with a message naming it.
 */
export function loadConfig<T extends TObject>(schema: T, env: Record<string, string | undefined> = process.env): Static<T> {
  return envSchema<Static<T>>({ schema, data: env, dotenv: false });
}
