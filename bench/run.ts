// `npm run bench`: openmto's benchmarks with their anchor peers (OpenLDAP, SQLite near-limit) run in the
// same job on the same data, written to BENCHMARKS.md. See bench/README.md.
//
//   npm run bench                                  full run → BENCHMARKS.md
//   npm run bench -- --size 10000 --big 50000 --skip-peers [--only import|create|search|scale|sync|mesh|pg] [--profile]
//                                                  development → bench/.data/BENCHMARKS.dev.md
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { measureCreates } from './create.js';
import { alive, dataRoot, ensureLdapPackages, ensureLdapts, loadQueries, log, machine, onCleanup, repoRoot, runCleanups, type SearchStats, treeState } from './env.js';
import { type ImportMeasurement, importInto, sqlitePeer } from './import.js';
import { ldapAdd, ldapGen, ldapRemove, type LdapSearchResult, type LdapSet, ldapSide, ldapSlapaddQ, ldapStart } from './ldap.js';
import { sqlSide } from './plan.js';
import { human, renderReport, type Results } from './report.js';
import { asResult, interleaved, type Measured, type QueryKind, runSearch, type SearchResult, type Side } from './search.js';
import { floorSide } from './floor.js';
import { type ProfileSummary, summarizeFile } from './profile.js';
import { startServer, waitForPeopleIndex } from './server.js';
import { measureSync } from './sync.js';
import { measureMesh } from './mesh.js';
import { type DbSide, measureDb } from './pg.js';
import { sqliteStorage } from './storage.js';

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: '100000' },
    big: { type: 'string', default: '1000000' },
    creates: { type: 'string', default: '2000' },
    'skip-peers': { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    out: { type: 'string' },
    'mesh-users': { type: 'string', default: '1000,10000' },
    // Measurement 7 (SQLite beside PostgreSQL): users per data set; PostgreSQL server (a database is made and dropped).
    'pg-size': { type: 'string' },
    'pg-url': { type: 'string' },
    // Which databases measurement 7 runs (development: one of them).
    db: { type: 'string', default: 'sqlite,postgres' },
    // Measurement 7: only the import and the search runs (development).
    'search-only': { type: 'boolean', default: false },
  },
});
const size = Number(args.size);
const big = Number(args.big);
const creates = Number(args.creates);
const skipPeers = Boolean(args['skip-peers']);
const only = args.only ?? null;
const steps = ['import', 'search', 'create', 'scale', 'sync', 'mesh', 'pg'];
if (only && !steps.includes(only)) throw new Error(`--only must be one of ${steps.join(', ')}`);
// 100k keeps measurement 7 to a few minutes per database; it is the size issue 13's PostgreSQL rows are read at.
const pgSize = Number(args['pg-size'] ?? Math.min(size, 100_000));
const pgUrl = args['pg-url'] ?? process.env.OPENMTO_BENCH_PG ?? process.env.OPENMTO_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
for (const [k, v] of [['size', size], ['big', big], ['creates', creates], ['pg-size', pgSize]] as const) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer`);
}
const official = !only && !skipPeers && size === 100000 && big === 1000000;
const outFile = args.out ?? (official ? join(repoRoot, 'BENCHMARKS.md') : join(dataRoot, 'BENCHMARKS.dev.md'));

const work = join(dataRoot, 'runs');
const dirSize = join(work, `import-${size}`);
const dirBig = join(work, `import-${big}`);

const results: Results = { machine: machine(), options: { size, big, creates, skipPeers, only }, errors: [] };
const wanted = (s: string) => !only || only === s;

let aborted = false;

async function step(name: string, fn: () => Promise<void>): Promise<void> {
  if (aborted) return;
  log(`── ${name}`);
  try {
    await fn();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    log(`${name} FAILED: ${message}`);
    results.errors.push({ step: name, message });
  }
}

let base: ImportMeasurement | undefined;
/** The size-N data set of measurement 1, which measurement 3 searches. */
const IMPORT_RUNS = 3;
/** Issue 13: the import at half the SQLite-with-indexes ceiling (below it, the diagnostic re-run says why). */
const IMPORT_TARGET = 0.5;
/** Issue 13: people search's server CPU per query at most this × the bare node:https floor; above it, the server profile. */
const SEARCH_VS_FLOOR = 1.5;

/** The run whose value is the median (odd counts), so its other fields stay consistent with that value. */
function medianBy<T>(items: T[], value: (t: T) => number): T {
  return [...items].sort((a, b) => value(a) - value(b))[Math.floor(items.length / 2)] as T;
}

async function baseSet(): Promise<ImportMeasurement> {
  base ??= await importInto(dirSize, size);
  return base;
}

interface OursSides {
  sides: Side<SearchResult>[];
  index: Awaited<ReturnType<typeof waitForPeopleIndex>>;
  /** The server's peak RSS so far (VmHWM), MB. */
  peakRssMB(): number;
  stop(): Promise<void>;
}

const vmHwmMB = (pid: number) => Math.round(Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN) / 1024);

/**
 * openmto's server on a data set, ready to search (token taken, people index waited for), as one side per
 * query kind; `record` (per kind) is filled from each kind's first pass, for the floor.
 */
async function oursSides(
  dataDir: string, tenant: ImportMeasurement['tenant'], users: number, queries: string[], record?: Map<QueryKind, Map<string, string>>,
  nodeFlags: readonly string[] = [],
): Promise<OursSides> {
  const server = await startServer(dataDir, `openmto-serve-search-${users}`, nodeFlags);
  try {
    const token = await server.client.token(tenant);
    const index = await waitForPeopleIndex(server, tenant.tenantId);
    log(`people index: ${index.status}${index.users !== undefined ? ` with ${index.users} users` : ''} after ${index.waited_s.toFixed(1)} s`);
    const sides = (['filter', 'search'] as const).map((kind): Side<SearchResult> => ({
      name: `openmto ${kind} @${human(users)}`,
      pass: (round) => runSearch(server.client, token, server.pid, kind, queries, users, round === 1 ? record?.get(kind) : undefined),
    }));
    return {
      sides, index,
      peakRssMB: () => vmHwmMB(server.pid),
      async stop() {
        server.client.close();
        await server.stop();
      },
    };
  } catch (e) {
    await server.stop();
    throw e;
  }
}

const oursResults = (m: Map<string, Measured<SearchStats>>, ours: OursSides): SearchResult[] =>
  ours.sides.map((side) => ({ ...(asResult(m.get(side.name) as Measured<SearchStats>) as SearchResult), people_index: ours.index }));

/** openmto alone (measurement 4, and the base line of `--only scale`), in the same rounds; with the server's peak RSS. */
async function oursSearch(dataDir: string, tenant: ImportMeasurement['tenant'], users: number, queries: string[]): Promise<{ results: SearchResult[]; peakRssMB: number }> {
  const ours = await oursSides(dataDir, tenant, users, queries);
  try {
    const results = oursResults(await interleaved<SearchStats>(ours.sides), ours);
    return { results, peakRssMB: ours.peakRssMB() };
  } finally {
    await ours.stop();
  }
}

/** --profile: one pass of each query set against a server under `--cpu-prof` (not a measured run). */
async function profiledSearch(dataDir: string, tenant: ImportMeasurement['tenant'], users: number, queries: string[]): Promise<ProfileSummary> {
  const dir = join(dataRoot, 'profiles', `server-search-${users}`);
  rmSync(dir, { recursive: true, force: true });
  const ours = await oursSides(dataDir, tenant, users, queries, undefined, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  try {
    for (const side of ours.sides) await side.pass(1);
  } finally {
    await ours.stop();
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`the profiled server wrote no profile into ${dir}`);
  return summarizeFile(join(dir, file));
}

/**
 * Measurement 3: openmto, the floor and OpenLDAP in interleaved rounds (search.ts `interleaved`), so
 * every side meets the same machine noise; each is judged on the median of its last passes.
 */
async function searchWithPeers(set: ImportMeasurement, queries: string[]): Promise<NonNullable<Results['search']>> {
  const recorded = new Map<QueryKind, Map<string, string>>([['filter', new Map()], ['search', new Map()]]);
  const stops: (() => Promise<void>)[] = [];
  let ldap: LdapSet | undefined;
  try {
    const ours = await oursSides(set.dataDir, set.tenant, size, queries, recorded);
    stops.push(() => ours.stop());
    const peers: Side<LdapSearchResult>[] = [];
    let slapaddSeconds = 0;
    if (!skipPeers) {
      ldap = await ldapGen(`ldap-${size}`, size);
      slapaddSeconds = await ldapSlapaddQ(ldap);
      const slapd = await ldapStart(ldap);
      stops.push(() => slapd.stop());
      for (const filter of ['brief', 'anr'] as const) {
        for (const scope of ['global', 'tenant'] as const) peers.push(ldapSide(ldap, slapd.pid, filter, scope));
      }
    }
    const [oursFilter, oursSearch] = ours.sides as [Side<SearchResult>, Side<SearchResult>];
    // Each openmto kind next to its like-for-like peer (global scope); tenant scope last, for information.
    const order: Side<SearchStats>[] = [oursFilter, ...peers.slice(0, 1), oursSearch, ...peers.slice(2, 3), ...peers.slice(1, 2), ...peers.slice(3)];
    const floors: Side<SearchResult>[] = [];
    const measured = await interleaved<SearchStats>(order, async (round) => {
      if (round !== 1) return [];
      for (const [kind, bodies] of recorded) {
        const f = await floorSide(join(set.dataDir, 'tls'), work, kind, bodies, queries, size);
        stops.push(() => f.stop());
        floors.push(f);
      }
      return floors;
    });
    const search: NonNullable<Results['search']> = {
      ours: oursResults(measured, ours),
      floor: floors.map((f) => asResult(measured.get(f.name) as Measured<SearchStats>) as SearchResult),
      sql: [],
    };
    if (!skipPeers) search.peer = { users: size, slapaddSeconds, runs: peers.map((p) => asResult(measured.get(p.name) as Measured<SearchStats>) as LdapSearchResult) };
    return search;
  } finally {
    for (const stop of stops.reverse()) await stop();
    if (ldap && !args.keep) ldapRemove(ldap);
  }
}

/** Two runs would share bench/.data/work (and the cores): refuse to start next to a live one. */
function takeLock(): void {
  const lock = join(dataRoot, 'run.pid');
  mkdirSync(dataRoot, { recursive: true });
  const other = existsSync(lock) ? Number(readFileSync(lock, 'utf8')) : 0;
  if (other && other !== process.pid && alive(other)) throw new Error(`another bench run (pid ${other}) is going on; wait for it or stop it`);
  writeFileSync(lock, String(process.pid));
  ownsWork = true;
  onCleanup('lock', () => rmSync(lock, { force: true }));
}
let ownsWork = false;

async function main(): Promise<void> {
  const started = performance.now();
  takeLock();
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const queries = loadQueries();
  if (!skipPeers && (wanted('search') || wanted('create'))) {
    await step('peer prerequisites (slapd, ldap-utils, ldapts)', async () => {
      results.machine.slapd = await ensureLdapPackages();
      await ensureLdapts();
    });
  }

  if (wanted('import')) {
    await step(`1. bulk import ${human(size)}`, async () => {
      // Disk and page-cache noise on this VM class moves a single import by ±20 %: both sides run three
      // times, interleaved, and the medians are compared (every run is listed in the raw results).
      const runs = [await baseSet()];
      const peers = skipPeers ? [] : [await sqlitePeer(size)];
      for (let k = 2; k <= IMPORT_RUNS; k++) {
        const dir = join(work, `import-run-${k}`);
        runs.push(await importInto(dir, size));
        rmSync(dir, { recursive: true, force: true });
        if (!skipPeers) peers.push(await sqlitePeer(size));
      }
      const ours = { ...medianBy(runs, (m) => m.rowsPerSec), runs: runs.map((m) => m.rowsPerSec) };
      // Bytes per user of the first run's file, split per table and index (deterministic: one run is enough).
      const storage = sqliteStorage(join(runs[0]!.dataDir, 'openmto.db'), size, `${human(size)} home users, one tenant`);
      log(`storage: ${storage.bytesPerUser} bytes/user; ${storage.parts.slice(0, 12).map((p) => `${p.name} ${p.bytesPerUser}`).join(', ')}`);
      results.import = { ours, storage };
      if (peers.length) {
        results.import.peer = { ...medianBy(peers, (p) => p.phaseD.rows_per_s), runs: peers.map((p) => p.phaseD.rows_per_s) };
      }
      const peer = results.import.peer;
      if (args.profile || (peer && ours.rowsPerSec < peer.phaseD.rows_per_s * IMPORT_TARGET)) {
        // Missed the target (or asked to): re-run the same import instrumented, to say where the time goes.
        const d = await importInto(join(work, 'import-diagnosis'), size, { diagnose: true });
        results.import.diagnosis = { rows: size, seconds: d.seconds, sql: d.sql ?? [], profile: d.profile as NonNullable<typeof d.profile> };
        rmSync(join(work, 'import-diagnosis'), { recursive: true, force: true });
      }
    });
  }

  if (wanted('search')) {
    await step(`3. people search ${human(size)}`, async () => {
      const set = await baseSet();
      results.search = await searchWithPeers(set, queries);
      results.search.sql = await sqlSide(set.dataDir, set.tenant.tenantId, size, queries);
      // Issue 13: server CPU per query ≤ 1.5 × the floor; a miss gets the server's CPU profile, to say where the rest goes.
      const floorOf = (kind: QueryKind) => results.search?.floor?.find((f) => f.kind === kind)?.server_cpu_us_per_query;
      const missed = results.search.ours.some((o) => {
        const f = floorOf(o.kind);
        return f !== undefined && o.server_cpu_us_per_query > SEARCH_VS_FLOOR * f;
      });
      if (args.profile || missed) results.search.serverProfile = await profiledSearch(set.dataDir, set.tenant, size, queries);
    });
  }

  if (wanted('create')) {
    await step(`2. single-user creates (${creates})`, async () => {
      results.creates = { ours: await measureCreates(work, creates) };
      if (skipPeers) return;
      const ldap = await ldapGen(`ldap-add-${creates}`, creates);
      try {
        results.creates.peer = await ldapAdd(ldap);
      } finally {
        if (!args.keep) ldapRemove(ldap);
      }
    });
  }

  if (wanted('scale')) {
    await step(`4. people search ${human(big)}`, async () => {
      if (!results.search && wanted('search')) throw new Error(`measurement 3 failed; the ${human(big)} run is compared with it`);
      const set = await importInto(dirBig, big);
      const ours = await oursSearch(set.dataDir, set.tenant, big, queries);
      results.scale = {
        import: set, ours: ours.results, sql: await sqlSide(set.dataDir, set.tenant.tenantId, big, queries), serverPeakRssMB: ours.peakRssMB,
        // The server is stopped: the file is the bench's alone for the checkpoint.
        storage: sqliteStorage(join(set.dataDir, 'openmto.db'), big, `${human(big)} home users, one tenant`),
      };
      if (!results.search) {
        // --only scale: the base line it is compared with
        const b = await baseSet();
        results.search = { ours: (await oursSearch(b.dataDir, b.tenant, size, queries)).results, sql: await sqlSide(b.dataDir, b.tenant.tenantId, size, queries) };
      }
    });
  }
  if (wanted('sync')) {
    await step('5. cross-tenant sync', async () => {
      const sizes = [...new Set([Math.min(10_000, size), size])];
      const ours = await measureSync(work, sizes, pgUrl || null);
      const peers: Record<number, number> = {};
      if (!skipPeers) {
        for (const n of sizes) {
          peers[n] = n === size && results.import?.peer ? results.import.peer.phaseD.rows_per_s : (await sqlitePeer(n)).phaseD.rows_per_s;
        }
      }
      results.sync = { ours, peerRowsPerSec: peers };
    });
  }
  if (wanted('mesh')) {
    await step('6. reciprocal provisioning across an organization', async () => {
      const sizes = String(args['mesh-users']).split(',').map(Number);
      if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--mesh-users is a comma list of positive integers');
      const runs = [];
      const storage = [];
      // People search under load is measured on the first (smaller) mesh: the larger one's convergence is the point there.
      for (const [i, n] of sizes.entries()) {
        const m = await measureMesh(work, 10, n, i === 0);
        runs.push(m);
        // Bytes per user with B2B copies in the count: every user row of the mesh, home users and members alike.
        const users = 10 * n + m.b2bCreated;
        storage.push(sqliteStorage(join(work, `mesh-10x${n}`, 'openmto.db'), users, `${human(10 * n)} home users + ${human(m.b2bCreated)} B2B members, 10 tenants`));
      }
      const peer = results.import?.peer?.phaseD.rows_per_s ?? (skipPeers ? undefined : (await sqlitePeer(size)).phaseD.rows_per_s);
      results.mesh = { runs, storage, ...(peer ? { peerRowsPerSec: peer } : {}) };
    });
  }
  if (wanted('pg')) {
    const sides: DbSide[] = [];
    results.databases = { sides };
    const databases = results.databases;
    const o = {
      users: pgSize, creates, pgUrl, queries, profile: Boolean(args.profile), skipPeers, searchOnly: Boolean(args['search-only']),
      // Measurement 3 already ran the 1-client passes on SQLite at this size (same server, same data).
      skipSqliteSinglePass: Boolean(results.search) && pgSize === size,
    };
    const dbs = String(args.db).split(',');
    if (dbs.some((d) => d !== 'sqlite' && d !== 'postgres')) throw new Error('--db is a comma list of sqlite, postgres');
    // One step per database: a PostgreSQL failure keeps SQLite's side (and what PostgreSQL measured before it).
    for (const db of ['sqlite', 'postgres'] as const) {
      if (dbs.includes(db)) await step(`7. ${db === 'sqlite' ? 'SQLite' : 'PostgreSQL'} side by side (${human(pgSize)} users)`, () => measureDb(db, work, o, sides));
    }
    if (!skipPeers && results.import?.peer?.rows !== pgSize) {
      await step(`7. SQLite D at ${human(pgSize)}`, async () => {
        const d = await sqlitePeer(pgSize);
        databases.sqliteD = { rows: pgSize, rowsPerSec: d.phaseD.rows_per_s, ...(d.dbMB ? { dbMB: d.dbMB } : {}) };
      });
    }
  }
  results.totalSeconds = (performance.now() - started) / 1000;
  const end = treeState();
  if (end !== results.machine.commit) results.machine.commit = `${results.machine.commit} at start, ${end} at end`;
}

let exitCode = 0;
// Ctrl-C / SIGTERM: no further steps, stop what was started, write no report.
const onSignal = (sig: NodeJS.Signals) => {
  log(`${sig}: stopping what was started`);
  aborted = true;
  void runCleanups().finally(() => process.exit(130));
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
try {
  await main();
} catch (e) {
  results.errors.push({ step: 'bench', message: e instanceof Error ? e.message : String(e) });
} finally {
  await runCleanups();
  if (ownsWork && !args.keep) rmSync(work, { recursive: true, force: true });
}
if (aborted) process.exit(130);
writeFileSync(outFile, renderReport(results));
log(`wrote ${relative(repoRoot, outFile)}${results.errors.length ? ` with ${results.errors.length} failed step(s)` : ''}`);
if (results.errors.length) exitCode = 1;
process.exit(exitCode);
