// SQL text with bound values, for the directory's query compiler (compile.ts, list.ts).
//
// Kysely's `sql` tag builds an operation-node tree that a compiler then walks; for the one statement a
// people-search request runs, building and compiling that tree cost more CPU than SQLite took to answer
// it (bench/, server CPU per query). A list query is text and parameters and nothing else, so this keeps
// it as a flat list of text pieces and values, joined once. Execution goes through Kysely's executor
// (`executeQuery` of a precompiled query), so transactions and the connection mutex behave as for every
// other query — except on SQLite, where `run` hands a statement to the synchronous runner the store
// registered whenever it can take it (see SyncRunner).
//
// Values are always bound parameters; identifiers come only from code (catalogs), never from a request.
import { CompiledQuery, type Kysely, type RawBuilder, SqliteAdapter, sql as kyselySql } from 'kysely';
import { pace } from '../sqlite/pace.js';

export type SqlDialect = 'sqlite' | 'postgres';

const PARAM = Symbol('param');
type Piece = string | { readonly [PARAM]: unknown };

/**
 * Texts of template call sites whose values are all bound values: such a site compiles to the same text
 * every time, and handing the statement cache the same string each time spares hashing a new one.
 */
const siteTexts = new WeakMap<TemplateStringsArray, Partial<Record<SqlDialect, string>>>();

/** A fragment of SQL: text pieces and bound values, in order. Immutable. */
export class Sql {
  /** @internal */
  readonly pieces: readonly Piece[];
  /** @internal The template call site, when no fragment was spliced in (see siteTexts). */
  readonly site: TemplateStringsArray | undefined;

  constructor(pieces: readonly Piece[], site?: TemplateStringsArray) {
    this.pieces = pieces;
    this.site = site;
  }

  /** The text with `?` (SQLite) or `$n` (PostgreSQL) placeholders, and the values they bind. */
  compile(dialect: SqlDialect): { text: string; params: unknown[] } {
    if (this.site === undefined) return this.build(dialect);
    let texts = siteTexts.get(this.site);
    if (texts === undefined) {
      texts = {};
      siteTexts.set(this.site, texts);
    }
    const params: unknown[] = [];
    for (const p of this.pieces) if (typeof p !== 'string') params.push(p[PARAM]);
    const text = texts[dialect] ?? this.build(dialect).text;
    texts[dialect] = text;
    return { text, params };
  }

  private build(dialect: SqlDialect): { text: string; params: unknown[] } {
    let text = '';
    const params: unknown[] = [];
    for (const p of this.pieces) {
      if (typeof p === 'string') {
        text += p;
      } else {
        params.push(p[PARAM]);
        text += dialect === 'sqlite' ? '?' : `$${params.length}`;
      }
    }
    return { text, params };
  }
}

const pushValue = (out: Piece[], v: unknown) => {
  if (v instanceof Sql) out.push(...v.pieces);
  else out.push({ [PARAM]: v });
};

/** Tagged template: interpolated `Sql` fragments are spliced in, anything else becomes a bound value. */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): Sql {
  const out: Piece[] = [];
  let spliced = false;
  for (let i = 0; i < strings.length; i++) {
    const s = strings[i] as string;
    if (s !== '') out.push(s);
    if (i < values.length) {
      spliced ||= values[i] instanceof Sql;
      pushValue(out, values[i]);
    }
  }
  return new Sql(out, spliced ? undefined : strings);
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

// Refs repeat on every request (the same few aliases and columns); quoting them once is enough.
const refs = new Map<string, Sql>();
/** `"alias"."column"` from `alias.column` (or a bare `"column"`). */
sql.ref = (dotted: string): Sql => {
  let r = refs.get(dotted);
  if (r === undefined) {
    r = new Sql([dotted.split('.').map(quote).join('.')]);
    if (refs.size < 10_000) refs.set(dotted, r);
  }
  return r;
};
/** A quoted identifier (table, alias, column name). */
sql.id = (name: string): Sql => new Sql([quote(name)]);
/** Text as is: only for constants written in code (operators, keywords). */
sql.raw = (text: string): Sql => new Sql([text]);
/** Items separated by `separator` (default `, `); plain values become bound values. */
sql.join = (items: readonly unknown[], separator: Sql = new Sql([', '])): Sql => {
  const out: Piece[] = [];
  items.forEach((item, i) => {
    if (i > 0) out.push(...separator.pieces);
    pushValue(out, item);
  });
  return new Sql(out);
};
sql.empty = new Sql([]);
/**
 * A non-negative integer written into the text, for LIMIT: SQLite re-prepares a statement on every run
 * when its plan depends on a bound LIMIT (measured: +50–70 µs on a people-search page), while each
 * distinct literal is prepared once and then served from the statement cache.
 */
sql.int = (n: number): Sql => new Sql([String(count(n))]);

/** The same literal LIMIT for Kysely's builder: `.limit(literalLimit(n))` (see sql.int). */
export function literalLimit(n: number): RawBuilder<number> {
  return kyselySql.lit(count(n));
}

function count(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`not a non-negative integer: ${n}`);
  return n;
}

const dialects = new WeakMap<object, SqlDialect>();

/**
 * Runs a statement synchronously on an embedded database and returns its rows, or returns undefined when
 * it can't right now, so `run` goes through Kysely's executor instead; see sqlite/connect.ts. On a
 * store's root handle it takes reads only, and only while no transaction holds the connection (a write
 * with RETURNING outside a transaction runs there as its own autocommit); on a transaction's own handle
 * it takes every statement, since the connection is that transaction's alone.
 */
export type SyncRunner = (text: string, params: readonly unknown[]) => unknown[] | undefined;
const syncRunners = new WeakMap<object, SyncRunner>();

/** Handles whose statements don't give the loop turns (pace.ts): the store's own, whose reads are short. */
const unpaced = new WeakSet<object>();

/**
 * Lets `run` execute through `runner` on this handle instead of Kysely's asynchronous executor. `paced`
 * (a transaction's handle): its statements give the event loop a turn once they have held it a while; a
 * single read outside any transaction (a search's) takes microseconds and would only lose its place.
 */
// biome-ignore lint/suspicious/noExplicitAny: any database schema
export function registerSyncRunner(db: Kysely<any>, runner: SyncRunner, options: { paced?: boolean } = {}): void {
  syncRunners.set(db, runner);
  if (options.paced === false) unpaced.add(db);
}

/** Which SQL engine a Kysely handle (or transaction) talks to. */
// biome-ignore lint/suspicious/noExplicitAny: any database schema
export function dialectOf(db: Kysely<any>): SqlDialect {
  let d = dialects.get(db);
  if (d === undefined) {
    d = db.getExecutor().adapter instanceof SqliteAdapter ? 'sqlite' : 'postgres';
    dialects.set(db, d);
  }
  return d;
}

/**
 * Runs a fragment on `db` (a store handle or a transaction) and returns its rows. On an embedded
 * database a read on the store's handle runs synchronously when no transaction holds the connection,
 * and every statement of a transaction on its own handle: Kysely's executor (connection mutex, promise
 * chain) cost as much CPU as the query on a people-search request.
 */
// biome-ignore lint/suspicious/noExplicitAny: any database schema
export async function run<R>(db: Kysely<any>, q: Sql): Promise<R[]> {
  const { text, params } = q.compile(dialectOf(db));
  const rows = syncRunners.get(db)?.(text, params);
  if (rows) {
    // Statements that run synchronously give the event loop a turn once they have held it a while (pace.ts).
    const turn = unpaced.has(db) ? undefined : pace();
    if (turn) await turn;
    return rows as R[];
  }
  const result = await db.executeQuery<R>(CompiledQuery.raw(text, params));
  return result.rows as R[];
}
