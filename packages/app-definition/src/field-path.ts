/**
 * Dotted field paths (`applicant.income`, `children[2].name`) as used by ValidationIssue.field and gateway
 * conditions, and their conversion from the JSON pointers that ajv reports.
 */

export type PathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** Renders segments as a dotted path; keys that are not plain identifiers are quoted (`x["a.b"]`). */
export function formatFieldPath(segments: readonly PathSegment[]): string {
  let path = '';
  for (const segment of segments) {
    if (typeof segment === 'number') path += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) path += path === '' ? segment : `.${segment}`;
    else path += `[${JSON.stringify(segment)}]`;
  }
  return path;
}

/** `/children/1/name` -> `children[1].name`. Numeric pointer tokens are array indexes when the data is an array. */
export function jsonPointerToSegments(pointer: string, data: unknown): PathSegment[] {
  if (pointer === '') return [];
  const segments: PathSegment[] = [];
  let cursor: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cursor) && /^(0|[1-9][0-9]*)$/.test(token)) {
      segments.push(Number(token));
      cursor = cursor[Number(token)];
    } else {
      segments.push(token);
      cursor = isRecord(cursor) ? cursor[token] : undefined;
    }
  }
  return segments;
}

/**
 * Parses `a.b[2].c` or `a["odd.key"]` into segments. Returns undefined for syntax it does not understand,
 * so callers can report the path as invalid instead of silently reading the wrong field.
 */
export function parseFieldPath(path: string): PathSegment[] | undefined {
  const segments: PathSegment[] = [];
  const token = /\.?([A-Za-z_$][A-Za-z0-9_$-]*)|\[(0|[1-9][0-9]*)\]|\[("(?:[^"\\]|\\.)*")\]/y;
  let position = 0;
  while (position < path.length) {
    token.lastIndex = position;
    const match = token.exec(path);
    if (!match || (position === 0 && match[0].startsWith('.'))) return undefined;
    if (position > 0 && match[1] !== undefined && !match[0].startsWith('.')) return undefined;
    if (match[1] !== undefined) segments.push(match[1]);
    else if (match[2] !== undefined) segments.push(Number(match[2]));
    else segments.push(JSON.parse(match[3] as string) as string);
    position = token.lastIndex;
  }
  return segments.length > 0 ? segments : undefined;
}

/** Reads the value at a path; undefined when any step is missing. */
export function getAtPath(data: unknown, segments: readonly PathSegment[]): unknown {
  let cursor: unknown = data;
  for (const segment of segments) {
    if (typeof segment === 'number') cursor = Array.isArray(cursor) ? cursor[segment] : undefined;
    else cursor = isRecord(cursor) && Object.hasOwn(cursor, segment) ? cursor[segment] : undefined;
    if (cursor === undefined) return undefined;
  }
  return cursor;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
