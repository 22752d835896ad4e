// The SQL side of the people-search queries, in process on the benchmark's DB (server stopped): the exact
// statement `listObjects` (src/store/query/list.ts) runs for each query shape, its EXPLAIN QUERY PLAN,
// and its latency without HTTP, auth and JSON, so a slow p99 can be pinned on SQL or on the layers above.
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseFilter, parseSearch } from '../src/api/graph/odata/index.js';
import { userCatalog } from '../src/domain/catalog.js';
import { listObjects } from '../src/store/query/list.js';
import type { Database as Schema } from '../src/store/schema.js';
import { pct, round } from './env.js';
import { type QueryKind, TOP } from './search.js';

// A diagnostic, so a tighter bound than the HTTPS runs: enough queries for a p50/p99 of the SQL alone.
const BUDGET_S = 60;
const WARMUP_BUDGET_S = 15;

export interface SqlSide {
  kind: QueryKind;
  users: number;
  example: string;
  /** Every statement one listObjects call ran, with its plan. */
  statements: { sql: string; plan: string[] }[];
  p50_ms: number;
  p99_ms: number;
  avg_returned: number;
  queries: number;
}

function listQuery(kind: QueryKind, p: string) {
  return kind === 'filter'
    ? { filter: parseFilter(`startsWith(displayName,'${p}')`), top: TOP, advanced: false, count: false, deleted: false }
    : { search: parseSearch(`"displayName:${p}" OR "mail:${p}"`), top: TOP, advanced: true, count: false, deleted: false };
}

function planOf(raw: Database.Database, sql: string, parameters: readonly unknown[]): string[] {
  const rows = raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...(parameters as unknown[])) as { id: number; parent: number; detail: string }[];
  const depth = new Map<number, number>([[0, -1]]);
  return rows.map((r) => {
    const d = (depth.get(r.parent) ?? -1) + 1;
    depth.set(r.id, d);
    return `${'  '.repeat(d)}${r.detail}`;
  });
}

export async function sqlSide(dataDir: string, tenantId: string, users: number, queries: readonly string[]): Promise<SqlSide[]> {
  const raw = new Database(join(dataDir, 'openmto.db'), { readonly: true });
  let seen: { sql: string; parameters: readonly unknown[] }[] = [];
  const db = new Kysely<Schema>({
    dialect: new SqliteDialect({ database: raw }),
    log: (e) => {
      if (e.level === 'query') seen.push({ sql: e.query.sql, parameters: e.query.parameters });
    },
  });
  const out: SqlSide[] = [];
  try {
    for (const kind of ['filter', 'search'] as const) {
      // The most common prefix in the query set: the widest ranges are where a bad plan shows.
      const counts = new Map<string, number>();
      for (const q of queries) counts.set(q, (counts.get(q) ?? 0) + 1);
      const example = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'mar';
      seen = [];
      await listObjects(db, userCatalog, tenantId, listQuery(kind, example));
      const statements = seen.map((stmt) => ({ sql: stmt.sql.replace(/\s+/g, ' ').trim(), plan: planOf(raw, stmt.sql, stmt.parameters) }));
      const w0 = performance.now();
      for (let k = 0; k < 200 && performance.now() - w0 < WARMUP_BUDGET_S * 1000; k++) {
        await listObjects(db, userCatalog, tenantId, listQuery(kind, queries[k % queries.length] as string));
      }
      const lat: number[] = [];
      let hits = 0;
      const t0 = performance.now();
      for (const p of queries) {
        if (performance.now() - t0 > BUDGET_S * 1000) break;
        const t = performance.now();
        const r = await listObjects(db, userCatalog, tenantId, listQuery(kind, p));
        lat.push(performance.now() - t);
        hits += r.rows.length;
      }
      lat.sort((a, b) => a - b);
      out.push({
        kind, users, example, statements,
        p50_ms: round(pct(lat, 50)), p99_ms: round(pct(lat, 99)), avg_returned: round(hits / lat.length, 1), queries: lat.length,
      });
    }
  } finally {
    await db.destroy();
  }
  return out;
}
