// One page of a directory collection (`GET /users?$filter&$search&$orderby&$top`), plus its count.
//
// Paging: without $orderby the page order is `id` and the cursor is a keyset (`id > last`), so every page
// costs the same however deep it is and concurrent inserts never shift it. With $orderby the cursor is an
// offset: the sort keys are nullable and direction-mixed, and Graph's own sorted paging is offset-like too.
//
// Speed on a large tenant comes from keeping each query an index range with a LIMIT:
// - every predicate leads with tenant_id and compiles to a range on a (tenant_id, column) index;
// - a top-level OR (of $search terms, else of $filter terms) runs as one LIMITed query per branch and
//   the union of those few ids is sorted and cut again. UNION-then-LIMIT would first materialize every
//   match of every branch, which is 10–100× slower at the tail on 1M rows (shared/peers/sqlite-limit);
// - we fetch top + 1 rows to learn whether there is a next page, instead of counting.
import { type Kysely, type RawBuilder, type SqlBool, sql } from 'kysely';
import type { ResourceCatalog } from '../../domain/catalog.js';
import { errors } from '../../domain/errors.js';
import type { FilterNode, OrderBy, SearchNode } from '../../domain/odata.js';
import type { Database } from '../schema.js';
import { compileFilter, compileOrderBy, compileSearch } from './compile.js';

/** Where the next page starts. JSON-serializable; the API layer wraps it into an opaque $skiptoken. */
export type Cursor = { readonly kind: 'after'; readonly id: string } | { readonly kind: 'offset'; readonly offset: number };

export interface ListQuery {
  filter?: FilterNode;
  search?: SearchNode;
  orderBy?: readonly OrderBy[];
  /** Page size, 1..999 (Graph's bound for directory collections). */
  top: number;
  cursor?: Cursor;
  /** `ConsistencyLevel: eventual` (+ `$count=true` for $filter): unlocks the advanced-only operators. */
  advanced: boolean;
  /** Also return the number of all matches (a separate COUNT query). */
  count: boolean;
  /** false: live rows only; true: only soft-deleted rows (directory/deletedItems). */
  deleted: boolean;
}

export interface ListResult {
  rows: { id: string; data: string }[];
  next?: Cursor;
  count?: number;
}

export type CountQuery = Pick<ListQuery, 'filter' | 'search' | 'advanced' | 'deleted'>;

/** Graph's maximum $top for directory collections. */
export const MAX_TOP = 999;
/** Beyond this many OR branches the per-branch queries cost more than they save; run one query. */
const MAX_BRANCHES = 8;

type Bool = RawBuilder<SqlBool>;

function flattenOr<T extends { kind: string }>(n: T): T[] {
  const x = n as T & { left?: T; right?: T };
  return n.kind === 'or' && x.left && x.right ? [...flattenOr(x.left), ...flattenOr(x.right)] : [n];
}

/** Tenant and live/deleted scoping: always the leading, indexed part of the predicate. */
function scope(catalog: ResourceCatalog, alias: string, tenantId: string, deleted: boolean): Bool[] {
  const ref = (c: string) => sql.ref(`${alias}.${c}`);
  return [
    sql<SqlBool>`${ref('tenant_id')} = ${tenantId}`,
    deleted ? sql<SqlBool>`${ref('deleted_at')} is not null` : sql<SqlBool>`${ref('deleted_at')} is null`,
  ];
}

const and = (parts: readonly Bool[]): Bool => sql<SqlBool>`${sql.join(parts, sql` and `)}`;

/**
 * The predicate, as one or more alternatives whose union is the answer. Alternatives come from a top-level
 * OR, so each can be served by its own index range and LIMITed on its own.
 */
function branches(catalog: ResourceCatalog, tenantId: string, q: CountQuery, alias: string): { whole: Bool; alts: Bool[] } {
  const opts = { alias, advanced: q.advanced };
  const base = scope(catalog, alias, tenantId, q.deleted);
  const filter = q.filter ? compileFilter(q.filter, catalog, tenantId, opts) : undefined;
  const search = q.search ? compileSearch(q.search, catalog, tenantId, opts) : undefined;
  const whole = and([...base, ...(filter ? [filter] : []), ...(search ? [search] : [])]);

  const searchAlts = q.search ? flattenOr(q.search) : [];
  if (searchAlts.length > 1 && searchAlts.length <= MAX_BRANCHES) {
    const alts = searchAlts.map((alt) => and([...base, ...(filter ? [filter] : []), compileSearch(alt, catalog, tenantId, opts)]));
    return { whole, alts };
  }
  const filterAlts = q.filter ? flattenOr(q.filter) : [];
  if (filterAlts.length > 1 && filterAlts.length <= MAX_BRANCHES) {
    const alts = filterAlts.map((alt) => and([...base, compileFilter(alt, catalog, tenantId, opts), ...(search ? [search] : [])]));
    return { whole, alts };
  }
  return { whole, alts: [whole] };
}

export async function listObjects(
  db: Kysely<Database>,
  catalog: ResourceCatalog,
  tenantId: string,
  q: ListQuery,
): Promise<ListResult> {
  if (!Number.isInteger(q.top) || q.top < 1 || q.top > MAX_TOP) {
    throw errors.badRequest(`Invalid page size specified: '${q.top}'. Must be between 1 and ${MAX_TOP} inclusive.`);
  }
  const sorted = (q.orderBy?.length ?? 0) > 0;
  // Graph sorts a filtered set only as an advanced query.
  if (sorted && q.filter && !q.advanced) throw errors.unsupportedQuery('Sorting not supported for current query.');
  const cursor = q.cursor;
  if (cursor && (cursor.kind === 'offset') !== sorted) {
    throw errors.badRequest('The $skiptoken does not belong to this query.');
  }

  const alias = catalog.table;
  const table = sql`${sql.table(catalog.table)} as ${sql.id(alias)}`;
  const id = sql.ref(`${alias}.id`);
  const order = compileOrderBy(q.orderBy ?? [], catalog, { alias });
  const offset = cursor?.kind === 'offset' ? cursor.offset : 0;
  const keyset: Bool[] = cursor?.kind === 'after' ? [sql<SqlBool>`${id} > ${cursor.id}`] : [];
  const limit = q.top + 1;

  const { alts } = branches(catalog, tenantId, q, alias);
  let page: RawBuilder<{ id: string; data: string }>;
  if (alts.length === 1) {
    page = sql<{ id: string; data: string }>`select ${id}, ${sql.ref(`${alias}.data`)} from ${table}
      where ${and([...alts, ...keyset])} order by ${order} limit ${limit} offset ${offset}`;
  } else {
    // Each branch needs at most offset + top + 1 rows for the union's first offset + top + 1 to be right.
    const perBranch = offset + limit;
    const subs = alts.map(
      (alt, i) => sql`select ${sql.id('id')} from (select ${id} from ${table} where ${and([alt, ...keyset])}
        order by ${order} limit ${perBranch}) as ${sql.id(`b${i}`)}`,
    );
    page = sql<{ id: string; data: string }>`select ${id}, ${sql.ref(`${alias}.data`)} from ${table}
      where ${sql.ref(`${alias}.tenant_id`)} = ${tenantId} and ${id} in (${sql.join(subs, sql` union `)})
      order by ${order} limit ${limit} offset ${offset}`;
  }

  const [{ rows }, count] = await Promise.all([
    page.execute(db),
    q.count ? countObjects(db, catalog, tenantId, q) : Promise.resolve(undefined),
  ]);
  const result: ListResult = { rows: rows.slice(0, q.top).map((r) => ({ id: r.id, data: r.data })) };
  if (rows.length > q.top) {
    const last = result.rows[result.rows.length - 1] as { id: string };
    result.next = sorted ? { kind: 'offset', offset: offset + q.top } : { kind: 'after', id: last.id };
  }
  if (count !== undefined) result.count = count;
  return result;
}

/** Number of matches (`/users/$count`, `@odata.count`). */
export async function countObjects(
  db: Kysely<Database>,
  catalog: ResourceCatalog,
  tenantId: string,
  q: CountQuery,
): Promise<number> {
  const alias = catalog.table;
  // Counting reads every match anyway, so the whole predicate in one query is cheapest.
  const { whole } = branches(catalog, tenantId, q, alias);
  const { rows } = await sql<{ n: number | string | bigint }>`select count(*) as n
    from ${sql.table(catalog.table)} as ${sql.id(alias)} where ${whole}`.execute(db);
  return Number(rows[0]?.n ?? 0);
}
