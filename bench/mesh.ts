// Measurement 6: reciprocal provisioning across a whole organization (the seed's collaborating user set at
// scale). T tenants with U internal users each; every tenant syncs all its users into every other tenant
// (T(T−1) jobs, Sync all), in process on one SQLite file: time to convergence and objects/s; propagation of
// one change to all T−1 other tenants; people-search latency over HTTPS, idle and while every job re-reads
// its source (restart), with the engine running in the same server process; peak RSS.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AZURE2AZURE_TEMPLATE_ID, instantiateTemplate } from '../src/apps/index.js';
import { type Actor, resolveActor } from '../src/directory/access.js';
import { importUsers } from '../src/directory/import.js';
import { updateUser } from '../src/directory/users.js';
import { systemClock } from '../src/domain/clock.js';
import { applicationPermissions } from '../src/identity/permissions.js';
import { createApp, createTenant } from '../src/identity/tenants.js';
import { ensurePartner, patchPartner, putIdentitySync } from '../src/policy/partners.js';
import { startServer } from '../src/server.js';
import { openStore, type Store } from '../src/store/store.js';
import { createJob, deleteSynchronizationOf, putSecrets, restartJob, startJob, startSyncScheduler } from '../src/sync/index.js';
import { log, round } from './env.js';
import { makeBodies } from './users.js';
import { tenantKeyOf } from '../src/store/repos/tenantKeys.js';

export interface MeshMeasurement {
  tenants: number;
  usersPerTenant: number;
  jobs: number;
  b2bCreated: number;
  seconds: number;
  objectsPerSec: number;
  peakRssMB: number;
  propagation: { n: number; p50_ms: number; p99_ms: number; max_ms: number; timeouts: number };
  search?: { n: number; idle_p50_ms: number; idle_p99_ms: number; busy_p50_ms: number; busy_p99_ms: number; ratio_p99: number };
}

const operator = (store: Store, tenantId: string): Promise<Actor> => resolveActor(store.db, {
  tenantId, kind: 'app', appId: 'bench', roles: new Set(applicationPermissions), scopes: new Set(),
} as Parameters<typeof resolveActor>[1]);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((x, y) => x - y);
  return round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0, 2);
};

interface Mesh {
  tenants: { id: string; domain: string }[];
  jobs: { tenantId: string; spId: string; jobId: string }[];
}

async function build(store: Store, t: number, u: number): Promise<Mesh> {
  const clock = systemClock;
  const tenants: Mesh['tenants'] = [];
  for (let k = 0; k < t; k++) {
    const created = await createTenant(store, clock, { name: `Mesh ${k}`, domain: `mesh${k}.bench.test` });
    tenants.push({ id: created.tenantId, domain: created.domain });
    // Each tenant its own slice of the generator's people, so no address is held twice across tenants.
    const r = await importUsers({ store, clock }, created.tenantId, await makeBodies(k * u, u, created.domain));
    if (r.failed.length) throw new Error(`import failed: ${r.failed[0]?.message}`);
  }
  const at = clock.now().toISOString();
  const jobs: Mesh['jobs'] = [];
  for (const s of tenants) {
    await store.transaction(async (db) => {
      for (const x of tenants) {
        if (x.id === s.id) continue;
        await ensurePartner(db, s.id, x.id, at);
        await patchPartner(db, s.id, x.id, { automaticUserConsentSettings: { inboundAllowed: true, outboundAllowed: true } }, at);
        await putIdentitySync(db, s.id, x.id, { userSyncInbound: { isSyncAllowed: true } }, at);
      }
    });
    const actor = await operator(store, s.id);
    const ctx = { store, clock };
    for (const x of tenants) {
      if (x.id === s.id) continue;
      const created = await instantiateTemplate({ ...ctx, onDelete: deleteSynchronizationOf }, s.id, actor, AZURE2AZURE_TEMPLATE_ID, { displayName: `MTO_Sync_${x.id}` });
      const spId = created.servicePrincipal.id as string;
      const job = await createJob(ctx, s.id, actor, spId, { templateId: 'Azure2Azure' });
      await putSecrets(ctx, s.id, actor, spId, { value: [
        { key: 'CompanyId', value: x.id }, { key: 'SyncAll', value: 'true' },
        { key: 'SyncNotificationSettings', value: JSON.stringify({ DeleteThresholdEnabled: false }) },
      ] });
      jobs.push({ tenantId: s.id, spId, jobId: job.id });
    }
  }
  return { tenants, jobs };
}

async function b2bCount(store: Store): Promise<number> {
  const r = await store.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('home_tenant_id', 'is not', null).executeTakeFirst();
  return Number(r?.n ?? 0);
}

export async function measureMesh(work: string, t: number, u: number, withSearch: boolean): Promise<MeshMeasurement> {
  const dir = join(work, `mesh-${t}x${u}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'openmto.db');
  let store = await openStore({ url: file });
  const mesh = await build(store, t, u);
  let peak = process.memoryUsage().rss;
  const sample = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 250);
  try {
    // Convergence: every job started, the engine drains them all.
    const sync = startSyncScheduler(store, systemClock, { pollMs: 1000 });
    const began = performance.now();
    for (const j of mesh.jobs) await startJob({ store, clock: systemClock }, j.tenantId, await operator(store, j.tenantId), j.spId, j.jobId);
    await sync.drain();
    const seconds = (performance.now() - began) / 1000;
    const created = await b2bCount(store);
    log(`mesh ${t}×${u}: ${created} B2B members in ${round(seconds, 1)} s (${Math.round(created / seconds)} objects/s)`);
    // Propagation of one change to every other tenant, the engine live.
    const others = new Set(mesh.tenants.slice(1).map((x) => x.id));
    let seen = new Set<string>();
    let done: ((t: number) => void) | null = null;
    const off = store.onChange((ids, bySync) => {
      for (const id of [...(ids ?? []), ...bySync]) if (others.has(id)) seen.add(id);
      if (done && seen.size === others.size) {
        const d = done;
        done = null;
        d(performance.now());
      }
    });
    const source = mesh.tenants[0]!;
    const ids = (await store.db.selectFrom('users').select('id').where('tenant_no', '=', tenantKeyOf(source.id)).where('home_tenant_id', 'is', null).limit(500).execute()).map((r) => r.id);
    const actor = await operator(store, source.id);
    const lat: number[] = [];
    let timeouts = 0;
    for (let i = 0; i < 50; i++) {
      seen = new Set();
      const arrived = new Promise<number>((resolve) => {
        done = resolve;
        setTimeout(() => resolve(Number.NaN), 10_000);
      });
      const t0 = performance.now();
      await updateUser({ store, clock: systemClock }, source.id, actor, ids[(i * 37) % ids.length]!, { jobTitle: `Mesh ${i} ${Date.now()}` });
      const t1 = await arrived;
      done = null;
      if (Number.isNaN(t1)) timeouts += 1;
      else lat.push(t1 - t0);
    }
    off();
    await sync.stop();
    const propagation = { n: 50, p50_ms: pct(lat, 50), p99_ms: pct(lat, 99), max_ms: round(Math.max(...lat), 2), timeouts };
    log(`mesh propagation to ${others.size} tenants: p50 ${propagation.p50_ms} ms, p99 ${propagation.p99_ms} ms`);
    const result: MeshMeasurement = {
      tenants: t, usersPerTenant: u, jobs: mesh.jobs.length, b2bCreated: created, seconds: round(seconds, 1),
      objectsPerSec: Math.round(created / seconds), peakRssMB: 0, propagation,
    };
    if (withSearch) {
      await store.close();
      result.search = await searchUnderSync(dir, file, mesh);
      store = await openStore({ url: file });
    }
    result.peakRssMB = Math.round(peak / 2 ** 20);
    return result;
  } finally {
    clearInterval(sample);
    await store.close();
  }
}

/** Resolves once this process has used under 10 % of a core over 250 ms (or after 30 s). */
async function quiet(): Promise<void> {
  const until = performance.now() + 30_000;
  while (performance.now() < until) {
    const before = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 250));
    const used = process.cpuUsage(before);
    if ((used.user + used.system) / 1000 < 25) return;
  }
}

/**
 * People search ($search, 25 rows) over HTTPS against a server on the mesh data, 1 client: idle, then while
 * every job of the organization re-reads its whole source (restart with Watermark), the engine running in
 * the same process as the searches it competes with.
 */
async function searchUnderSync(dir: string, file: string, mesh: Mesh): Promise<NonNullable<MeshMeasurement['search']>> {
  const server = await startServer({ dataDir: dir, databaseUrl: file, port: 0, host: '127.0.0.1', http: true, demo: false });
  try {
    const tenant = mesh.tenants[0]!;
    const app = await createApp(server.store, systemClock, tenant.id, { name: 'search', permissions: ['User.Read.All'] });
    const tok = await fetch(`${server.url}/${tenant.id}/oauth2/v2.0/token`, {
      method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: app.clientId, client_secret: app.clientSecret ?? '', scope: 'https://graph.microsoft.com/.default' }),
    });
    const token = ((await tok.json()) as { access_token: string }).access_token;
    const prefixes = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'j', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'w'];
    const pass = async (n: number) => {
      const lat: number[] = [];
      for (let i = 0; i < n; i++) {
        const p = `${prefixes[i % prefixes.length]}${prefixes[(i * 7) % prefixes.length]}`;
        const t0 = performance.now();
        const r = await fetch(`${server.url}/v1.0/users?$search="displayName:${p}"&$top=25&$select=id,displayName,mail`, {
          headers: { authorization: `Bearer ${token}`, consistencylevel: 'eventual' },
        });
        await r.text();
        if (r.status !== 200) throw new Error(`search answered ${r.status}`);
        lat.push(performance.now() - t0);
      }
      return lat;
    };
    await pass(500);
    // The first search built the tenant's people index, and the server then warms its request path with
    // 2,000 searches of its own over the loopback (api/warmup.ts). Measured beside them, "idle" was not
    // idle: wait until this process (server and bench alike) is quiet before the idle pass.
    await quiet();
    const idle = await pass(1000);
    const ctx = { store: server.store, clock: systemClock };
    for (const j of mesh.jobs) await restartJob({ ...ctx, kick: (tid, ids) => void server.sync?.kick(tid, ids) }, j.tenantId, await operator(server.store, j.tenantId), j.spId, j.jobId, { criteria: { resetScope: 'Watermark' } });
    server.sync?.wake();
    const busy = await pass(1000);
    const r = {
      n: 1000, idle_p50_ms: pct(idle, 50), idle_p99_ms: pct(idle, 99), busy_p50_ms: pct(busy, 50), busy_p99_ms: pct(busy, 99),
      ratio_p99: round(pct(busy, 99) / Math.max(0.01, pct(idle, 99)), 2),
    };
    log(`mesh search p99: idle ${r.idle_p99_ms} ms, during a mesh resync ${r.busy_p99_ms} ms`);
    return r;
  } finally {
    await server.close();
  }
}
