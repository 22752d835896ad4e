// Compile OData trees into SQL predicates over a resource's main table, driven by the catalog: the
// catalog says which column holds a property and which operators Graph allows on it, so a query can't
// reach a column Graph wouldn't index, and the error texts are Graph's.
//
// Shape of what comes out, chosen so a B-tree answers every leaf on SQLite and PostgreSQL alike:
// - strings are compared against the lowercased `*_lc` columns with a lowercased literal;
// - startsWith is a range `col >= p AND col < next(p)` (never LIKE), endsWith the same range on the
//   reversed column with the reversed literal;
// - a collection's any() is a semi-join `id IN (SELECT owner FROM values WHERE tenant_no, attr, …)`, which
//   the (tenant_no, attr, v1) index serves; for users, UNION the users whose row implies an item and so has
//   no values row (repos/userData.ts impliedUserValues), each leaf rewritten onto the column that holds it
//   (`v1 = 'smtp:x'` is `mail_lc = 'x'`), so the users indexes serve that half;
// - a $search term on a tokenized property is `id IN (SELECT object_id FROM search_tokens …)` per piece
//   (or the correlated EXISTS form, see SearchCompileOptions).
// Every value is a bound parameter; identifiers come from the catalog, never from the request.
//
// Null semantics (OData's, which Graph follows): `eq null` is IS NULL; `ne 'x'` is true for null (null is
// not equal to 'x'); `not(p)` is true wherever `p` is not true, so `not(startsWith(mail,'a'))` includes
// users without a mail. To get that without SQL's three-valued NULL leaking through a NOT, negation is
// pushed down to the leaves (De Morgan), and each negated leaf states its null case explicitly.
import { type Sql, type SqlDialect, sql } from './sqlText.js';
import type {
  CatalogProperty,
  CollectionProperty,
  FilterOp,
  ResourceCatalog,
  ScalarProperty,
  ScalarType,
} from '../../domain/catalog.js';
import { errors } from '../../domain/errors.js';
import {
  type CompareOp,
  type FilterNode,
  foldCase,
  type Literal,
  type OrderBy,
  prefixUpperBound,
  reverseText,
  type SearchNode,
  type SearchTerm,
  tokenize,
} from '../../domain/odata.js';
import { type ImpliedField, impliedUserValues } from '../repos/userData.js';

export interface CompileOptions {
  /** The SQL engine (how the implied user_values rows read `data`); SQLite when not given. */
  dialect?: SqlDialect;
  /** Alias of the main table in the surrounding query; defaults to the catalog's table name. */
  alias?: string;
  /** True when the request carries `ConsistencyLevel: eventual` (+ `$count=true` for $filter). */
  advanced?: boolean;
}

type Bool = Sql;

/** Graph's limit on `in` lists; longer lists are refused rather than turned into huge IN clauses. */
export const MAX_IN_VALUES = 15;

const TRUE: Bool = sql`1 = 1`;
const FALSE: Bool = sql`1 = 0`;

/** 'microsoft.graph.user' → 'User', the form Graph's messages use. */
export function resourceShortName(catalog: ResourceCatalog): string {
  const last = catalog.resource.split('.').pop() ?? catalog.resource;
  return last.charAt(0).toUpperCase() + last.slice(1);
}

export const unsupportedProperty = (catalog: ResourceCatalog, property: string) =>
  errors.unsupportedQuery(
    `Unsupported or invalid query filter clause specified for property '${property}' of resource '${resourceShortName(catalog)}'.`,
  );

/** The error for an operator Graph serves only as an advanced query. */
export const advancedOperatorRequired = (operator: string) =>
  errors.unsupportedQuery(
    `Operator '${operator}' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information`,
  );

/** Case-insensitive property lookup, as Graph accepts `displayname` for `displayName`. */
export function findProperty(catalog: ResourceCatalog, name: string): CatalogProperty | undefined {
  const exact = catalog.properties[name];
  if (exact) return exact;
  const lower = name.toLowerCase();
  return Object.values(catalog.properties).find((p) => p.name.toLowerCase() === lower);
}

/** Something a leaf can compare: a scalar column, or a field of a collection item inside any(). */
interface Target {
  name: string;
  /** Inside an implied row (see lambda): the value is `prefix || col`, its reverse `rev || reverse(prefix)`. */
  prefix?: string;
  type: ScalarType;
  col: Sql;
  rev: Sql | null;
  filter: readonly FilterOp[];
  advanced: readonly FilterOp[];
}

interface Ctx {
  catalog: ResourceCatalog;
  tenantNo: number;
  alias: string;
  advanced: boolean;
  /** Set inside any(): the range variable and the collection it ranges over. */
  lambda?: { variable: string; prop: CollectionProperty; implied?: Record<string, ImpliedField> };
  dialect: SqlDialect;
}

const VALUES_ALIAS = 'vals';
const IMPLIED_ALIAS = 'ivals';
const ref = (alias: string, column: string) => sql.ref(`${alias}.${column}`);

function allow(ctx: Ctx, t: Target, op: FilterOp, shown: string): void {
  if (t.filter.includes(op)) return;
  if (t.advanced.includes(op)) {
    if (ctx.advanced) return;
    throw advancedOperatorRequired(shown);
  }
  throw unsupportedProperty(ctx.catalog, t.name);
}

function resolve(ctx: Ctx, path: readonly string[]): Target {
  const shown = path.join('/');
  if (ctx.lambda) {
    const { variable, prop } = ctx.lambda;
    if (path[0] !== variable || path.length > 2) throw unsupportedProperty(ctx.catalog, `${prop.name}/${shown}`);
    const field = path[1] ?? '';
    const key = Object.keys(prop.fields).find((k) => k.toLowerCase() === field.toLowerCase());
    const column = key === undefined ? undefined : prop.fields[key];
    if (column === undefined) throw unsupportedProperty(ctx.catalog, field === '' ? prop.name : `${prop.name}/${field}`);
    const implied = ctx.lambda.implied?.[column];
    if (implied) {
      return {
        name: prop.name, type: 'string', prefix: implied.prefix, col: implied.col,
        rev: prop.reversed ? implied.rev : null, filter: prop.filter, advanced: prop.advanced ?? [],
      };
    }
    return {
      name: prop.name,
      type: 'string',
      col: ref(VALUES_ALIAS, column),
      rev: prop.reversed && column === 'v1' ? ref(VALUES_ALIAS, 'v1_rev') : null,
      filter: prop.filter,
      advanced: prop.advanced ?? [],
    };
  }
  const prop = path.length === 1 && path[0] !== undefined ? findProperty(ctx.catalog, path[0]) : undefined;
  if (prop?.kind !== 'scalar') throw unsupportedProperty(ctx.catalog, shown);
  return {
    name: prop.name,
    type: prop.type,
    col: ref(ctx.alias, prop.column),
    rev: prop.reversedColumn ? ref(ctx.alias, prop.reversedColumn) : null,
    filter: prop.filter,
    advanced: prop.advanced ?? [],
  };
}

const EDM: Record<ScalarType, string> = {
  string: 'Edm.String',
  boolean: 'Edm.Boolean',
  datetime: 'Edm.DateTimeOffset',
  guid: 'Edm.Guid',
  int: 'Edm.Int32',
};
const LITERAL_EDM: Record<Literal['kind'], string> = {
  string: 'Edm.String',
  number: 'Edm.Int32',
  boolean: 'Edm.Boolean',
  null: 'null',
  guid: 'Edm.Guid',
  dateTimeOffset: 'Edm.DateTimeOffset',
};
const OP_KIND: Record<string, string> = {
  eq: 'Equal',
  ne: 'NotEqual',
  gt: 'GreaterThan',
  ge: 'GreaterThanOrEqual',
  lt: 'LessThan',
  le: 'LessThanOrEqual',
  in: 'In',
  startsWith: 'StartsWith',
  endsWith: 'EndsWith',
};

/** The literal in the column's stored form: lowercased text, 0/1 booleans, ISO-8601 UTC timestamps. */
function toColumnValue(t: Target, l: Literal, op: string): string | number {
  const mismatch = () =>
    errors.badRequest(
      `A binary operator with incompatible types was detected. Found operand types '${EDM[t.type]}' and '${LITERAL_EDM[l.kind]}' for operator kind '${OP_KIND[op] ?? op}'.`,
    );
  switch (t.type) {
    case 'string':
      if (l.kind !== 'string') throw mismatch();
      return foldCase(l.value);
    case 'guid':
      if (l.kind !== 'guid' && l.kind !== 'string') throw mismatch();
      return foldCase(l.value);
    case 'boolean':
      if (l.kind !== 'boolean') throw mismatch();
      return l.value ? 1 : 0;
    case 'int':
      if (l.kind !== 'number' || !Number.isInteger(l.value)) throw mismatch();
      return l.value;
    case 'datetime': {
      if (l.kind !== 'dateTimeOffset' && l.kind !== 'string') throw mismatch();
      const ms = Date.parse(l.value);
      if (Number.isNaN(ms)) throw errors.badRequest(`The value '${l.value}' is not a valid DateTimeOffset.`);
      return new Date(ms).toISOString();
    }
  }
}

/** `col` starts with `p` (a range, so the B-tree serves it), or, negated, does not (nulls included). */
function prefix(col: Sql, p: string, positive: boolean): Bool {
  if (p === '') return positive ? sql`${col} is not null` : sql`${col} is null`;
  const upper = prefixUpperBound(p);
  if (positive) return upper === null ? sql`${col} >= ${p}` : sql`(${col} >= ${p} and ${col} < ${upper})`;
  return upper === null
    ? sql`(${col} is null or ${col} < ${p})`
    : sql`(${col} is null or ${col} < ${p} or ${col} >= ${upper})`;
}

const NEGATED: Record<'gt' | 'ge' | 'lt' | 'le', string> = { gt: '<=', ge: '<', lt: '>=', le: '>' };
const SQL_OP: Record<'gt' | 'ge' | 'lt' | 'le', string> = { gt: '>', ge: '>=', lt: '<', le: '<=' };

function compare(ctx: Ctx, op: CompareOp, path: readonly string[], l: Literal, positive: boolean, viaNot: boolean): Bool {
  const t = resolve(ctx, path);
  if (viaNot) allow(ctx, t, 'not', 'not');
  if (l.kind === 'null') {
    if (op !== 'eq' && op !== 'ne') throw unsupportedProperty(ctx.catalog, t.name);
    allow(ctx, t, 'eqNull', op);
    if (op === 'ne') allow(ctx, t, 'ne', 'ne');
    return (op === 'eq') === positive ? sql`${t.col} is null` : sql`${t.col} is not null`;
  }
  if (op === 'eq' || op === 'ne') {
    allow(ctx, t, op, op);
    const v = toColumnValue(t, l, op);
    if (t.prefix) return negate(equalsPrefixed(t, [v as string]), (op === 'eq') === positive);
    return (op === 'eq') === positive ? sql`${t.col} = ${v}` : sql`(${t.col} is null or ${t.col} <> ${v})`;
  }
  allow(ctx, t, 'range', op);
  const v = toColumnValue(t, l, op);
  if (t.prefix) t.col = sql`(${t.prefix} || ${t.col})`;
  return positive
    ? sql`${t.col} ${sql.raw(SQL_OP[op])} ${v}`
    : sql`(${t.col} is null or ${t.col} ${sql.raw(NEGATED[op])} ${v})`;
}

function inList(ctx: Ctx, path: readonly string[], values: readonly Literal[], positive: boolean, viaNot: boolean): Bool {
  const t = resolve(ctx, path);
  if (viaNot) allow(ctx, t, 'not', 'not');
  allow(ctx, t, 'in', 'in');
  if (values.length > MAX_IN_VALUES) {
    throw errors.badRequest(
      `Invalid filter clause: the 'in' operator accepts at most ${MAX_IN_VALUES} values; ${values.length} were given.`,
    );
  }
  const hasNull = values.some((v) => v.kind === 'null');
  if (hasNull) allow(ctx, t, 'eqNull', 'eq');
  const list = values.filter((v) => v.kind !== 'null').map((v) => toColumnValue(t, v, 'in'));
  // An implied value is never null (its guard says so).
  if (t.prefix) return negate(equalsPrefixed(t, list as string[]), positive);
  const inSql = list.length === 0 ? FALSE : sql`${t.col} in (${sql.join(list)})`;
  const notInSql = list.length === 0 ? TRUE : sql`${t.col} not in (${sql.join(list)})`;
  if (positive) return hasNull ? sql`(${inSql} or ${t.col} is null)` : inSql;
  return hasNull ? sql`(${t.col} is not null and ${notInSql})` : sql`(${t.col} is null or ${notInSql})`;
}

function call(ctx: Ctx, fn: 'startsWith' | 'endsWith', path: readonly string[], l: Literal, positive: boolean, viaNot: boolean): Bool {
  const t = resolve(ctx, path);
  if (viaNot) allow(ctx, t, 'not', 'not');
  allow(ctx, t, fn, fn);
  if (t.type !== 'string') throw unsupportedProperty(ctx.catalog, t.name);
  const v = toColumnValue(t, l, fn) as string;
  if (t.prefix) {
    if (fn === 'endsWith' && !t.rev) throw unsupportedProperty(ctx.catalog, t.name);
    return negate(fn === 'startsWith' ? startsWithPrefixed(t, v) : endsWithPrefixed(t, v), positive);
  }
  if (fn === 'startsWith') return prefix(t.col, v, positive);
  if (!t.rev) throw unsupportedProperty(ctx.catalog, t.name);
  return prefix(t.rev, reverseText(v), positive);
}

const negate = (b: Bool, positive: boolean): Bool => (positive ? b : sql`not (${b})`);
const anyOf = (bs: Bool[]): Bool => (bs.length === 0 ? FALSE : bs.length === 1 ? (bs[0] as Bool) : sql`(${sql.join(bs, sql` or `)})`);

/** `prefix || col` is one of `values`: col is one of them less the prefix. */
function equalsPrefixed(t: Target, values: readonly string[]): Bool {
  const p = t.prefix ?? '';
  const rest = values.filter((v) => v.startsWith(p)).map((v) => v.slice(p.length));
  return rest.length === 0 ? FALSE : rest.length === 1 ? sql`${t.col} = ${rest[0]}` : sql`${t.col} in (${sql.join(rest)})`;
}

/** `prefix || col` starts with `v`: v is within the prefix (any row), or is the prefix and a prefix of col. */
function startsWithPrefixed(t: Target, v: string): Bool {
  const p = t.prefix ?? '';
  if (v.length <= p.length) return p.startsWith(v) ? sql`${t.col} is not null` : FALSE;
  return v.startsWith(p) ? prefix(t.col, v.slice(p.length), true) : FALSE;
}

/**
 * `prefix || col` ends with `v`: its reverse `rev || reverse(prefix)` starts with reverse(v), i.e. rev starts
 * with it, or reverse(v) is rev and then k characters of reverse(prefix): equality probes on rev.
 */
function endsWithPrefixed(t: Target, v: string): Bool {
  const rev = t.rev as Sql;
  const r = reverseText(v);
  const rp = reverseText(t.prefix ?? '');
  const alts = [prefix(rev, r, true)];
  for (let k = 1; k <= Math.min(rp.length, r.length); k++) {
    if (r.endsWith(rp.slice(0, k)) && r.length > k) alts.push(sql`${rev} = ${r.slice(0, r.length - k)}`);
  }
  return anyOf(alts);
}

function lambda(ctx: Ctx, n: Extract<FilterNode, { kind: 'lambda' }>, positive: boolean, viaNot: boolean): Bool {
  const shown = n.collection.join('/');
  const name = n.collection[0];
  const prop = n.collection.length === 1 && name !== undefined ? findProperty(ctx.catalog, name) : undefined;
  if (ctx.lambda || !prop || prop.kind !== 'collection' || n.quantifier !== 'any') {
    throw unsupportedProperty(ctx.catalog, shown);
  }
  if (viaNot) {
    if (!prop.filter.includes('not') && !(prop.advanced ?? []).includes('not')) throw unsupportedProperty(ctx.catalog, prop.name);
    if (!prop.filter.includes('not') && !ctx.advanced) throw advancedOperatorRequired('not');
  }
  const compileBody = (implied?: Record<string, ImpliedField>) =>
    n.variable === null || n.body === null
      ? TRUE
      : compileNode({ ...ctx, lambda: { variable: n.variable, prop, ...(implied ? { implied } : {}) } }, n.body, true, false);
  const owner = `${ctx.catalog.objectType}_id`;
  let sub = sql`select ${ref(VALUES_ALIAS, owner)} from ${sql.id(ctx.catalog.valuesTable)} as ${sql.id(VALUES_ALIAS)}
    where ${ref(VALUES_ALIAS, 'tenant_no')} = ${ctx.tenantNo} and ${ref(VALUES_ALIAS, 'attr')} = ${prop.attr} and ${compileBody()}`;
  const implied = ctx.catalog.valuesTable === 'user_values' ? impliedUserValues(ctx.dialect, IMPLIED_ALIAS)[prop.attr] : undefined;
  if (implied) {
    sub = sql`${sub} union all select ${ref(IMPLIED_ALIAS, 'id')} from ${sql.id(ctx.catalog.table)} as ${sql.id(IMPLIED_ALIAS)}
      where ${ref(IMPLIED_ALIAS, 'tenant_no')} = ${ctx.tenantNo} and ${implied.guard} and ${compileBody(implied.fields)}`;
  }
  const id = ref(ctx.alias, 'id');
  return positive ? sql`${id} in (${sub})` : sql`${id} not in (${sub})`;
}

function compileNode(ctx: Ctx, n: FilterNode, positive: boolean, viaNot: boolean): Bool {
  switch (n.kind) {
    case 'and':
    case 'or': {
      const a = compileNode(ctx, n.left, positive, viaNot);
      const b = compileNode(ctx, n.right, positive, viaNot);
      // De Morgan: under negation `and` becomes `or` and the other way round.
      return (n.kind === 'and') === positive ? sql`(${a} and ${b})` : sql`(${a} or ${b})`;
    }
    case 'not':
      return compileNode(ctx, n.operand, !positive, true);
    case 'compare':
      return compare(ctx, n.op, n.path, n.value, positive, viaNot);
    case 'in':
      return inList(ctx, n.path, n.values, positive, viaNot);
    case 'call':
      return call(ctx, n.fn, n.path, n.value, positive, viaNot);
    case 'lambda':
      return lambda(ctx, n, positive, viaNot);
  }
}

/** `$filter` → a boolean SQL expression over `<alias>.*` (tenant and deletion scoping are the caller's). */
export function compileFilter(node: FilterNode, catalog: ResourceCatalog, tenantNo: number, opts: CompileOptions = {}): Bool {
  const ctx: Ctx = { catalog, tenantNo, alias: opts.alias ?? catalog.table, advanced: opts.advanced ?? false, dialect: opts.dialect ?? 'sqlite' };
  return compileNode(ctx, node, true, false);
}

export interface SearchCompileOptions extends CompileOptions {
  /**
   * How a tokenized term meets the token table. `in` (default): `id IN (SELECT object_id …)`, best when
   * every match is read anyway (counting). `exists`: a correlated probe of the object's own tokens via
   * (tenant_no, object_id), best when another index drives the scan and only a page of rows is checked.
   */
  form?: 'in' | 'exists';
  /**
   * A piece of a tokenized term that the surrounding query already guarantees (its rows come from that
   * token range): no probe is emitted for it. Honoured only where every match needs the piece, i.e. not
   * under an OR.
   */
  implied?: { prop: string; piece: string };
}

/**
 * `$search` → a boolean SQL expression. A term on a `tokens` property matches objects that have, for
 * every piece of the term's text, a token starting with that piece ("ann smi" finds "Smith, Annie");
 * on a `prefix` property it is startsWith on the whole text. Terms without a property are refused:
 * Graph searches directory objects only by named property, and guessing which ones would make the
 * same request mean different things here and there.
 */
export function compileSearch(
  node: SearchNode,
  catalog: ResourceCatalog,
  tenantNo: number,
  opts: SearchCompileOptions = {},
): Bool {
  const alias = opts.alias ?? catalog.table;
  let implied = opts.implied;
  const walk = (n: SearchNode, required: boolean): Bool => {
    if (n.kind !== 'term') {
      const a = walk(n.left, required && n.kind === 'and');
      const b = walk(n.right, required && n.kind === 'and');
      return n.kind === 'and' ? sql`(${a} and ${b})` : sql`(${a} or ${b})`;
    }
    const prop = searchProperty(catalog, n);
    if (prop.search === 'prefix') return prefix(ref(alias, prop.column), foldCase(n.text.trim()), true);
    let pieces = tokenize(n.text);
    if (pieces.length === 0) return FALSE;
    if (required && implied && implied.prop === prop.name && pieces.includes(implied.piece)) {
      const skip = implied.piece;
      pieces = pieces.filter((p, i) => p !== skip || pieces.indexOf(skip) !== i);
      implied = undefined;
      if (pieces.length === 0) return TRUE;
    }
    const parts = pieces.map((piece) => {
      const upper = prefixUpperBound(piece);
      const range = upper === null ? sql`st.token >= ${piece}` : sql`st.token >= ${piece} and st.token < ${upper}`;
      if (opts.form !== 'exists') {
        return sql`${ref(alias, 'id')} in (select st.object_id from search_tokens as st
          where st.tenant_no = ${tenantNo} and st.object_type = ${catalog.objectType} and st.prop = ${prop.name} and ${range})`;
      }
      return sql`exists (select 1 from ${objectTokens('st', ref(alias, 'id'), tenantNo, opts.dialect)}
        and st.object_type = ${catalog.objectType} and st.prop = ${prop.name} and ${range})`;
    });
    return parts.length === 1 ? (parts[0] as Bool) : sql`(${sql.join(parts, sql` and `)})`;
  };
  return walk(node, true);
}

/** Which SQL engine runs the query: the one place where the two need different text (see objectTokens). */
export type { SqlDialect };

/**
 * `search_tokens AS <t>` read through its (tenant_no, object_id) index: a probe of one object's tokens.
 * SQLite plans without statistics unless ANALYZE ran, and then prefers the covering primary key with only
 * tenant_no bound, i.e. every token of the tenant per probe (14 s per page at 1M users, measured); the
 * INDEXED BY hint pins the index that holds a few rows per object. PostgreSQL picks it by its statistics.
 */
export function objectTokens(t: string, objectId: Sql, tenantNo: number, dialect: SqlDialect | undefined) {
  const hint = dialect === 'sqlite' ? sql` indexed by search_tokens_object` : sql``;
  return sql`search_tokens as ${sql.id(t)}${hint} where ${sql.ref(`${t}.tenant_no`)} = ${tenantNo}
    and ${sql.ref(`${t}.object_id`)} = ${objectId}`;
}

/** The searchable scalar property a term names, or the Graph error for it. */
export function searchProperty(
  catalog: ResourceCatalog,
  term: SearchTerm,
): ScalarProperty & { search: 'tokens' | 'prefix' } {
  if (term.property === null) {
    throw errors.badRequest(`Invalid search clause: a search term must name a property, as in "displayName:${term.text}".`);
  }
  const prop = findProperty(catalog, term.property);
  if (prop?.kind !== 'scalar' || !prop.search) throw unsupportedProperty(catalog, term.property);
  return prop as ScalarProperty & { search: 'tokens' | 'prefix' };
}

/**
 * `$orderby` → the ORDER BY list, with `id` appended as the tiebreaker so paging is deterministic.
 * Nulls sort where the database puts them (first ascending on SQLite, last on PostgreSQL): forcing one
 * order would cost one of the two its index-ordered scan.
 */
export function compileOrderBy(list: readonly OrderBy[], catalog: ResourceCatalog, opts: CompileOptions = {}): Sql {
  const alias = opts.alias ?? catalog.table;
  const items = list.map((o) => {
    const prop = findProperty(catalog, o.property);
    if (prop?.kind !== 'scalar' || !prop.orderBy) {
      throw errors.unsupportedQuery(
        `Unsupported or invalid query sort clause specified for property '${o.property}' of resource '${resourceShortName(catalog)}'.`,
      );
    }
    return sql`${ref(alias, prop.column)} ${sql.raw(o.direction)}`;
  });
  items.push(sql`${ref(alias, 'id')} asc`);
  return sql.join(items);
}
