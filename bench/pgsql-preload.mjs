// Preloaded into a diagnostic server child (`node --import bench/pgsql-preload.mjs`): adds up wall time
// per SQL statement shape, for PostgreSQL (pg Client.query, until its promise settles: network + server
// time, queueing for the pool excluded) and SQLite (better-sqlite3 Statement calls), and writes the totals
// to $OPENMTO_BENCH_SQLSTATS as JSON when the process exits. SIGUSR2 resets them (the bench sends it after
// the server has started and built its people index, so only the profiled requests count).
// Never loaded into a measured run: the wrapper costs a little CPU per statement.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const out = process.env.OPENMTO_BENCH_SQLSTATS;
const require = createRequire(import.meta.url);
let totals = new Map();
let since = performance.now();

const shape = (source) => {
  const s = String(source).replace(/\s+/g, ' ').trim();
  const m = /^(insert into "?\w+"?|update "?\w+"?|delete from "?\w+"?|select .*? from "?\w+"?|with .*? select|begin( immediate)?|commit|rollback|savepoint|release)/i.exec(s);
  return (m?.[1] ?? s.slice(0, 40)).replace(/^select .*? from/i, 'select … from').replace(/^with .*? select/i, 'with … select');
};
const add = (source, t) => {
  const key = shape(source);
  const e = totals.get(key) ?? { statement: key, calls: 0, ms: 0 };
  e.calls++;
  e.ms += performance.now() - t;
  totals.set(key, e);
};

if (out) {
  const pg = require('pg');
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (config, ...rest) {
    const t = performance.now();
    const text = typeof config === 'string' ? config : config?.text;
    const r = query.call(this, config, ...rest);
    if (r && typeof r.then === 'function' && text) r.then(() => add(text, t), () => add(text, t));
    return r;
  };
  const Database = require('better-sqlite3');
  const probe = new Database(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('select 1'));
  probe.close();
  for (const method of ['run', 'all', 'get', 'iterate']) {
    const orig = proto[method];
    proto[method] = function (...args) {
      const t = performance.now();
      try {
        return orig.apply(this, args);
      } finally {
        add(this.source, t);
      }
    };
  }
  process.on('SIGUSR2', () => {
    totals = new Map();
    since = performance.now();
  });
  process.on('exit', () => {
    const wallMs = performance.now() - since;
    const rows = [...totals.values()].map((e) => ({ ...e, ms: Math.round(e.ms * 10) / 10 })).sort((a, b) => b.ms - a.ms);
    writeFileSync(out, JSON.stringify({ wallMs: Math.round(wallMs), statements: rows }));
  });
}
