// Measurement 1 (and the 1M load of measurement 4): bulk import of the generated people into one tenant
// through openmto's own import path (`importUsers`), in this process, on a SQLite file (WAL) in a fresh
// data dir. Anchor: the SQLite near-limit peer's phase D (3 B-tree indexes + FTS5 triggers live, 10k-row
// transactions) run here at the same row count.
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { importUsers } from '../src/directory/import.js';
import { systemClock } from '../src/domain/clock.js';
import { openStore } from '../src/store/store.js';
import { dataRoot, log, peersDir, repoRoot, round, run } from './env.js';
import { type ProfileSummary, profiled } from './profile.js';
import { instrumentSqlite, type SqlShare } from './sqlstats.js';
import { type BenchTenant, createTenantCli } from './server.js';
import { makeBodies } from './users.js';

export interface ImportMeasurement {
  rows: number;
  seconds: number;
  rowsPerSec: number;
  generateSeconds: number;
  dbMB: number;
  /** Peak RSS of the bench process (includes the generated bodies held in memory). */
  peakRssMB: number;
  dataDir: string;
  tenant: BenchTenant;
  profile?: ProfileSummary;
  sql?: SqlShare[];
  /** rows/s of every repeat, when the measurement is the median of several. */
  runs?: number[];
}

const dbMB = (dir: string) =>
  round(['openmto.db', 'openmto.db-wal'].map((f) => join(dir, f)).filter(existsSync).reduce((s, f) => s + statSync(f).size, 0) / 2 ** 20, 1);

/** Fresh data dir, tenant via the CLI, then `importUsers` of users 0..n-1 timed (body generation excluded). */
/** `diagnose` adds a CPU profile and per-statement SQLite times (slower: never the measured run). */
export async function importInto(dataDir: string, n: number, opts: { diagnose?: boolean } = {}): Promise<ImportMeasurement> {
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const tenant = await createTenantCli(dataDir, 'Bench', 'bench.openmto.test');
  let t = performance.now();
  const items = await makeBodies(0, n, tenant.domain);
  const generateSeconds = (performance.now() - t) / 1000;
  const store = await openStore({ url: join(dataDir, 'openmto.db') });
  let seconds: number;
  let profile: ProfileSummary | undefined;
  let sql: SqlShare[] | undefined;
  try {
    const ctx = { store, clock: systemClock };
    const go = () => importUsers(ctx, tenant.tenantId, items);
    t = performance.now();
    let result: Awaited<ReturnType<typeof importUsers>>;
    if (opts.diagnose) {
      mkdirSync(join(dataRoot, 'profiles'), { recursive: true });
      const stats = instrumentSqlite();
      try {
        const p = await profiled(join(dataRoot, 'profiles', `import-${n}.cpuprofile`), go);
        result = p.value;
        profile = p.summary;
      } finally {
        sql = stats.stop();
      }
    } else {
      result = await go();
    }
    seconds = (performance.now() - t) / 1000;
    if (result.failed.length || result.imported !== n) {
      const f = result.failed[0];
      throw new Error(`import of ${n} users: ${result.imported} imported, ${result.failed.length} failed${f ? ` (#${f.index}: ${f.code} ${f.message})` : ''}`);
    }
  } finally {
    // SQLite checkpoints the WAL into the main file on the last close, so the size below is the DB's.
    await store.close();
  }
  log(`imported ${n} users in ${seconds.toFixed(2)} s (${Math.round(n / seconds)}/s)${opts.diagnose ? ' [diagnostic run]' : ''}`);
  return {
    rows: n, seconds: round(seconds, 2), rowsPerSec: Math.round(n / seconds), generateSeconds: round(generateSeconds, 2),
    dbMB: dbMB(dataDir), peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024), dataDir, tenant,
    ...(profile ? { profile } : {}), ...(sql ? { sql } : {}),
  };
}

export interface SqlitePeer {
  rows: number;
  phaseD: { seconds: number; rows_per_s: number };
  dbMB?: number;
  lines: Record<string, unknown>[];
  runs?: number[];
}

/** `sqlite-limit/bench.mjs --rows N` (all phases; we report D), scratch under bench/.data/peers. */
export async function sqlitePeer(n: number): Promise<SqlitePeer> {
  const cwd = join(dataRoot, 'peers');
  const dir = join(cwd, '.scratch', `sqlite-limit-${n}`);
  mkdirSync(cwd, { recursive: true });
  try {
    const { stdout } = await run(process.execPath, ['--max-old-space-size=6144', join(peersDir, 'sqlite-limit/bench.mjs'), '--rows', String(n), '--dir', dir], {
      cwd, env: { ...process.env, PERF_PROBE: repoRoot }, logName: 'peer-sqlite',
    });
    const lines = stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const d = lines.find((l) => l.label === 'D_insert_with_indexes_and_fts_triggers');
    if (!d) throw new Error('sqlite peer printed no phase D line');
    const size = lines.find((l) => l.label === 'D_db_size');
    log(`sqlite peer D: ${d.seconds} s, ${d.rows_per_s} rows/s`);
    return { rows: n, phaseD: { seconds: Number(d.seconds), rows_per_s: Number(d.rows_per_s) }, ...(size ? { dbMB: Number(size.mb) } : {}), lines };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
