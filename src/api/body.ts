// Request bodies as the routes may trust them. Every JSON and form body of every surface passes here
// before a handler sees it, so the rooms never meet: a body nested deep enough to overflow a recursive
// validator or serializer (JSON.parse itself is iterative; zod, JSON.stringify and our walkers are not),
// a property named like an Object.prototype member (`constructor`, `toString`, `__proto__`: a plain
// `schemas[key]` lookup finds the inherited function and the handler fails), or U+0000 (PostgreSQL text
// and jsonb cannot hold it; refused on SQLite too, so both stores accept the same bodies).
import { parse as parseQueryString } from 'node:querystring';
import { errors } from '../domain/errors.js';

/**
 * Nesting bound of a body (objects and arrays). Graph's deepest shapes (a synchronization schema's
 * nested attribute-mapping expressions, inside a $batch) stay well under it; a validator recursing 64
 * levels costs nothing, thousands overflow the stack.
 */
export const MAX_BODY_DEPTH = 64;

/** Names no Graph or OAuth property has and every plain object inherits. */
const inherited = new Set<string>(Object.getOwnPropertyNames(Object.prototype));

export const hasNul = (s: string) => s.includes('\u0000');

export const nulRefused = () =>
  errors.badRequest('The request contains a NUL character (U+0000), which no property or identifier can hold.');

/** Checks a parsed body without recursion (an explicit stack), so hostile input can't overflow it. */
export function checkBody(value: unknown): void {
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop() as { v: unknown; depth: number };
    if (typeof v === 'string') {
      if (hasNul(v)) throw nulRefused();
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_BODY_DEPTH) {
      throw errors.badRequest(`The request body is nested more than ${MAX_BODY_DEPTH} levels deep.`);
    }
    if (Array.isArray(v)) {
      for (const item of v) stack.push({ v: item, depth: depth + 1 });
      continue;
    }
    for (const key of Object.keys(v)) {
      if (inherited.has(key)) throw errors.badRequest(`Property '${key}' does not exist on the type of this resource.`);
      if (hasNul(key)) throw nulRefused();
      stack.push({ v: (v as Record<string, unknown>)[key], depth: depth + 1 });
    }
  }
}

/** The JSON body parser of the whole app (replaces Fastify's). An empty body is no body. */
export function parseJsonBody(text: string): unknown {
  if (text === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw errors.badRequest(
      'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
      'BadRequest',
    );
  }
  checkBody(value);
  return value;
}

/**
 * The form body parser (OAuth token endpoint, redemption pages): a null-prototype map of strings; a
 * field given twice stays an array, which the routes refuse by name.
 */
export function parseFormBody(text: string): Record<string, string | string[]> {
  if (hasNul(text) || /%00/i.test(text)) throw nulRefused();
  const parsed = parseQueryString(text);
  const out: Record<string, string | string[]> = Object.create(null);
  for (const key of Object.keys(parsed)) {
    const v = parsed[key];
    if (v !== undefined) out[key] = v;
  }
  return out;
}
