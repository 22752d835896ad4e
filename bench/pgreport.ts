// BENCHMARKS.md, issue 13: one row per target and database (value, the peer measured in the same run,
// ratio, target, pass/FAIL, and where a miss's profile is), then measurement 7 (SQLite beside PostgreSQL)
// and the storage breakdowns.
import type { ClientsRun, DbSide, Diagnosis } from './pg.js';
import type { Results } from './report.js';
import type { SearchResult } from './search.js';
import type { StorageMeasurement } from './storage.js';

const human = (n: number) => (n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n));
const num = (x: number | undefined, d = 0) => (x === undefined || Number.isNaN(x) ? '–' : x.toLocaleString('en-US', { maximumFractionDigits: d }));
const times = (x: number | undefined, d = 2) => (x === undefined || !Number.isFinite(x) ? '–' : `${Number(x.toFixed(d))}×`);
const table = (head: string[], rows: (string | number)[][]) =>
  [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

/** Issue 13's numbers. */
export const TARGETS = { bytesPerUser: 1024, importVsCeiling: 0.5, create1VsLdap: 2, create8PerSec: 5000, create8P99: 5, searchVsFloor: 1.5, firstVsLdap: 1.5 };

interface Row13 { what: string; db: string; ours: string; peer: string; ratio: string; target: string; ok: boolean | 'info' | undefined; profile: string }

const verdict = (ok: Row13['ok']) => (ok === 'info' ? 'information' : ok === undefined ? 'n/a (peer not run)' : ok ? '**pass**' : '**FAIL**');
const dbName = (db: string) => (db === 'sqlite' ? 'SQLite' : 'PostgreSQL');
const sideOf = (r: Results, db: 'sqlite' | 'postgres') => r.databases?.sides.find((s) => s.db === db);
const run = (s: DbSide | undefined, what: 'create' | 'search', processes: number, connections: number) =>
  s?.runs.find((x) => x.what === what && x.processes === processes && x.connections === connections);

function storageRow(st: StorageMeasurement, peer?: { bytesPerUser: number; label: string }): Row13 {
  const target = st.db === 'sqlite';
  return {
    what: `storage: bytes per user on disk, ${st.what}`, db: dbName(st.db), ours: num(st.bytesPerUser),
    peer: peer ? `${num(peer.bytesPerUser)} (${peer.label})` : '–', ratio: peer ? times(st.bytesPerUser / peer.bytesPerUser) : '–',
    target: target ? `≤ ${num(TARGETS.bytesPerUser)} B` : '(information)', ok: target ? st.bytesPerUser <= TARGETS.bytesPerUser : 'info',
    profile: target && st.bytesPerUser > TARGETS.bytesPerUser ? 'per-table breakdown in "Storage: where the bytes are"' : '',
  };
}

export function issue13Rows(r: Results): Row13[] {
  const rows: Row13[] = [];
  const sq = sideOf(r, 'sqlite');
  const pgs = sideOf(r, 'postgres');
  const d = r.databases;
  // SQLite D at the size measured: measurement 1's peer (same size) or measurement 7's own run.
  const sqliteD = r.import?.peer && (!d || r.import.peer.rows === d.sides[0]?.users)
    ? { rows: r.import.peer.rows, rowsPerSec: r.import.peer.phaseD.rows_per_s, dbMB: r.import.peer.dbMB }
    : d?.sqliteD;

  // Storage
  const dPeer = sqliteD && 'dbMB' in sqliteD && sqliteD.dbMB ? { bytesPerUser: Math.round((sqliteD.dbMB * 2 ** 20) / sqliteD.rows), label: 'SQLite D\'s file' } : undefined;
  if (sq?.storage) rows.push(storageRow(sq.storage, dPeer));
  if (r.scale?.storage) rows.push(storageRow(r.scale.storage));
  for (const st of r.mesh?.storage ?? []) rows.push(storageRow(st));
  if (pgs?.storage) rows.push(storageRow(pgs.storage));
  for (const s of [sq, pgs]) {
    if (s?.peopleIndex) {
      rows.push({
        what: `people index: heap bytes per user, measured (the index's own estimate) (${num(s.peopleIndex.users)} users, built in ${s.peopleIndex.buildSeconds} s)`, db: dbName(s.db),
        ours: `${num(s.peopleIndex.measuredBytesPerUser)} (${num(s.peopleIndex.estimatedBytesPerUser)})`,
        peer: '–', ratio: '–', target: '(reported)', ok: 'info', profile: '',
      });
    }
  }
  if (r.scale?.serverPeakRssMB) {
    rows.push({
      what: `memory: peak RSS of the server, ${human(r.scale.import.rows)} users in one tenant, people index on, after the search passes (MB)`, db: 'SQLite',
      ours: num(r.scale.serverPeakRssMB), peer: '–', ratio: '–', target: '(reported)', ok: 'info', profile: '',
    });
  }

  // Bulk import
  const sqImport = r.import?.ours ?? sq?.import;
  if (sqImport) {
    const ratio = sqliteD ? sqImport.rowsPerSec / sqliteD.rowsPerSec : undefined;
    rows.push({
      what: `bulk import ${human(sqImport.rows)} users (rows/s)`, db: 'SQLite', ours: num(sqImport.rowsPerSec), peer: sqliteD ? `${num(sqliteD.rowsPerSec)} (SQLite D)` : '–',
      ratio: times(ratio, 3), target: `≥ ${TARGETS.importVsCeiling}× SQLite D`, ok: ratio === undefined ? undefined : ratio >= TARGETS.importVsCeiling,
      profile: ratio !== undefined && ratio < TARGETS.importVsCeiling ? (r.import?.diagnosis ? '§1 "Where the import time goes"' : 'not profiled in this run') : '',
    });
  }
  if (pgs?.import) {
    const c = pgs.copyPeer;
    const ratio = c ? pgs.import.rowsPerSec / c.indexedRowsPerSec : undefined;
    rows.push({
      what: `bulk import ${human(pgs.import.rows)} users (rows/s)`, db: 'PostgreSQL', ours: num(pgs.import.rowsPerSec), peer: c ? `${num(c.indexedRowsPerSec)} (COPY, 3 indexes live)` : '–',
      ratio: times(ratio, 3), target: `≥ ${TARGETS.importVsCeiling}× PostgreSQL COPY`, ok: ratio === undefined ? undefined : ratio >= TARGETS.importVsCeiling,
      profile: ratio !== undefined && ratio < TARGETS.importVsCeiling
        ? (pgs.diagnosis?.some((x) => x.what.startsWith('bulk import')) ? '§7 "Where the time goes: bulk import…"' : 'not profiled in this run') : '',
    });
    if (sqliteD) {
      rows.push({
        what: '…, the same PostgreSQL import next to SQLite D', db: 'PostgreSQL', ours: num(pgs.import.rowsPerSec), peer: `${num(sqliteD.rowsPerSec)} (SQLite D)`,
        ratio: times(pgs.import.rowsPerSec / sqliteD.rowsPerSec, 3), target: '(information)', ok: 'info', profile: '',
      });
    }
  }

  // Creates without a password
  const ldap = r.creates?.peer;
  for (const s of [sq, pgs]) {
    if (!s) continue;
    const one = run(s, 'create', 1, 1);
    if (one) {
      const ratio = ldap ? one.perSec / ldap.rate : undefined;
      rows.push({
        what: 'create over HTTPS without a password (POST /invitations), 1 client (creates/s)', db: dbName(s.db), ours: num(one.perSec),
        peer: ldap ? `${num(ldap.rate)} (ldapadd, 1 client)` : '–', ratio: times(ratio), target: `≥ ${TARGETS.create1VsLdap}× OpenLDAP`,
        ok: ratio === undefined ? undefined : ratio >= TARGETS.create1VsLdap, profile: ratio !== undefined && ratio < TARGETS.create1VsLdap ? profileRef(s) : '',
      });
    }
    for (const processes of [1, 2]) {
      const eight = run(s, 'create', processes, 8);
      if (!eight) continue;
      // Durable: every acknowledged create is there afterwards (users counted through the API, warm-up included).
      const acked = eight.distinctUsers ?? eight.acknowledged ?? eight.requests;
      const ok = eight.perSec >= TARGETS.create8PerSec && eight.p99_ms <= TARGETS.create8P99 && eight.stored === acked;
      rows.push({
        what: `create without a password, 8 clients, ${processes} server process${processes > 1 ? 'es' : ''} (creates/s; p99 ms; stored of acknowledged)`, db: dbName(s.db),
        ours: `${num(eight.perSec)}; ${eight.p99_ms}; ${num(eight.stored)}/${num(acked)}`,
        peer: s.copyPeer?.singleAutocommitPerSec ? `${num(s.copyPeer.singleAutocommitPerSec)} (bare autocommit INSERT, 1 client)` : ldap ? `${num(ldap.rate)} (ldapadd, 1 client)` : '–',
        ratio: times(eight.perSec / TARGETS.create8PerSec) + ' of target', target: `≥ ${num(TARGETS.create8PerSec)}/s, p99 ≤ ${TARGETS.create8P99} ms, all durable`, ok,
        profile: ok ? '' : profileRef(s),
      });
    }
  }

  // People search
  const floorOf = (kind: string) => r.search?.floor?.find((f) => f.kind === kind);
  const ldapOf = (kind: string) => r.search?.peer?.runs.find((x) => x.filter === (kind === 'filter' ? 'brief' : 'anr') && x.scope === 'global');
  // SQLite's are measurement 3's unless measurement 7 ran its own passes.
  const searchSets: ['sqlite' | 'postgres', SearchResult[]][] = [['sqlite', sq?.search ?? r.search?.ours ?? []], ['postgres', pgs?.search ?? []]];
  for (const [db, searches] of searchSets) {
    const s = { db };
    for (const q of searches) {
      const floor = floorOf(q.kind);
      const ratio = floor ? q.server_cpu_us_per_query / floor.server_cpu_us_per_query : undefined;
      rows.push({
        what: `people search ${human(q.users)}, ${q.kind}: server CPU µs/query, steady state, 1 process`, db: dbName(s.db), ours: num(q.server_cpu_us_per_query),
        peer: floor ? `${num(floor.server_cpu_us_per_query)} (bare node:https floor${s.db === 'postgres' ? ', same bytes, SQLite run' : ''})` : '–',
        ratio: times(ratio), target: `≤ ${TARGETS.searchVsFloor}× floor`, ok: ratio === undefined ? undefined : ratio <= TARGETS.searchVsFloor,
        profile: ratio !== undefined && ratio > TARGETS.searchVsFloor ? searchProfileRef(s.db, r) : '',
      });
      const p = ldapOf(q.kind)?.firstPass;
      if (q.firstPass) {
        const fr = p ? q.firstPass.server_cpu_us_per_query / p.server_cpu_us_per_query : undefined;
        rows.push({
          what: `people search ${human(q.users)}, ${q.kind}: server CPU µs/query, first pass after a restart`, db: dbName(s.db), ours: num(q.firstPass.server_cpu_us_per_query),
          peer: p ? `${num(p.server_cpu_us_per_query)} (OpenLDAP first pass, global)` : '–', ratio: times(fr), target: `≤ ${TARGETS.firstVsLdap}× OpenLDAP`,
          ok: fr === undefined ? undefined : fr <= TARGETS.firstVsLdap, profile: fr !== undefined && fr > TARGETS.firstVsLdap ? searchProfileRef(s.db, r) : '',
        });
      }
    }
  }
  const sq8 = run(sq, 'search', 1, 8);
  for (const s of [sq, pgs]) {
    for (const processes of [1, 2]) {
      const x = run(s, 'search', processes, 8);
      if (!s || !x) continue;
      rows.push({
        what: `people search ($search) with 8 clients, ${processes} server process${processes > 1 ? 'es' : ''}: requests/s (server CPU µs/request; p99 ms)`, db: dbName(s.db),
        ours: `${num(x.perSec)} (${num(x.serverCpuUsPerRequest)}; ${x.p99_ms})`, peer: s.db === 'sqlite' || !sq8 ? '–' : `${num(sq8.perSec)} (SQLite, 1 process)`,
        ratio: s.db === 'sqlite' || !sq8 ? '–' : times(x.perSec / sq8.perSec), target: '(information: PostgreSQL beside SQLite)', ok: 'info', profile: '',
      });
    }
  }
  return rows;
}

/** Where a missed search target's profile is: measurement 3's (SQLite) or §7's 8-client search diagnosis (PostgreSQL). */
function searchProfileRef(db: 'sqlite' | 'postgres', r: Results): string {
  if (db === 'sqlite') return r.search?.serverProfile ? '§3 server CPU profile' : 'run with --profile';
  const pgs = sideOf(r, 'postgres');
  return pgs?.diagnosis?.some((x) => x.what.startsWith('8-client searches')) ? '§7 "Where the time goes: 8-client searches…" (PostgreSQL)' : 'run with --profile';
}

const profileRef = (s: DbSide) => (s.diagnosis?.some((x) => x.what.startsWith('8-client creates')) ? `§7 "Where the time goes: 8-client creates…" (${dbName(s.db)})` : 'run with --profile');

export function issue13Summary(r: Results): string[] {
  const rows = issue13Rows(r);
  if (!rows.length) return [];
  return [
    '## Issue 13 targets, SQLite and PostgreSQL', '',
    'Every peer measured in this run. Creates are `POST /v1.0/invitations` (B2B member, no password, `sendInvitationMessage: false`): the like-for-like create with an LDAP add. '
      + '"stored of acknowledged" counts the tenant\'s users through the API after the run. PostgreSQL\'s search rows compare with the floor measured on SQLite\'s answers (the same bytes: same people, same queries).', '',
    table(['target', 'database', 'openmto', 'peer (same run)', 'ratio', 'target', 'result', 'profile of a miss'], rows.map((x) => [x.what, x.db, x.ours, x.peer, x.ratio, x.target, verdict(x.ok), x.profile])), '',
  ];
}

function storageTable(st: StorageMeasurement, top = 12): string {
  const rest = st.parts.slice(top);
  const restBytes = rest.reduce((sum, p) => sum + p.bytes, 0);
  return table(['part', 'kind', 'MB', 'bytes/user'], [
    ...st.parts.slice(0, top).map((p) => [p.name, p.kind, num(p.bytes / 2 ** 20, 1), num(p.bytesPerUser, 1)]),
    ...(rest.length ? [[`${rest.length} more`, '', num(restBytes / 2 ** 20, 1), num(restBytes / st.users, 1)]] : []),
  ]);
}

function diagnosisSection(d: Diagnosis, db: string): string[] {
  const total = d.sql.statements.reduce((s, x) => s + x.ms, 0);
  return [
    `### Where the time goes: ${d.what} (${dbName(db)})`, '',
    `Time inside ${dbName(db)} per statement shape over the counted ${d.what.startsWith('8-client searches') ? 'searches' : 'creates'} (${num(d.sql.wallMs)} ms of wall time; statements add up to ${num(total)} ms${db === 'postgres' ? ', each from send to result, so it includes the round trip and waiting behind other connections\' commits' : ''}):`, '',
    table(['statement', 'calls', 'ms', '% of wall'], d.sql.statements.slice(0, 12).map((s) => [`\`${s.statement}\``, num(s.calls), num(s.ms), `${num((100 * s.ms) / Math.max(1, d.sql.wallMs), 1)} %`])), '',
    `CPU profile (self time, ${num(d.profile.totalMs)} ms sampled${d.what.startsWith('8-client') ? ' over the counted requests only; the profiler\'s own start is left out; "(idle)" is time the main thread waited (on the network, on an fdatasync in libuv\'s thread pool, on PostgreSQL)' : ''}; \`${d.profile.file}\`):`, '',
    table(['by file / package', 'self ms', '%'], d.profile.topFiles.map((f) => [f.where, num(f.selfMs), f.pct])), '',
    table(['function', 'where', 'self ms', '%'], d.profile.topFunctions.slice(0, 12).map((f) => [f.name, f.where, num(f.selfMs), f.pct])), '',
  ];
}

const runRow = (s: DbSide, x: ClientsRun & { processes: number }) => [
  dbName(s.db), x.what === 'create' ? 'POST /v1.0/invitations' : '$search, 25 rows', x.processes, x.connections, num(x.requests), num(x.perSec), x.p50_ms, x.p99_ms,
  num(x.serverCpuUsPerRequest), num(x.clientCpuUsPerRequest),
  x.stored === undefined ? '–' : `${num(x.stored)} of ${num(x.acknowledged)} acknowledged (${num(x.distinctUsers)} distinct ids)`,
];

export function databasesSection(r: Results): string[] {
  const d = r.databases;
  const out: string[] = [];
  if (d?.sides.length) {
    const n = d.sides[0]?.users ?? 0;
    out.push(`## 7. SQLite and PostgreSQL side by side (${human(n)} users in one tenant)`, '');
    out.push('Each database gets a fresh data set (SQLite: a new file; PostgreSQL: a new database on the server, dropped after) imported with `importUsers` in process. '
      + 'The PostgreSQL import ceiling is the postgres-copy peer (shared/peers/postgres-copy/bench.mjs) run here on its own fresh database: COPY FROM STDIN into the same three indexes as SQLite D (no full-text index), one connection; it sits next to SQLite D the way SQLite D anchors the SQLite import. '
      + 'Searches and creates go over HTTPS to `openmto serve` children: 1 server process, and on PostgreSQL 2 processes on two ports of the same database. '
      + 'Multi-client runs come from bench/clients.ts, a separate Node process holding C keep-alive HTTPS connections in a closed loop (connection k on port k mod servers), so the load generator is neither the bench process nor the server; '
      + 'on 2 cores it still shares the machine with the server(s), and its CPU per request is in the table. Each run sends as many warm-up requests first (creates: other users), then the timed ones; server CPU is summed over all server processes across the timed requests.', '');
    out.push(table(['', 'users', 'import s', 'rows/s', 'ceiling rows/s (same run)', 'bytes/user on disk', 'people index bytes/user (heap)', 'index wait s (1 / 2 processes)'], d.sides.map((s) => [
      dbName(s.db), num(s.users), s.import?.seconds ?? '–', num(s.import?.rowsPerSec),
      s.copyPeer ? `${num(s.copyPeer.indexedRowsPerSec)} (COPY, 3 indexes; bare ${num(s.copyPeer.bareRowsPerSec)}; INSERT×1000 ${num(s.copyPeer.multirowIndexedRowsPerSec)})` : d.sqliteD ? `${num(d.sqliteD.rowsPerSec)} (SQLite D)` : r.import?.peer ? `${num(r.import.peer.phaseD.rows_per_s)} (SQLite D, §1)` : '–',
      num(s.storage?.bytesPerUser), s.peopleIndex ? `${num(s.peopleIndex.measuredBytesPerUser)} (estimate ${num(s.peopleIndex.estimatedBytesPerUser)})` : '–', s.indexWait.map((w) => w.seconds).join(' / '),
    ])), '');
    out.push(table(['database', 'request', 'server processes', 'clients', 'timed requests', 'requests/s', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'client CPU µs/req', 'users stored (warm-up + timed)'], d.sides.flatMap((s) => s.runs.map((x) => runRow(s, x)))), '');
    const single = d.sides.flatMap((s) => (s.search ?? []).map((q) => [dbName(s.db), q.kind, q.p50_ms, q.p99_ms, num(q.qps), num(q.server_cpu_us_per_query), q.firstPass ? num(q.firstPass.server_cpu_us_per_query) : '–', (q.passes ?? []).join(', ')]));
    if (single.length) {
      out.push('1 client, 1 server process, interleaved passes as in §3 (SQLite\'s are §3\'s own when measurement 3 ran at this size):', '');
      out.push(table(['database', 'query', 'p50 ms', 'p99 ms', 'QPS', 'server CPU µs/q (steady)', 'first pass', 'every pass'], single), '');
    }
    for (const s of d.sides) for (const x of s.diagnosis ?? []) out.push(...diagnosisSection(x, s.db));
  }
  const storages: StorageMeasurement[] = [...(d?.sides.flatMap((s) => (s.storage ? [s.storage] : [])) ?? []), ...(r.scale?.storage ? [r.scale.storage] : []), ...(r.mesh?.storage ?? [])];
  if (storages.length) {
    out.push('## Storage: where the bytes are', '');
    out.push('SQLite: the database file plus its WAL after `wal_checkpoint(TRUNCATE)`, split by b-tree with the `dbstat` virtual table (tables, their indexes, FTS shadow tables); PostgreSQL: `pg_total_relation_size` of every table of the run\'s own database (heap + indexes + TOAST) after `VACUUM`. Bytes per user divide by every user row, B2B members included.', '');
    for (const st of storages) out.push(`**${dbName(st.db)}, ${st.what}: ${num(st.bytes / 2 ** 20, 1)} MB, ${num(st.bytesPerUser)} bytes/user**`, '', storageTable(st), '');
  }
  return out;
}
