// Measurement 5: the cross-tenant sync engine. In process on a SQLite file (the store's own pragmas):
// - initial cycle of N source users into one target (objects/s), beside the SQLite near-limit peer's
//   phase D at the same row count, measured in the same run;
// - a no-op cycle on the converged job (rows read, time), and a cycle after one change: O(changes);
// - one change from source commit to target commit with the scheduler live (p50, p99);
// then on PostgreSQL with two `openmto worker` processes sharing the job: initial cycle and propagation.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createAssignment, instantiateTemplate, AZURE2AZURE_TEMPLATE_ID } from '../src/apps/index.js';
import { type Actor, resolveActor } from '../src/directory/access.js';
import { importUsers } from '../src/directory/import.js';
import { updateUser } from '../src/directory/users.js';
import { systemClock } from '../src/domain/clock.js';
import { applicationPermissions } from '../src/identity/permissions.js';
import { createTenant } from '../src/identity/tenants.js';
import { ensurePartner, patchPartner, putIdentitySync } from '../src/policy/partners.js';
import { syncRepo } from '../src/store/repos/sync.js';
import { openStore, type Store } from '../src/store/store.js';
import { createJob, deleteSynchronizationOf, putSecrets, startJob, startSyncScheduler, type SyncScheduler } from '../src/sync/index.js';
import { dataRoot, log, repoRoot, round } from './env.js';
import { makeBodies } from './users.js';
import { tenantKeyOf } from '../src/store/repos/tenantKeys.js';

void createAssignment;

export interface CycleMeasurement {
  users: number;
  seconds: number;
  objectsPerSec: number;
  created: number;
  peakRssMB: number;
}

export interface SyncMeasurement {
  sqlite: {
    initial: CycleMeasurement[];
    noop: { seconds: number; objectsRead: number; changeRowsRead: number; users: number };
    oneChange: { seconds: number; objectsRead: number };
    propagation: { n: number; p50_ms: number; p99_ms: number; max_ms: number; timeouts: number };
  };
  postgres?: {
    workers: number;
    initial: CycleMeasurement;
    propagation: { n: number; p50_ms: number; p99_ms: number; max_ms: number; timeouts: number };
  };
}

const operator = (store: Store, tenantId: string): Promise<Actor> => resolveActor(store.db, {
  tenantId, kind: 'app', appId: 'bench', roles: new Set(applicationPermissions), scopes: new Set(),
} as Parameters<typeof resolveActor>[1]);

interface Pair {
  a: string;
  b: string;
  spId: string;
  jobId: string;
  users: string[];
}

/** Two tenants, N users in A (the shared generator's people), the three policies, a Sync-all job (not started). */
async function pair(store: Store, n: number, label: string): Promise<Pair> {
  const clock = systemClock;
  const a = await createTenant(store, clock, { name: `Source ${label}`, domain: `source-${label}.bench.test` });
  const b = await createTenant(store, clock, { name: `Target ${label}`, domain: `target-${label}.bench.test` });
  const bodies = await makeBodies(0, n, a.domain);
  const r = await importUsers({ store, clock }, a.tenantId, bodies);
  if (r.failed.length) throw new Error(`import failed: ${r.failed[0]?.message}`);
  const at = clock.now().toISOString();
  await store.transaction(async (db) => {
    await ensurePartner(db, b.tenantId, a.tenantId, at);
    await putIdentitySync(db, b.tenantId, a.tenantId, { userSyncInbound: { isSyncAllowed: true } }, at);
    await patchPartner(db, b.tenantId, a.tenantId, { automaticUserConsentSettings: { inboundAllowed: true } }, at);
    await ensurePartner(db, a.tenantId, b.tenantId, at);
    await patchPartner(db, a.tenantId, b.tenantId, { automaticUserConsentSettings: { outboundAllowed: true } }, at);
  });
  const actor = await operator(store, a.tenantId);
  const ctx = { store, clock };
  const created = await instantiateTemplate({ ...ctx, onDelete: deleteSynchronizationOf }, a.tenantId, actor, AZURE2AZURE_TEMPLATE_ID, { displayName: 'bench' });
  const spId = created.servicePrincipal.id as string;
  const job = await createJob(ctx, a.tenantId, actor, spId, { templateId: 'Azure2Azure' });
  await putSecrets(ctx, a.tenantId, actor, spId, { value: [
    { key: 'CompanyId', value: b.tenantId }, { key: 'SyncAll', value: 'true' },
    { key: 'SyncNotificationSettings', value: JSON.stringify({ DeleteThresholdEnabled: false }) },
  ] });
  const ids = await store.db.selectFrom('users').select('id').where('tenant_no', '=', tenantKeyOf(a.tenantId)).orderBy('id').execute();
  return { a: a.tenantId, b: b.tenantId, spId, jobId: job.id, users: ids.map((x) => x.id) };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((x, y) => x - y);
  return round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0, 2);
};

async function linked(store: Store, p: Pair): Promise<number> {
  const r = await store.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_no', '=', tenantKeyOf(p.b))
    .where('home_tenant_id', '=', p.a).executeTakeFirst();
  return Number(r?.n ?? 0);
}

/** Initial cycle, in process, timed from start to the last batch's commit. */
async function initialCycle(store: Store, sync: SyncScheduler, n: number, label: string): Promise<{ m: CycleMeasurement; p: Pair }> {
  const p = await pair(store, n, label);
  let peak = process.memoryUsage().rss;
  const sample = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 200);
  const t = performance.now();
  await startJob({ store, clock: systemClock }, p.a, await operator(store, p.a), p.spId, p.jobId);
  await sync.drain();
  const seconds = (performance.now() - t) / 1000;
  clearInterval(sample);
  const created = await linked(store, p);
  if (created !== n) throw new Error(`initial cycle created ${created} of ${n}`);
  log(`sync initial cycle ${n}: ${round(seconds, 2)} s, ${Math.round(n / seconds)} objects/s`);
  return { p, m: { users: n, seconds: round(seconds, 2), objectsPerSec: Math.round(n / seconds), created, peakRssMB: Math.round(peak / 2 ** 20) } };
}

/**
 * Commits one change in the source at a time and waits for the target tenant's next commit, as the store
 * announces it (in process on SQLite; NOTIFY from the worker processes on PostgreSQL).
 */
async function propagation(store: Store, p: Pair, n: number): Promise<{ n: number; p50_ms: number; p99_ms: number; max_ms: number; timeouts: number }> {
  let waiting: ((t: number) => void) | null = null;
  const off = store.onChange((tenants, bySync) => {
    if ((tenants?.includes(p.b) || bySync.includes(p.b)) && waiting) {
      const w = waiting;
      waiting = null;
      w(performance.now());
    }
  });
  // A PostgreSQL listener connects asynchronously: let it LISTEN before the first change.
  await new Promise((r) => setTimeout(r, 500));
  const actor = await operator(store, p.a);
  const lat: number[] = [];
  let timeouts = 0;
  try {
    for (let i = 0; i < n; i++) {
      const id = p.users[(i * 7919) % p.users.length]!;
      const arrived = new Promise<number>((resolve) => {
        waiting = resolve;
        setTimeout(() => resolve(Number.NaN), 5000);
      });
      const t0 = performance.now();
      await updateUser({ store, clock: systemClock }, p.a, actor, id, { jobTitle: `Title ${i} ${Date.now()}` });
      const t1 = await arrived;
      waiting = null;
      if (Number.isNaN(t1)) timeouts += 1;
      else lat.push(t1 - t0);
    }
  } finally {
    off();
  }
  return { n, p50_ms: pct(lat, 50), p99_ms: pct(lat, 99), max_ms: round(Math.max(...lat), 2), timeouts };
}

export async function measureSync(work: string, sizes: readonly number[], pgUrl: string | null): Promise<SyncMeasurement> {
  const dir = join(work, 'sync');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const store = await openStore({ url: join(dir, 'openmto.db') });
  // The bench drives the engine itself (drain) for the cycles, and lets it run live for propagation.
  const runs: { report: { counts: { imported: number } }; ms: number }[] = [];
  const sync = startSyncScheduler(store, systemClock, { pollMs: 1000, onRun: (_t, _j, report, ms) => runs.push({ report, ms }) });
  const nextRun = async () => {
    const seen = runs.length;
    for (let i = 0; i < 2000 && runs.length === seen; i++) await new Promise((r) => setTimeout(r, 2));
    return runs.at(-1)!;
  };
  try {
    const initial: CycleMeasurement[] = [];
    let last: Pair | undefined;
    for (const n of sizes) {
      const r = await initialCycle(store, sync, n, `s${n}`);
      initial.push(r.m);
      last = r.p;
    }
    const p = last!;
    // No-op cycle: the job is converged; queue a run and time it (the engine's own run, as the scheduler reports it).
    const w0 = (await syncRepo.job(store.db, p.a, p.jobId))!.watermark;
    await sync.kick(p.a, [p.jobId]);
    const noopRun = await nextRun();
    const w1 = (await syncRepo.job(store.db, p.a, p.jobId))!.watermark;
    const noop = { seconds: round(noopRun.ms / 1000, 4), objectsRead: noopRun.report.counts.imported, changeRowsRead: w1 - w0, users: p.users.length };
    // One change, then the cycle it triggers.
    await updateUser({ store, clock: systemClock }, p.a, await operator(store, p.a), p.users[0]!, { jobTitle: 'changed once' });
    const oneRun = await nextRun();
    const oneChange = { seconds: round(oneRun.ms / 1000, 4), objectsRead: oneRun.report.counts.imported };
    // Propagation with the scheduler live: the target tenant's commit is announced by the store.
    const prop = await propagation(store, p, 200);
    log(`sync propagation sqlite: p50 ${prop.p50_ms} ms, p99 ${prop.p99_ms} ms`);
    const result: SyncMeasurement = { sqlite: { initial, noop, oneChange, propagation: prop } };
    if (pgUrl) result.postgres = await measurePostgres(pgUrl, Math.min(...sizes));
    return result;
  } finally {
    await sync.stop();
    await store.close();
  }
}

async function measurePostgres(url: string, n: number): Promise<NonNullable<SyncMeasurement['postgres']>> {
  const database = `openmto_bench_sync_${process.pid}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${database}"`);
  const u = new URL(url);
  u.pathname = `/${database}`;
  const dbUrl = u.toString();
  const store = await openStore({ url: dbUrl });
  const workers: ChildProcess[] = [];
  try {
    const p = await pair(store, n, 'pg');
    for (let i = 0; i < 2; i++) {
      workers.push(spawn(process.execPath, [join(repoRoot, 'bin', 'openmto.mjs'), 'worker', '--data', join(dataRoot, 'runs', 'sync-pg')], {
        env: { ...process.env, OPENMTO_DATABASE_URL: dbUrl }, stdio: 'ignore',
      }));
    }
    await new Promise((r) => setTimeout(r, 4000));
    let peak = process.memoryUsage().rss;
    const t = performance.now();
    await startJob({ store, clock: systemClock }, p.a, await operator(store, p.a), p.spId, p.jobId);
    for (;;) {
      if ((await linked(store, p)) === n) break;
      await new Promise((r) => setTimeout(r, 20));
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    const seconds = (performance.now() - t) / 1000;
    log(`sync initial cycle postgres ${n}: ${round(seconds, 2)} s`);
    // Propagation: the bench process listens for the target tenant's commits (NOTIFY from the workers).
    const prop = await propagation(store, p, 100);
    log(`sync propagation postgres: p50 ${prop.p50_ms} ms, p99 ${prop.p99_ms} ms`);
    return { workers: 2, initial: { users: n, seconds: round(seconds, 2), objectsPerSec: Math.round(n / seconds), created: n, peakRssMB: Math.round(peak / 2 ** 20) }, propagation: prop };
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1000));
    await store.close();
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.end();
  }
}
