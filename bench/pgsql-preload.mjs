// Preloaded into a diagnostic server child (`node --import bench/pgsql-preload.mjs`): adds up wall time
// per SQL statement shape, for PostgreSQL (pg Client.query, until its promise settles: network + server
// time, queueing for the pool excluded) and SQLite (better-sqlite3 Statement calls), and writes the totals
// to $OPENMTO_BENCH_SQLSTATS as JSON when the process exits. SIGUSR2 resets them (the bench sends it after
// the server has started and built its people index, so only the profiled requests count).
// Never loaded into a measured run: the wrapper costs a little CPU per statement.
// With $OPENMTO_BENCH_CPUPROF set, SIGUSR2 also (re)starts a CPU profile of this process, written to that
// file at exit: the profile then covers the counted requests only, not the start-up and the people-index
// build that `node --cpu-prof` would include.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
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
  // The in-process inspector session answers synchronously, so the profile can be stopped in 'exit'.
  const cpuOut = process.env.OPENMTO_BENCH_CPUPROF;
  let session = null;
  // Starting the profiler walks V8's code space (a few hundred ms, sampled as `dispatch`): those samples
  // are dropped at exit, so the profile holds only the requests.
  function startProfile() {
    if (session) {
      session.post('Profiler.stop');
    } else {
      session = new Session();
      session.connect();
    }
    session.post('Profiler.enable');
    session.post('Profiler.setSamplingInterval', { interval: 1000 });
    session.post('Profiler.start');
  }
  process.on('SIGUSR2', () => {
    totals = new Map();
    since = performance.now();
    if (cpuOut) startProfile();
  });
  process.on('exit', () => {
    if (session) {
      session.post('Profiler.stop', (err, r) => {
        if (!err) writeFileSync(cpuOut, JSON.stringify(withoutStart(r.profile)));
      });
    }
    const wallMs = performance.now() - since;
    const rows = [...totals.values()].map((e) => ({ ...e, ms: Math.round(e.ms * 10) / 10 })).sort((a, b) => b.ms - a.ms);
    writeFileSync(out, JSON.stringify({ wallMs: Math.round(wallMs), statements: rows }));
  });
}

/** The profile without the samples taken inside `startProfile` (the profiler's own start-up). */
function withoutStart(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const drop = new Set();
  const mark = (id) => {
    drop.add(id);
    for (const c of byId.get(id)?.children ?? []) mark(c);
  };
  for (const n of profile.nodes) if (n.callFrame.functionName === 'startProfile') mark(n.id);
  const samples = [];
  const timeDeltas = [];
  profile.samples.forEach((id, k) => {
    if (drop.has(id)) return;
    samples.push(id);
    timeDeltas.push(profile.timeDeltas[k]);
  });
  return { ...profile, samples, timeDeltas };
}
