import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

type Schema = Record<string, unknown>;
type SerializerFactory = NonNullable<NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildSerializer']>;

const isObject = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);
const isNull = (schema: unknown) => isObject(schema) && schema.type === 'null' && Object.keys(schema).length === 1;
const isStringLiteral = (schema: unknown) => isObject(schema) && schema.type === 'string' && typeof schema.const === 'string';

/**
 * The schema fast-json-stringify is given for a response, written so that it never has to validate a value to
 * know how to write it. It picks an `anyOf` branch by running ajv on the value (date-time formats included) for
 * every field of every answer; our nullable fields (`anyOf: [null, X]`) and string enums (`anyOf` of string
 * literals) need only a null check or none. The output is the same JSON for every value the contract allows
 * (responses are built from validated documents); the route's own schema, and so OpenAPI, is left as it is.
 */
export function serializationSchema<T>(schema: T, seen = new WeakMap<object, unknown>()): T {
  if (Array.isArray(schema)) return schema.map((item) => serializationSchema(item, seen)) as T;
  if (!isObject(schema)) return schema;
  const done = seen.get(schema);
  if (done) return done as T;
  const copy: Schema = {};
  seen.set(schema, copy);
  // String keys only: TypeBox's symbol keys describe its own types, which this copy no longer is.
  for (const key of Object.keys(schema)) copy[key] = serializationSchema(schema[key], seen);
  const branches = copy.anyOf;
  if (Array.isArray(branches)) {
    const others = branches.filter((branch) => !isNull(branch));
    const [only] = others;
    if (others.length === 1 && branches.length === 2 && isObject(only) && typeof only.type === 'string' && only.anyOf === undefined) {
      delete copy.anyOf;
      Object.assign(copy, only, { nullable: true });
    } else if (branches.length > 0 && branches.every(isStringLiteral)) {
      delete copy.anyOf;
      copy.type = 'string';
    }
  }
  return copy as T;
}

/** Fastify's own serializer compiler, given each response schema through `serializationSchema`. */
export const buildResponseSerializer: SerializerFactory = (externalSchemas, options) => {
  const compile = SerializerSelector()(externalSchemas as never, options as never);
  return (route) => compile({ ...route, schema: serializationSchema(route.schema) } as never);
};
