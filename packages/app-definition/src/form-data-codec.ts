/**
 * Form data as JSON or XML. XML is parsed defensively (no DOCTYPE, no entity expansion) and its text values are
 * typed by walking the model's JSON Schema, so `<birthYear>2015</birthYear>` becomes the number 2015.
 */
import { assertJsonDepth, DomainError } from '@forms/contracts';
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import type { FormModel } from './api';
import { isRecord } from './field-path';
import { viewSchema, type SchemaView } from './schema-walk';
import { decodeXmlText, refuseDoctype } from './xml-text';

const TEXT = '#text';
const CDATA = '#cdata';

const parser = new XMLParser({
  ignoreAttributes: true,
  // Entities stay unexpanded; decodeXmlText handles the predefined ones afterwards.
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  trimValues: false,
  removeNSPrefix: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: CDATA,
  textNodeName: TEXT,
  // Every element as a list: whether repetition is meaningful is decided by the schema afterwards.
  isArray: () => true,
});

const builder = new XMLBuilder({ format: true, indentBy: '  ', suppressEmptyNode: false, processEntities: true });

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

export function parseFormData(body: string, format: 'json' | 'xml', model: FormModel): unknown {
  if (format === 'json') {
    assertJsonDepth(body);
    try {
      return JSON.parse(body) as unknown;
    } catch (error) {
      throw new DomainError('invalid', 'MALFORMED_JSON', `The form data is not valid JSON: ${(error as Error).message}`);
    }
  }
  return parseXml(body, model);
}

function parseXml(body: string, model: FormModel): unknown {
  refuseDoctype(body);
  const malformed = (detail: string) => new DomainError('invalid', 'MALFORMED_XML', `The form data is not well-formed XML: ${detail}`);
  const outsideCdataAndComments = body.replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '').replace(/<!--[\s\S]*?-->/g, '');
  const undefinedEntity = /&(?!(?:#x[0-9A-Fa-f]+|#[0-9]+|lt|gt|amp|quot|apos);)[^\s;<]{0,20};?/.exec(outsideCdataAndComments);
  if (undefinedEntity) throw malformed(`undefined entity or bare "&" at ${JSON.stringify(undefinedEntity[0])}`);
  const verdict = XMLValidator.validate(body);
  if (verdict !== true) throw malformed(`${verdict.err.msg} (line ${verdict.err.line})`);

  let document: unknown;
  try {
    document = parser.parse(body);
  } catch (error) {
    throw malformed((error as Error).message);
  }
  const roots = isRecord(document)
    ? Object.entries(document).filter(([name, value]) => !(name === TEXT && typeof value === 'string' && value.trim() === ''))
    : [];
  const [first] = roots;
  if (roots.length !== 1 || !first || !Array.isArray(first[1]) || first[1].length !== 1) throw malformed('a document must have exactly one root element');
  const [rootName, [rootNode]] = first as [string, unknown[]];
  if (rootName !== model.xmlRoot) {
    throw new DomainError('invalid', 'XML_ROOT_MISMATCH', `The root element must be <${model.xmlRoot}>, not <${rootName}>.`);
  }
  const value = typeNode(rootNode, model.schema, model.schema);
  // An empty root is an empty form, not a missing one.
  return value === undefined || value === '' ? {} : value;
}

/** Text of a leaf node: decoded text plus raw CDATA. Undefined when the node has child elements. */
function leafText(node: unknown): string | undefined {
  if (typeof node === 'string') return decodeXmlText(node);
  if (!isRecord(node)) return undefined;
  const keys = Object.keys(node);
  if (keys.some((key) => key !== TEXT && key !== CDATA)) return undefined;
  const text = typeof node[TEXT] === 'string' ? decodeXmlText(node[TEXT]) : '';
  const cdata = Array.isArray(node[CDATA]) ? node[CDATA].filter((part): part is string => typeof part === 'string').join('') : '';
  return text + cdata;
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A text value typed by the schema of its field; text that does not fit is kept, for validation to report. */
function typeText(text: string, view: SchemaView): unknown {
  const trimmed = text.trim();
  if (view.types.has('string')) return text;
  if (trimmed === '') {
    if (view.types.has('object')) return {};
    if (view.types.has('array')) return [];
    if (view.types.has('null')) return null;
    return view.types.size === 0 ? text : undefined;
  }
  if ((view.types.has('number') || view.types.has('integer')) && NUMBER.test(trimmed)) return Number(trimmed);
  if (view.types.has('boolean') && ['true', 'false', '1', '0'].includes(trimmed)) return trimmed === 'true' || trimmed === '1';
  return text;
}

/**
 * A value given as text for the field at a dotted path, typed as XML text is: Altinn's prefill sends every value as
 * a string, so `"2026"` for an integer field is 2026. Other values, and text the schema does not type, come back as
 * they are.
 */
export function typeFieldText(model: FormModel, path: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  let schema: unknown = model.schema;
  for (const key of path.split('.')) {
    const view = viewSchema(schema, model.schema);
    schema = view.properties.get(key) ?? view.additional;
    if (schema === undefined) return value;
  }
  return typeText(value, viewSchema(schema, model.schema)) ?? value;
}

/**
 * Types one element by its schema. Values that do not fit (e.g. `abc` for a number) are kept as strings so
 * schema validation reports them with their field path; empty non-string elements are left out (absent).
 */
function typeNode(node: unknown, schema: unknown, root: Record<string, unknown>): unknown {
  const view = viewSchema(schema, root);
  const text = leafText(node);
  if (text !== undefined) return typeText(text, view);
  if (!isRecord(node)) return undefined;
  const result: Record<string, unknown> = {};
  for (const [name, children] of Object.entries(node)) {
    if (name === TEXT || name === CDATA || !Array.isArray(children)) continue; // stray text between elements
    const childSchema = view.properties.get(name) ?? view.additional;
    const childView = viewSchema(childSchema, root);
    let value: unknown;
    if (childView.types.has('array') && !childView.types.has('object')) {
      value = children.map((child) => typeNode(child, childView.items, root) ?? null);
    } else if (children.length === 1) {
      value = typeNode(children[0], childSchema, root);
    } else {
      // Repeated although the schema does not say array: keep all so validation reports the type.
      value = children.map((child) => typeNode(child, childSchema, root) ?? null);
    }
    if (value !== undefined) result[name] = value;
  }
  return result;
}

export function serializeFormData(data: unknown, format: 'json' | 'xml', model: FormModel): string {
  if (format === 'json') return JSON.stringify(data);
  if (!isRecord(data)) throw new DomainError('invalid', 'FORM_DATA_NOT_OBJECT', 'Form data must be a JSON object to be written as XML.');
  return XML_DECLARATION + builder.build({ [model.xmlRoot]: toXmlTree(data) ?? {} });
}

/** Plain values for the builder: arrays repeat their element, null/undefined leave it out. */
function toXmlTree(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((item) => toXmlTree(item) ?? '');
  if (isRecord(value)) {
    const tree: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      const converted = toXmlTree(child);
      if (converted !== undefined) tree[key] = converted;
    }
    return tree;
  }
  return String(value);
}
