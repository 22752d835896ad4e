// Where an in-process section spends its time inside SQLite: wraps better-sqlite3's Statement methods
// (shared by every connection in this process) to add up wall time per statement shape. Only used in
// the diagnostic run, never in a measured one.
import Database from 'better-sqlite3';
import { performance } from 'node:perf_hooks';
import { round } from './env.js';

export interface SqlShare {
  statement: string;
  calls: number;
  ms: number;
}

/** `insert into "users" (…) values (…), …` → `insert into "users"`; the shape, not the values. */
function shape(source: string): string {
  const s = source.replace(/\s+/g, ' ').trim();
  const m = /^(insert into "?\w+"?|update "?\w+"?|delete from "?\w+"?|select .*? from "?\w+"?|begin immediate|commit|rollback)/i.exec(s);
  return (m?.[1] ?? s.slice(0, 40)).replace(/^select .*? from/i, 'select … from');
}

export function instrumentSqlite(): { stop(): SqlShare[] } {
  const probe = new Database(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, (...a: unknown[]) => unknown>;
  probe.close();
  const totals = new Map<string, SqlShare>();
  const originals = new Map<string, (...a: unknown[]) => unknown>();
  for (const method of ['run', 'all', 'get', 'iterate'] as const) {
    const orig = proto[method] as (...a: unknown[]) => unknown;
    originals.set(method, orig);
    proto[method] = function (this: { source: string }, ...args: unknown[]) {
      const t = performance.now();
      try {
        return orig.apply(this, args);
      } finally {
        const key = shape(this.source);
        const e = totals.get(key) ?? { statement: key, calls: 0, ms: 0 };
        e.calls++;
        e.ms += performance.now() - t;
        totals.set(key, e);
      }
    };
  }
  return {
    stop() {
      for (const [m, f] of originals) proto[m] = f;
      return [...totals.values()].map((e) => ({ ...e, ms: round(e.ms, 1) })).sort((a, b) => b.ms - a.ms);
    },
  };
}
