// Graph collection queries: reads $filter/$search/$orderby/$select/$top/$count/$skiptoken off a request,
// applies Graph's advanced-query rules (ConsistencyLevel: eventual), runs the compiled query and
// renders the page with @odata.context, @odata.count and an absolute @odata.nextLink.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { requireEnumerate } from '../../directory/access.js';
import type { ResourceCatalog } from '../../domain/catalog.js';
import { DomainError, errors } from '../../domain/errors.js';
import type { FilterNode, OrderBy, SearchNode } from '../../domain/odata.js';
import { type Cursor, countObjects, listObjects } from '../../store/query/list.js';
import type { Db } from '../../store/store.js';
import { parseFilter, parseOrderBy, parseSearch, parseSelect } from './odata/index.js';

/** What Fastify sends for a serialized object; a page sent as ready JSON text gets the same type. */
export const JSON_TYPE = 'application/json; charset=utf-8';

/** Graph's directory page size: 100 by default, 999 at most. */
export const DEFAULT_TOP = 100;
export const MAX_TOP = 999;

export type Query = Record<string, string | undefined>;

export interface CollectionQuery {
  filter?: FilterNode;
  search?: SearchNode;
  orderBy?: OrderBy[];
  select?: string[];
  top: number;
  cursor?: Cursor;
  advanced: boolean;
  count: boolean;
}

const queryOf = (req: FastifyRequest) => req.query as Query;

export const isEventual = (req: FastifyRequest) => String(req.headers.consistencylevel ?? '').toLowerCase() === 'eventual';

export function parseTop(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_TOP;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > MAX_TOP) {
    throw errors.badRequest(`Invalid page size specified: '${raw}'. Must be between 1 and ${MAX_TOP} inclusive.`);
  }
  return n;
}

export function encodeSkipToken(cursor: Cursor): string {
  return Buffer.from(JSON.stringify({ v: 1, c: cursor })).toString('base64url');
}

// A skip token is the client's to keep and so the client's to tamper with: every field is checked
// against the cursor's own bounds before it reaches SQL (an offset beyond 2^31 or a key of the wrong
// type would fail in the database instead of here). Keys and ids are column values: bounded, no NUL.
const cursorText = (max: number) => z.string().max(max).refine((s) => !s.includes('\u0000'));
const skipTokenSchema = z.object({
  v: z.literal(1),
  c: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('after'), branch: z.number().int().min(0).max(64), key: cursorText(4096).nullable(), id: cursorText(256) }),
    z.object({ kind: z.literal('offset'), offset: z.number().int().min(0).max(2 ** 31 - 1 - 1000) }),
  ]),
});

/** Longest skip token we hand out is well under 6 KB (a 4 KB key, base64url); longer is not ours. */
const MAX_SKIP_TOKEN = 8192;

export function decodeSkipToken(token: string): Cursor {
  if (token.length <= MAX_SKIP_TOKEN) {
    try {
      const parsed = skipTokenSchema.safeParse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8')));
      if (parsed.success) return parsed.data.c;
    } catch {
      // fall through: any undecodable token is the client's error
    }
  }
  throw errors.badRequest(`The value of the '$skiptoken' query parameter is invalid.`);
}

/**
 * Query options of the Graph surface each appear at most once (Graph's own 400 and wording); after
 * this every value of `req.query` is a single string. Runs in the Graph routes' onRequest hook.
 */
export function checkQueryOptions(req: FastifyRequest): void {
  const q = req.query as Record<string, unknown>;
  for (const name of Object.keys(q)) {
    if (Array.isArray(q[name])) {
      throw errors.badRequest(`Query option '${name}' was specified more than once, but it must be specified at most once.`, 'BadRequest');
    }
  }
}

/** `$select` names before de-duplication; a resource has ~60 properties, so more is not a real query. */
export const MAX_SELECT_NAMES = 500;

/**
 * Checked $select lists by text, per set of allowed names (a constant per resource): a client sends the same
 * list with every page, and lexing and checking it again was ~5 µs of a people search. Only lists that
 * passed are kept (a bad one is checked again to render its error); a copy is handed out each time.
 * Bounded like the parse cache below: when full it starts again.
 */
const selects = new WeakMap<ReadonlySet<string>, Map<string, readonly string[]>>();
const SELECT_CACHE_ENTRIES = 1024;

export function parseSelectParam(raw: string | undefined, allowed: ReadonlySet<string>, resource: string): string[] | undefined {
  if (raw === undefined || raw === '') return undefined;
  let known = selects.get(allowed);
  const hit = known?.get(raw);
  if (hit) return [...hit];
  const names = checkSelect(raw, allowed, resource);
  if (raw.length <= PARSE_CACHE_MAX_TEXT) {
    if (!known) {
      known = new Map();
      selects.set(allowed, known);
    }
    if (known.size >= SELECT_CACHE_ENTRIES) known.clear();
    known.set(raw, [...names]);
  }
  return names;
}

function checkSelect(raw: string, allowed: ReadonlySet<string>, resource: string): string[] {
  const parsedNames = parseSelect(raw);
  if (parsedNames.length > MAX_SELECT_NAMES) {
    throw errors.badRequest(`$select names ${parsedNames.length} properties; at most ${MAX_SELECT_NAMES} are accepted.`);
  }
  // A name given twice is rendered once (each name is a pair of arguments to the database's JSON builder).
  const names = [...new Set(parsedNames)];
  for (const name of names) {
    if (name !== '*' && !allowed.has(name)) {
      throw errors.badRequest(`Could not find a property named '${name}' on type 'microsoft.graph.${resource}'.`);
    }
  }
  return names.includes('*') ? [...allowed] : names;
}

/**
 * Parsed $filter and $search texts, by their exact text: people search sends the same few hundred
 * prefixes over and over (every user types "a", "ma", "jo"), and the trees are frozen, so one parse
 * serves every request that repeats it. Bounds: 2,048 texts per option of at most 512 characters each
 * (~1–2 MB at worst); when full, the oldest half goes. Only successful parses are kept: a bad text is
 * parsed again to render its error.
 */
class ParseCache<T> {
  private readonly entries = new Map<string, T>();

  constructor(private readonly parse: (text: string) => T) {}

  get(text: string): T {
    const hit = this.entries.get(text);
    if (hit !== undefined) return hit;
    const parsed = this.parse(text);
    if (text.length <= PARSE_CACHE_MAX_TEXT) {
      if (this.entries.size >= PARSE_CACHE_ENTRIES) {
        let drop = this.entries.size >> 1;
        for (const k of this.entries.keys()) {
          if (drop-- <= 0) break;
          this.entries.delete(k);
        }
      }
      this.entries.set(text, parsed);
    }
    return parsed;
  }
}
const PARSE_CACHE_ENTRIES = 2048;
const PARSE_CACHE_MAX_TEXT = 512;
const filters = new ParseCache(parseFilter);
const searches = new ParseCache(parseSearch);

/** Reads a collection query and enforces the advanced-query rules of Graph's directory objects. */
export function readCollectionQuery(req: FastifyRequest, allowedSelect: ReadonlySet<string>, resource: string): CollectionQuery {
  const q = queryOf(req);
  if (q.$skip !== undefined) throw errors.badRequest(`'$skip' is not supported by the service.`, 'Request_BadRequest');
  if (q.$expand !== undefined && isEventual(req)) {
    throw errors.unsupportedQuery('$expand is not supported with advanced queries (ConsistencyLevel: eventual).');
  }
  const eventual = isEventual(req);
  const countRequested = q.$count === 'true';
  if (q.$count !== undefined && q.$count !== 'true' && q.$count !== 'false') {
    throw errors.badRequest(`Invalid value for $count: '${q.$count}'. Use true or false.`);
  }
  const search = q.$search !== undefined ? searches.get(q.$search) : undefined;
  if (search && !eventual) {
    throw errors.unsupportedQuery(
      "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
    );
  }
  const filter = q.$filter !== undefined ? filters.get(q.$filter) : undefined;
  const orderBy = q.$orderby !== undefined ? [...parseOrderBy(q.$orderby)] : undefined;
  // Advanced operators need the header and $count=true; $search needs only the header.
  const advanced = eventual && (countRequested || search !== undefined);
  if (filter && orderBy && !advanced) {
    throw errors.unsupportedQuery('Sorting not supported for current query. $filter with $orderby needs ConsistencyLevel: eventual and $count=true.');
  }
  const query: CollectionQuery = {
    top: parseTop(q.$top),
    advanced,
    // Without the header Graph silently ignores $count=true.
    count: countRequested && eventual,
  };
  if (filter) query.filter = filter;
  if (search) query.search = search;
  if (orderBy) query.orderBy = orderBy;
  const select = parseSelectParam(q.$select, allowedSelect, resource);
  if (select) query.select = select;
  if (q.$skiptoken !== undefined) query.cursor = decodeSkipToken(q.$skiptoken);
  return query;
}

/**
 * Builds the absolute nextLink: the request's own query, as the client encoded it, with `$skiptoken`
 * replaced. Plain string work: parsing and re-encoding through URL/URLSearchParams cost ~50 µs a page.
 */
export function nextLinkFor(req: FastifyRequest, base: string, cursor: Cursor): string {
  const raw = req.url;
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const kept = q < 0 ? [] : raw.slice(q + 1).split('&').filter((p) => p !== '' && paramName(p) !== '$skiptoken');
  kept.push(`$skiptoken=${encodeSkipToken(cursor)}`);
  return `${base.replace(/\/$/, '')}${path}?${kept.join('&')}`;
}

function paramName(pair: string): string {
  const eq = pair.indexOf('=');
  const name = eq < 0 ? pair : pair.slice(0, eq);
  if (!name.includes('%') && !name.includes('+')) return name;
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}

/** The keys a list renders: the $select, else the resource's default set (with id). */
export function renderKeys(select: readonly string[] | undefined, defaults: readonly string[]): string[] {
  const keys = [...(select ?? defaults)];
  if (select === undefined && !keys.includes('id')) keys.push('id');
  return keys;
}

export function project<T extends Record<string, unknown>>(obj: T, select: readonly string[] | undefined, defaults: readonly string[]) {
  const out: Record<string, unknown> = {};
  for (const k of renderKeys(select, defaults)) out[k] = obj[k] ?? null;
  return out;
}

/**
 * A collection page in Graph's shape, as JSON text: context (with the $select), count when asked, the
 * items (already JSON, rendered by the store), absolute nextLink.
 */
export function collectionJson(
  req: FastifyRequest, version: string, entitySet: string, select: readonly string[] | undefined,
  items: readonly string[], count?: number, next?: Cursor,
): string {
  const origin = `${req.protocol}://${req.host}`;
  const context = `${origin}/${version}/$metadata#${entitySet}${select ? `(${select.join(',')})` : ''}`;
  return `{"@odata.context":${JSON.stringify(context)}${count !== undefined ? `,"@odata.count":${count}` : ''},"value":[${items.join(',')}]${
    next ? `,"@odata.nextLink":${JSON.stringify(nextLinkFor(req, origin, next))}` : ''
  }}`;
}

/** Runs a collection query; with `render`, each item comes back as the JSON text of those keys. */
export async function runCollectionQuery(
  db: Db, catalog: ResourceCatalog, tenantId: string, query: CollectionQuery, deleted = false, render?: readonly string[],
): Promise<{ data: string[]; count?: number; next?: Cursor }> {
  const result = await listObjects(db, catalog, tenantId, {
    ...(render ? { render } : {}),
    ...(query.filter ? { filter: query.filter } : {}),
    ...(query.search ? { search: query.search } : {}),
    ...(query.orderBy ? { orderBy: query.orderBy } : {}),
    ...(query.cursor ? { cursor: query.cursor } : {}),
    top: query.top,
    advanced: query.advanced,
    count: query.count,
    deleted,
  });
  return { data: result.rows.map((r) => r.data), ...(result.count !== undefined ? { count: result.count } : {}), ...(result.next ? { next: result.next } : {}) };
}

/** `/users/$count`: text/plain, and only with ConsistencyLevel: eventual. */
export async function countCollection(req: FastifyRequest, db: Db, catalog: ResourceCatalog, tenantId: string, deleted = false): Promise<number> {
  if (!isEventual(req)) throw new DomainError('badRequest', 'Request_BadRequest', '$count is not currently supported.');
  const q = queryOf(req);
  const filter = q.$filter !== undefined ? parseFilter(q.$filter) : undefined;
  const search = q.$search !== undefined ? parseSearch(q.$search) : undefined;
  return countObjects(db, catalog, tenantId, {
    ...(filter ? { filter } : {}), ...(search ? { search } : {}), advanced: true, deleted,
  });
}

export interface CollectionSpec {
  /** Entity set, also the route path: `users` serves GET /users and GET /users/$count. */
  entitySet: string;
  catalog: ResourceCatalog;
  /** Application permission that lets an app enumerate it. */
  permission: string;
  allowedSelect: ReadonlySet<string>;
  /** Graph type name for error messages, e.g. `user`. */
  resource: string;
  defaultSelect: readonly string[];
}

/** GET /{entitySet} (OData list) and GET /{entitySet}/$count for a directory resource, on the caller's tenant. */
export function registerCollection(app: FastifyInstance, db: Db, version: string, spec: CollectionSpec): void {
  app.get(`/${spec.entitySet}`, async (req, reply) => {
    requireEnumerate(req.actor, spec.permission);
    const query = readCollectionQuery(req, spec.allowedSelect, spec.resource);
    const keys = renderKeys(query.select, spec.defaultSelect);
    const page = await runCollectionQuery(db, spec.catalog, req.actor.principal.tenantId, query, false, keys);
    return reply.type(JSON_TYPE).send(collectionJson(req, version, spec.entitySet, query.select, page.data, page.count, page.next));
  });
  app.get(`/${spec.entitySet}/$count`, async (req, reply) => {
    requireEnumerate(req.actor, spec.permission);
    const n = await countCollection(req, db, spec.catalog, req.actor.principal.tenantId);
    return reply.type('text/plain').send(String(n));
  });
}
