/**
 * Just enough JSON Schema reading to type XML values: follows local `$ref`s and merges `allOf`/`anyOf`/`oneOf`
 * members into one view of the types, properties and items a node may have.
 */
import { isRecord } from './field-path';

export interface SchemaView {
  types: ReadonlySet<string>;
  properties: ReadonlyMap<string, unknown>;
  /** Schema of properties not listed in `properties` (`additionalProperties` when it is a schema). */
  additional?: unknown;
  items?: unknown;
}

const EMPTY_VIEW: SchemaView = { types: new Set(), properties: new Map() };
const MAX_REF_DEPTH = 32;

/** `#`, `#/$defs/X`, `#/definitions/X`, … resolved against the root schema; other references are left unresolved. */
function resolveLocalRef(ref: string, root: Record<string, unknown>): unknown {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let cursor: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const token = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    cursor = isRecord(cursor) ? cursor[token] : undefined;
  }
  return cursor;
}

export function viewSchema(schema: unknown, root: Record<string, unknown>): SchemaView {
  const types = new Set<string>();
  const properties = new Map<string, unknown>();
  const view: { additional?: unknown; items?: unknown } = {};
  const visit = (node: unknown, depth: number) => {
    if (!isRecord(node) || depth > MAX_REF_DEPTH) return;
    if (typeof node.$ref === 'string') visit(resolveLocalRef(node.$ref, root), depth + 1);
    if (typeof node.type === 'string') types.add(node.type);
    else if (Array.isArray(node.type)) for (const type of node.type) if (typeof type === 'string') types.add(type);
    if (isRecord(node.properties)) {
      for (const [name, propertySchema] of Object.entries(node.properties)) if (!properties.has(name)) properties.set(name, propertySchema);
    }
    if (isRecord(node.additionalProperties) && view.additional === undefined) view.additional = node.additionalProperties;
    if (isRecord(node.items) && view.items === undefined) view.items = node.items;
    for (const combinator of ['allOf', 'anyOf', 'oneOf'] as const) {
      const members = node[combinator];
      if (Array.isArray(members)) for (const member of members) visit(member, depth + 1);
    }
  };
  visit(schema, 0);
  if (types.size === 0 && properties.size === 0 && view.items === undefined && view.additional === undefined) return EMPTY_VIEW;
  // A schema with properties but no type describes an object.
  if (types.size === 0 && (properties.size > 0 || view.additional !== undefined)) types.add('object');
  if (types.size === 0 && view.items !== undefined) types.add('array');
  return { types, properties, ...view };
}
