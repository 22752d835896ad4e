// One page of a directory collection (`GET /users?$filter&$search&$orderby&$top`), plus its count.
//
// A page must cost O(top), not O(matches): on a 1M-user tenant `startsWith(displayName,'mar')` can match
// 100k rows, and sorting those by id to return 25 took ~400 ms in our measurement. So without $orderby
// the page order is the order of the index that finds the rows (the "driver"), read with a LIMIT and a
// keyset cursor:
// - a $search term on a tokenized property drives from search_tokens in (token, object_id) order, each
//   object taken at its first matching token so it appears once;
// - else a prefix range (startsWith, endsWith via the reversed column, or a prefix-searched property)
//   on an indexed column drives in (column, id) order;
// - else rows come in id order.
// Graph promises no order without $orderby, so this is ours to choose; the order is stable across
// pages, and inserts behind the cursor never shift a page.
//
// A top-level OR (of $search terms, else of $filter terms) is served branch by branch: branch 0's
// matches first, then branch 1's matches that branch 0 did not have, and so on, each LIMITed on its
// own index. UNION-then-LIMIT would first materialize every match of every branch, 10–100× slower at
// the tail on 1M rows (shared/peers/sqlite-limit). With $orderby the order is the caller's: the cursor
// is an offset, and an OR runs as per-branch LIMITed subqueries merged and cut again.
import type { Kysely } from 'kysely';
import type { ResourceCatalog } from '../../domain/catalog.js';
import { errors } from '../../domain/errors.js';
import { type FilterNode, foldCase, type OrderBy, prefixUpperBound, type SearchNode, tokenize } from '../../domain/odata.js';
import type { Database } from '../schema.js';
import {
  compileFilter,
  compileOrderBy,
  compileSearch,
  findProperty,
  objectTokens,
  searchProperty,
} from './compile.js';
import { peopleIndexOf } from '../people/cache.js';
import { flatten, INDEXED, MAX_BRANCHES } from './drivers.js';
import { dialectOf, run, type Sql, type SqlDialect, sql } from './sqlText.js';
import { tenantNo as tenantKey } from '../repos/tenantKeys.js';
import { userValueSql } from '../repos/userData.js';
import { usersRepo } from '../repos/users.js';

/** Where the next page starts. JSON-serializable; the API layer wraps it into an opaque $skiptoken. */
export type Cursor =
  /** Keyset: resume in OR-branch `branch` after the row with driver key `key` and id `id`. */
  | { readonly kind: 'after'; readonly branch: number; readonly key: string | null; readonly id: string }
  | { readonly kind: 'offset'; readonly offset: number };

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
  /**
   * Properties to return: each row's `data` is then the JSON object of just these keys, in this order,
   * null where a key is absent, built by the database (see dataColumn). Without it, the stored object.
   */
  render?: readonly string[];
}

export interface ListResult {
  /** `data`: the stored object as JSON text, or its projection when the query asked to `render`. */
  rows: { id: string; data: string }[];
  next?: Cursor;
  count?: number;
}

export type CountQuery = Pick<ListQuery, 'filter' | 'search' | 'advanced' | 'deleted'>;

/** Graph's maximum $top for directory collections. */
export const MAX_TOP = 999;
type Bool = Sql;
type Driver =
  | { kind: 'id' }
  | { kind: 'column'; column: string }
  | { kind: 'token'; prop: string; piece: string };
interface Branch {
  where: Bool;
  driver: Driver;
}
interface Row {
  id: string;
  data: string;
  k: string | null;
}

const and = (parts: readonly Bool[]): Bool => sql`${sql.join(parts, sql` and `)}`;
/** Two-valued NOT: a row whose predicate is NULL (null column) did not match, so it is "not matched". */
const notMatched = (p: Bool): Bool => sql`not coalesce(${p}, false)`;

/** Token-range sizes, by `prop` + NUL + piece, for terms of several words (see pieceCounts). */
type PieceCounts = ReadonlyMap<string, number>;
const pieceKey = (prop: string, piece: string) => `${prop}\u0000${piece}`;

/**
 * Bounds the count so measuring a very common word costs at most this many index steps (~1 ms); any
 * range at the bound is "large", and the walk then takes the rarest of the others.
 */
const PIECE_COUNT_BOUND = 5000;

/**
 * For each search term of several words ("mar smi"), how many tokens each word's range holds. The page
 * walks one word's range and probes the others per row; walking the common word when few objects have
 * both took 4.6 s at 1M users, walking the rarer one takes milliseconds. One bounded COUNT per word.
 */
async function pieceCounts(
  db: Kysely<Database>, catalog: ResourceCatalog, tenantNo: number, search: SearchNode | undefined, cursorKey: string | null,
): Promise<PieceCounts> {
  const counts = new Map<string, number>();
  const terms = flatten(search, 'or').flatMap((alt) => flatten(alt, 'and'));
  for (const term of terms) {
    if (term.kind !== 'term') continue;
    const prop = searchProperty(catalog, term);
    const pieces = prop.search === 'tokens' ? tokenize(term.text) : [];
    if (pieces.length < 2) continue;
    // A later page keeps walking the range its cursor came from (the token it stopped at starts with
    // that word), even if writes since the first page changed which word is rarer.
    const resumed = cursorKey === null ? undefined : pieces.filter((p) => cursorKey.startsWith(p)).sort((a, b) => b.length - a.length)[0];
    for (const piece of pieces) {
      const key = pieceKey(prop.name, piece);
      if (resumed !== undefined) {
        counts.set(key, piece === resumed ? 0 : Number.POSITIVE_INFINITY);
        continue;
      }
      if (counts.has(key)) continue;
      const upper = prefixUpperBound(piece);
      const range = upper === null ? sql`token >= ${piece}` : sql`token >= ${piece} and token < ${upper}`;
      const rows = await run<{ n: number | string }>(db, sql`select count(*) as n from (select 1 from search_tokens
        where tenant_no = ${tenantNo} and object_type = ${catalog.objectType} and prop = ${prop.name} and ${range}
        limit ${sql.int(PIECE_COUNT_BOUND)}) as bounded`);
      counts.set(key, Number(rows[0]?.n ?? 0));
    }
  }
  return counts;
}

/** The index that should find a branch's rows: the first usable search term, else the first prefix filter. */
function pickDriver(catalog: ResourceCatalog, search: SearchNode | undefined, filter: FilterNode | undefined, counts: PieceCounts): Driver {
  const indexed = INDEXED[catalog.table] ?? new Set<string>();
  for (const term of flatten(search, 'and')) {
    if (term.kind !== 'term') continue;
    const prop = searchProperty(catalog, term);
    if (prop.search === 'tokens') {
      // Walk the word whose token range is smallest (measured for several words; the longest word
      // otherwise, as the likeliest to be rare); the others are probed per row.
      const size = (p: string) => counts.get(pieceKey(prop.name, p)) ?? Number.POSITIVE_INFINITY;
      const piece = tokenize(term.text).reduce((a, b) =>
        (a === '' || size(b) < size(a) || (size(b) === size(a) && b.length > a.length) ? b : a), '');
      if (piece !== '') return { kind: 'token', prop: prop.name, piece };
    } else if (foldCase(term.text.trim()) !== '' && indexed.has(prop.column)) {
      return { kind: 'column', column: prop.column };
    }
  }
  for (const f of flatten(filter, 'and')) {
    if (f.kind !== 'call' || f.path.length !== 1 || f.value.kind !== 'string' || f.value.value === '') continue;
    const prop = findProperty(catalog, f.path[0] as string);
    if (prop?.kind !== 'scalar') continue;
    const column = f.fn === 'startsWith' ? prop.column : prop.reversedColumn;
    if (column && indexed.has(column)) return { kind: 'column', column };
  }
  return { kind: 'id' };
}

/** The branches whose union is the answer, each with its own predicate and driver. */
function plan(
  catalog: ResourceCatalog,
  tenantNo: number,
  q: CountQuery,
  alias: string,
  dialect: SqlDialect,
  counts: PieceCounts = new Map(),
  /** False when branches are read without their drivers ($orderby): then nothing may be left out. */
  driven = true,
): { whole: Bool; branches: Branch[] } {
  const opts = { alias, advanced: q.advanced, dialect };
  const ref = (c: string) => sql.ref(`${alias}.${c}`);
  const base = [
    sql`${ref('tenant_no')} = ${tenantNo}`,
    q.deleted ? sql`${ref('deleted_at')} is not null` : sql`${ref('deleted_at')} is null`,
  ];
  const filter = q.filter ? [compileFilter(q.filter, catalog, tenantNo, opts)] : [];
  // A branch driven by a token range already holds only objects with a token in that range: the probe
  // for that piece would re-check every row it returns (a third of a people-search query's SQLite time).
  const search = (n: SearchNode, driver?: Driver) =>
    compileSearch(n, catalog, tenantNo, {
      ...opts, form: 'exists', ...(driven && driver?.kind === 'token' ? { implied: { prop: driver.prop, piece: driver.piece } } : {}),
    });
  const whole = and([...base, ...filter, ...(q.search ? [compileSearch(q.search, catalog, tenantNo, opts)] : [])]);

  const searchAlts = flatten(q.search, 'or');
  const filterAlts = flatten(q.filter, 'or');
  // Branch i: its own predicate (`own`, which may leave out what its driver implies) and none of the
  // earlier branches' whole predicates (`full`), so each match is served by exactly one branch.
  const split = (own: Bool[], full: Bool[], rest: (d: Driver) => Bool[], drivers: Driver[]): Branch[] =>
    own.map((alt, i) => {
      const driver = drivers[i] as Driver;
      return { where: and([...base, ...rest(driver), alt, ...full.slice(0, i).map(notMatched)]), driver };
    });
  if (searchAlts.length > 1 && searchAlts.length <= MAX_BRANCHES) {
    const drivers = searchAlts.map((s) => pickDriver(catalog, s, q.filter, counts));
    const own = searchAlts.map((s, i) => search(s, drivers[i]));
    return { whole, branches: split(own, searchAlts.map((s) => search(s)), () => filter, drivers) };
  }
  const searchPart = (d: Driver) => (q.search ? [search(q.search, d)] : []);
  if (filterAlts.length > 1 && filterAlts.length <= MAX_BRANCHES) {
    const alts = filterAlts.map((f) => compileFilter(f, catalog, tenantNo, opts));
    return { whole, branches: split(alts, alts, searchPart, filterAlts.map((f) => pickDriver(catalog, q.search, f, counts))) };
  }
  const driver = pickDriver(catalog, q.search, q.filter, counts);
  return { whole, branches: [{ where: and([...base, ...filter, ...searchPart(driver)]), driver }] };
}

/**
 * The `data` column, or with `keys` the JSON text of the object cut to those keys. Rendering a page in
 * the database spares parsing every stored object (~0.7 KB each) and serializing it again in JavaScript,
 * which cost more CPU than the query itself; the keys are bound values, so one statement serves every
 * $select of the same length.
 */
function dataColumn(table: string, alias: string, keys: readonly string[] | undefined, dialect: SqlDialect): Sql {
  const data = sql.ref(`${alias}.data`);
  if (!keys) return data;
  // A user's `data` holds only what its columns don't (repos/userData.ts): each key is read back from both.
  const value = table === 'users'
    ? (k: string) => userValueSql(dialect, alias, k)
    : (k: string) => (dialect === 'sqlite' ? sql`${data} -> ${k}` : sql`(${data}::json) -> ${k}::text`);
  const chunks: Sql[] = [];
  for (let i = 0; i < keys.length; i += KEYS_PER_OBJECT) {
    const part = keys.slice(i, i + KEYS_PER_OBJECT);
    chunks.push(dialect === 'sqlite'
      ? sql`json_object(${sql.join(part.map((k) => sql`${k}, ${value(k)}`))})`
      // json (not jsonb) keeps the keys in the order given; ::text so the driver hands back the text as is.
      : sql`json_build_object(${sql.join(part.map((k) => sql`${k}::text, ${value(k)}`))})::text`);
  }
  if (chunks.length === 1) return chunks[0] as Sql;
  // Several objects' texts spliced into one: '{a…}' + '{b…}' → '{a…, b…}'.
  const inner = chunks.map((c, i) => {
    if (i === 0) return sql`substr(${c}, 1, length(${c}) - 1)`;
    if (i === chunks.length - 1) return sql`substr(${c}, 2)`;
    return sql`substr(${c}, 2, length(${c}) - 2)`;
  });
  return sql`(${sql.join(inner, sql` || ',' || `)})`;
}

/**
 * Keys per JSON-builder call: PostgreSQL takes at most 100 function arguments (a key and a value each);
 * a `$select` of more properties is built from several objects spliced together.
 */
const KEYS_PER_OBJECT = 40;

/** One branch's rows in driver order, after `after`, at most `limit`. */
function branchPage(
  catalog: ResourceCatalog,
  tenantNo: number,
  alias: string,
  b: Branch,
  after: { key: string | null; id: string } | undefined,
  limit: number,
  dialect: SqlDialect,
  render: readonly string[] | undefined,
): Sql {
  const table = sql`${sql.id(catalog.table)} as ${sql.id(alias)}`;
  const ref = (c: string) => sql.ref(`${alias}.${c}`);
  const cols = sql`${ref('id')} as ${sql.id('id')}, ${dataColumn(catalog.table, alias, render, dialect)} as ${sql.id('data')}`;
  const d = b.driver;
  if (d.kind === 'id') {
    const keyset = after ? sql` and ${ref('id')} > ${after.id}` : sql``;
    return sql`select ${cols}, null as k from ${table} where ${b.where}${keyset} order by ${ref('id')} limit ${sql.int(limit)}`;
  }
  if (d.kind === 'column') {
    const k = ref(d.column);
    const keyset = after ? sql` and ${k} >= ${after.key} and (${k} > ${after.key} or ${ref('id')} > ${after.id})` : sql``;
    return sql`select ${cols}, ${k} as k from ${table} where ${b.where}${keyset}
      order by ${k}, ${ref('id')} limit ${sql.int(limit)}`;
  }
  // Token driver: walk the token index range in order. An object with several tokens in the range (Mary
  // Marsh for "mar") is taken only at its first one, which the NOT EXISTS probe over its own tokens checks.
  const upper = prefixUpperBound(d.piece);
  const range = (c: Sql) => (upper === null ? sql`${c} >= ${d.piece}` : sql`${c} >= ${d.piece} and ${c} < ${upper}`);
  const scope = (t: string) =>
    sql`${sql.ref(`${t}.tenant_no`)} = ${tenantNo} and ${sql.ref(`${t}.object_type`)} = ${catalog.objectType} and ${sql.ref(`${t}.prop`)} = ${d.prop}`;
  const keyset = after
    ? sql` and drv.token >= ${after.key} and (drv.token > ${after.key} or drv.object_id > ${after.id})`
    : sql``;
  // CROSS JOIN fixes the join order on SQLite (token index first); PostgreSQL plans it as an inner join.
  return sql`select ${cols}, drv.token as k from search_tokens as drv cross join ${table}
    where ${scope('drv')} and ${range(sql.ref('drv.token'))}${keyset}
      and not exists (select 1 from ${objectTokens('fst', sql.ref('drv.object_id'), tenantNo, dialect)}
        and ${scope('fst')} and ${range(sql.ref('fst.token'))} and fst.token < drv.token)
      and ${ref('tenant_no')} = ${tenantNo} and ${ref('id')} = drv.object_id and ${b.where}
    order by drv.token, drv.object_id limit ${sql.int(limit)}`;
}

function validate(q: ListQuery, sorted: boolean, branchCount: number): void {
  if (!Number.isInteger(q.top) || q.top < 1 || q.top > MAX_TOP) {
    throw errors.badRequest(`Invalid page size specified: '${q.top}'. Must be between 1 and ${MAX_TOP} inclusive.`);
  }
  // Graph sorts a filtered set only as an advanced query.
  if (sorted && q.filter && !q.advanced) throw errors.unsupportedQuery('Sorting not supported for current query.');
  const c = q.cursor;
  const fits =
    !c ||
    (c.kind === 'offset'
      ? sorted && Number.isInteger(c.offset) && c.offset >= 0
      : !sorted && Number.isInteger(c.branch) && c.branch >= 0 && c.branch < branchCount);
  if (!fits) throw errors.badRequest('The $skiptoken does not belong to this query.');
}

/** A page: from the people index where it holds the tenant and the query's shape (store/people), else SQL. */
export async function listObjects(
  db: Kysely<Database>,
  catalog: ResourceCatalog,
  tenantId: string,
  q: ListQuery,
): Promise<ListResult> {
  return (await peopleIndexOf(db)?.list(catalog, tenantId, q)) ?? queryObjects(db, catalog, tenantId, q);
}

/** A page from SQL, whatever index the store keeps in memory. */
export async function queryObjects(
  db: Kysely<Database>,
  catalog: ResourceCatalog,
  tenantId: string,
  q: ListQuery,
): Promise<ListResult> {
  const tenantNo = await tenantKey(db, tenantId);
  const alias = catalog.table;
  const sorted = (q.orderBy?.length ?? 0) > 0;
  const dialect = dialectOf(db);
  const counts = sorted ? new Map<string, number>() : await pieceCounts(db, catalog, tenantNo, q.search, q.cursor?.kind === 'after' ? q.cursor.key : null);
  const { branches } = plan(catalog, tenantNo, q, alias, dialect, counts, !sorted);
  validate(q, sorted, branches.length);
  const counting = q.count ? countObjects(db, catalog, tenantId, q) : undefined;
  // Don't leave the count's promise unobserved if the page query fails first.
  counting?.catch(() => undefined);

  const result: ListResult = { rows: [] };
  if (sorted) {
    const offset = q.cursor?.kind === 'offset' ? q.cursor.offset : 0;
    const rows = await sortedPage(db, catalog, tenantNo, alias, q.orderBy ?? [], branches, offset, q.top + 1, dataColumn(catalog.table, alias, q.render, dialect));
    result.rows = rows.slice(0, q.top);
    if (rows.length > q.top) result.next = { kind: 'offset', offset: offset + q.top };
  } else {
    const start = q.cursor?.kind === 'after' ? q.cursor : undefined;
    const tagged: (Row & { branch: number })[] = [];
    for (let i = start?.branch ?? 0; i < branches.length && tagged.length <= q.top; i++) {
      const after = start && i === start.branch ? start : undefined;
      const page = branchPage(catalog, tenantNo, alias, branches[i] as Branch, after, q.top + 1 - tagged.length, dialect, q.render);
      for (const r of await run<Row>(db, page)) tagged.push({ id: r.id, data: r.data, k: r.k, branch: i });
    }
    result.rows = tagged.length > q.top ? tagged.slice(0, q.top) : tagged;
    const last = tagged[q.top - 1];
    if (tagged.length > q.top && last) {
      result.next = { kind: 'after', branch: last.branch, key: last.k === null ? null : String(last.k), id: last.id };
    }
  }
  // Without `render` a page carries whole objects; a user's are put together from its row (repos/userData.ts).
  if (catalog.table === 'users' && !q.render && result.rows.length) {
    const whole = new Map((await usersRepo.objects(db, tenantId, result.rows.map((r) => r.id))).map((o) => [o.id, o.data]));
    result.rows = result.rows.map((r) => ({ ...r, data: whole.get(r.id) ?? r.data }));
  }
  if (counting) result.count = await counting;
  return result;
}

/** $orderby pages: ORDER BY … id LIMIT/OFFSET; an OR as per-branch LIMITed id lists merged and cut again. */
async function sortedPage(
  db: Kysely<Database>,
  catalog: ResourceCatalog,
  tenantNo: number,
  alias: string,
  orderBy: readonly OrderBy[],
  branches: Branch[],
  offset: number,
  limit: number,
  data: Sql,
): Promise<Row[]> {
  const table = sql`${sql.id(catalog.table)} as ${sql.id(alias)}`;
  const id = sql.ref(`${alias}.id`);
  const order = compileOrderBy(orderBy, catalog, { alias });
  const cols = sql`${id} as ${sql.id('id')}, ${data} as ${sql.id('data')}, null as k`;
  let where: Bool = (branches[0] as Branch).where;
  if (branches.length > 1) {
    // The union's first offset + limit rows are among each branch's first offset + limit rows.
    const subs = branches.map(
      (b, i) => sql`select ${sql.id('id')} from (select ${id} from ${table} where ${b.where}
        order by ${order} limit ${sql.int(offset + limit)}) as ${sql.id(`b${i}`)}`,
    );
    where = sql`${sql.ref(`${alias}.tenant_no`)} = ${tenantNo} and ${id} in (${sql.join(subs, sql` union `)})`;
  }
  return run<Row>(db, sql`select ${cols} from ${table} where ${where}
    order by ${order} limit ${sql.int(limit)} offset ${offset}`);
}

/** Number of matches (`/users/$count`, `@odata.count`). */
export async function countObjects(
  db: Kysely<Database>,
  catalog: ResourceCatalog,
  tenantId: string,
  q: CountQuery,
): Promise<number> {
  const tenantNo = await tenantKey(db, tenantId);
  const alias = catalog.table;
  // Counting reads every match anyway, so the whole predicate in one query (IN-form search) is cheapest.
  const { whole } = plan(catalog, tenantNo, q, alias, dialectOf(db));
  const rows = await run<{ n: number | string | bigint }>(db, sql`select count(*) as n
    from ${sql.id(catalog.table)} as ${sql.id(alias)} where ${whole}`);
  return Number(rows[0]?.n ?? 0);
}
