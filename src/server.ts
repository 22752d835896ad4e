// Starting and stopping a server: store, signing key, operator key, TLS, HTTP app, background work.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type AppHooks, buildApp } from './api/app.js';
import { ensureCertificate } from './api/tls.js';
import { type ServerConfig, databaseUrlFor, isSqliteFile, peopleIndexIdleSeconds, peopleIndexMaxUsers, peopleIndexWarm } from './config.js';
import { type DataDirLock, lockDataDir, secureDataDir } from './datadir.js';
import { type Clock, systemClock } from './domain/clock.js';
import { purgeExpiredUsers } from './directory/users.js';
import { type Keyring, keyringFromEnv, useKeyring } from './identity/keyring.js';
import { loadSigningKey } from './identity/keys.js';
import { hashSecret } from './identity/secrets.js';
import { startTransitionWorker, type TransitionOptions, type TransitionWorker } from './mto/transitions.js';
import { SignInGuard, type SignInGuardOptions } from './identity/throttle.js';
import { TokenService } from './identity/tokens.js';
import { provisioningLogDays, syncEngineFromEnv } from './config.js';
import { pruneProvisioningLog, type SchedulerOptions, type SyncScheduler, startSyncScheduler } from './sync/index.js';
import { syncRepo } from './store/repos/sync.js';
import { CHANGE_LOG_RETENTION_MS, changesRepo } from './store/repos/changes.js';
import { serverRepo } from './store/repos/server.js';
import { tenantsRepo } from './store/repos/tenants.js';
import { enablePeopleIndex } from './store/people/cache.js';
import { recentlySearched, saveRecentlySearched } from './store/people/recent.js';
import { warmUpPeopleSearch } from './api/warmup.js';
import { openStore, type Store } from './store/store.js';

export interface RunningServer {
  app: FastifyInstance;
  store: Store;
  url: string;
  certPath: string | null;
  operatorKeyPath: string;
  clock: Clock;
  /** The sync scheduler of this process (absent with `sync: false`). */
  sync: SyncScheduler | undefined;
  close(): Promise<void>;
}

export interface StartOptions extends ServerConfig {
  clock?: Clock;
  logger?: boolean;
  /** Where log lines go (default stdout). */
  logStream?: NodeJS.WritableStream;
  /** PostgreSQL schema (tests isolate themselves). */
  schema?: string;
  hooks?: AppHooks;
  /** Multi-tenant organization transition worker (tests lower the active-tenant cap). */
  mto?: TransitionOptions;
  /** The sync engine's scheduler (tests shorten its timings); false runs no sync work in this process. */
  sync?: SchedulerOptions | false;
  /** Key encryption keys for keys at rest (default: from the environment, identity/keyring.ts). */
  keyring?: Keyring;
  /** Sign-in lockout and scrypt admission settings (tests shorten them). */
  guard?: Partial<SignInGuardOptions>;
}

/** The operator key is generated once into the data directory; only its hash is kept in the store. */
async function ensureOperatorKey(store: Store, dataDir: string): Promise<{ path: string; hash: string }> {
  const path = join(dataDir, 'operator.key');
  let key: string;
  if (existsSync(path)) {
    key = (await readFile(path, 'utf8')).trim();
  } else {
    key = `omk_${randomBytes(32).toString('base64url')}`;
    await writeFile(path, `${key}\n`, { mode: 0o600 });
  }
  const stored = await serverRepo.setting(store.db, 'operatorKeyHash');
  const { verifySecret } = await import('./identity/secrets.js');
  if (stored && (await verifySecret(key, stored))) return { path, hash: stored };
  const hash = await hashSecret(key);
  await serverRepo.setSetting(store.db, 'operatorKeyHash', hash);
  return { path, hash };
}

/** Work items queued or running, per queue of the shared work queue (MTO transitions, sync). */
async function queueDepth(store: Store) {
  const rows = await store.db.selectFrom('work_items').select((eb) => ['queue', eb.fn.countAll<number>().as('n')])
    .where('status', 'in', ['queued', 'running']).groupBy('queue').execute();
  return rows.map((r) => ({ labels: { queue: r.queue }, value: Number(r.n) }));
}

/** Sync jobs by status code (Active, Paused, Quarantine, NotRun), for the metrics scrape. */
async function syncJobsByCode(store: Store) {
  const counts = new Map<string, number>();
  for (const code of await syncRepo.statusCodes(store.db)) counts.set(code, (counts.get(code) ?? 0) + 1);
  return [...counts].map(([code, value]) => ({ labels: { code }, value }));
}

// Soft-deleted users are purged 30 days after deletion; an hourly sweep keeps that within the hour.
const PURGE_INTERVAL_MS = 3_600_000;

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  const databaseUrl = options.databaseUrl || databaseUrlFor(options.dataDir);
  const sqliteFile = isSqliteFile(databaseUrl);
  secureDataDir(options.dataDir, sqliteFile ? databaseUrl : undefined);
  // One server per SQLite data folder; on PostgreSQL several servers share the database.
  const lock: DataDirLock | undefined = sqliteFile ? lockDataDir(options.dataDir) : undefined;
  try {
    return await start(options, clock, databaseUrl, lock);
  } catch (e) {
    lock?.release();
    throw e;
  }
}

async function start(options: StartOptions, clock: Clock, databaseUrl: string, lock: DataDirLock | undefined): Promise<RunningServer> {
  const store = await openStore({ url: databaseUrl, ...(options.schema ? { schema: options.schema } : {}) });
  useKeyring(store, options.keyring ?? keyringFromEnv());
  const peopleBudget = peopleIndexMaxUsers();
  const key = await loadSigningKey(store, clock.now());
  // The first index built warms the request path (api/warmup.ts); `app` and `url` exist by then (builds start after listen).
  const people = peopleBudget > 0
    ? enablePeopleIndex(store.db, {
      maxUsers: peopleBudget, idleSeconds: peopleIndexIdleSeconds(), clock,
      afterFirstBuild: (tenantId) => warmUpPeopleSearch(app, key, tenantId, { base: url, now: clock.now() }),
    })
    : undefined;
  const recentFile = join(options.dataDir, 'people-index.json');
  const saveRecent = () => {
    try {
      if (people) saveRecentlySearched(recentFile, people, clock.now());
    } catch (e) {
      app.log.error(e);
    }
  };
  const tokens = new TokenService(store, key, clock, new SignInGuard(options.guard));
  const operator = await ensureOperatorKey(store, options.dataDir);
  const tls = options.http ? null : await ensureCertificate(options.dataDir);
  // Commits that queue MTO transitions wake the worker at once; its poll is only the safety net.
  let mtoWorker: TransitionWorker | undefined;
  let sync: SyncScheduler | undefined;
  const hooks: AppHooks = {
    ...options.hooks,
    wake: (topic, tenantId) => {
      options.hooks?.wake?.(topic, tenantId);
      if (topic === 'mto') mtoWorker?.wake();
      if (topic.startsWith('sync:')) sync?.kick(tenantId, [topic.slice(5)]).catch((e) => app.log.error(e));
      if (topic === 'crossTenantAccessPolicy') sync?.policyChanged().catch((e) => app.log.error(e));
    },
  };
  const app = await buildApp(
    { store, clock, tokens, operatorKeyHash: operator.hash, hooks },
    {
      ...(tls ? { https: { key: tls.key, cert: tls.cert } } : {}), logger: options.logger ?? false,
      ...(options.logStream ? { logStream: options.logStream } : {}),
      ...(options.trustProxy !== undefined ? { trustProxy: options.trustProxy } : {}),
    },
  );
  app.metrics.gauge('openmto_queue_depth', 'Background work queued or running, by queue', () => queueDepth(store), ['queue']);
  try {
    await app.listen({ port: options.port, host: options.host });
  } catch (e) {
    await app.close();
    await store.close();
    throw (e as NodeJS.ErrnoException).code === 'EADDRINUSE'
      ? new Error(`port ${options.port} on ${options.host} is already in use; pick another with --port N (npm start -- --port N)`)
      : e;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host;
  const url = `${options.http ? 'http' : 'https'}://${host}:${port}`;

  // Returns the tenants it saw: at start, the people index warms up with them.
  const sweep = async (): Promise<string[]> => {
    const tenants = await tenantsRepo.list(store.db);
    people?.retain(tenants.map((t) => t.id));
    for (const t of tenants) {
      await purgeExpiredUsers({ store, clock }, t.id);
      // Change-log history older than the delta-token lifetime (see CHANGE_LOG_RETENTION_DAYS).
      const now = clock.now();
      const cutoff = new Date(now.getTime() - CHANGE_LOG_RETENTION_MS).toISOString();
      // History an active sync job has not read yet stays; a paused job that falls behind the floor re-reads everything.
      await store.transaction(async (db) => {
        const keep = await syncRepo.minActiveWatermark(db, t.id);
        await changesRepo.prune(db, t.id, cutoff, now.toISOString(), keep ?? undefined);
        await pruneProvisioningLog(db, t.id, now, provisioningLogDays());
      });
    }
    return tenants.map((t) => t.id);
  };
  const tenantIds = await sweep();
  const timer = setInterval(() => sweep().catch((e) => app.log.error(e)), PURGE_INTERVAL_MS);
  timer.unref();
  // People indexes build in the background; searches use SQL until a tenant's is ready. At start only the
  // tenants searched before the last stop (memory follows use), unless told otherwise.
  const warmMode = peopleIndexWarm();
  if (warmMode !== 'none') {
    const live = new Set(tenantIds);
    const wanted = warmMode === 'all' ? tenantIds : recentlySearched(recentFile).filter((id) => live.has(id));
    people?.warm(wanted).catch((e) => app.log.error(e));
  }
  // What a restart should warm, kept current to within a minute (a crash loses at most that).
  const recentTimer = setInterval(saveRecent, 60_000);
  recentTimer.unref();
  mtoWorker = startTransitionWorker({ store, clock }, { ...options.mto, onError: (e) => app.log.error(e) });
  if (options.sync !== false) {
    const totals = { runs: 0, exported: 0, escrowed: 0, quarantined: 0 };
    sync = startSyncScheduler(store, clock, {
      ...options.sync, engine: { ...syncEngineFromEnv(), ...options.sync?.engine },
      onError: (e) => {
        app.log.error(e);
        if (options.sync) options.sync.onError?.(e);
      },
      onRun: (tenantId, jobId, report, ms) => {
        totals.runs += 1;
        totals.exported += report.counts.exported;
        totals.escrowed += report.counts.escrowed;
        if (report.quarantined) totals.quarantined += 1;
        if (options.sync) options.sync.onRun?.(tenantId, jobId, report, ms);
      },
    });
    app.metrics.counter('openmto_sync_runs_total', 'Sync job runs finished by this process', () => totals.runs);
    app.metrics.counter('openmto_sync_exported_total', 'Objects exported to targets by this process', () => totals.exported);
    app.metrics.counter('openmto_sync_escrowed_total', 'Objects that failed and were escrowed for retry, in this process', () => totals.escrowed);
    app.metrics.counter('openmto_sync_quarantined_total', 'Runs that ended in quarantine, in this process', () => totals.quarantined);
    app.metrics.gauge('openmto_sync_jobs', 'Sync jobs by status code (all tenants)', () => syncJobsByCode(store), ['code']);
  }

  return {
    app, store, url, certPath: tls?.certPath ?? null, operatorKeyPath: operator.path, clock, sync,
    // Stop accepting and finish in-flight requests first, then the workers, then the store.
    async close() {
      clearInterval(timer);
      clearInterval(recentTimer);
      await app.close();
      saveRecent();
      people?.stop();
      await mtoWorker?.stop();
      await sync?.stop();
      await store.close();
      lock?.release();
    },
  };
}
