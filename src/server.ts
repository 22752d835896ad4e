// Starting and stopping a server: store, signing key, operator key, TLS, HTTP app, background work.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type AppHooks, buildApp } from './api/app.js';
import { ensureCertificate } from './api/tls.js';
import { type ServerConfig, databaseUrlFor, peopleIndexMaxUsers } from './config.js';
import { type Clock, systemClock } from './domain/clock.js';
import { purgeExpiredUsers } from './directory/users.js';
import { loadSigningKey } from './identity/keys.js';
import { hashSecret } from './identity/secrets.js';
import { startTransitionWorker, type TransitionOptions, type TransitionWorker } from './mto/transitions.js';
import { TokenService } from './identity/tokens.js';
import { CHANGE_LOG_RETENTION_MS, changesRepo } from './store/repos/changes.js';
import { serverRepo } from './store/repos/server.js';
import { tenantsRepo } from './store/repos/tenants.js';
import { enablePeopleIndex } from './store/people/cache.js';
import { openStore, type Store } from './store/store.js';

export interface RunningServer {
  app: FastifyInstance;
  store: Store;
  url: string;
  certPath: string | null;
  operatorKeyPath: string;
  clock: Clock;
  close(): Promise<void>;
}

export interface StartOptions extends ServerConfig {
  clock?: Clock;
  logger?: boolean;
  /** PostgreSQL schema (tests isolate themselves). */
  schema?: string;
  hooks?: AppHooks;
  /** Multi-tenant organization transition worker (tests lower the active-tenant cap). */
  mto?: TransitionOptions;
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

// Soft-deleted users are purged 30 days after deletion; an hourly sweep keeps that within the hour.
const PURGE_INTERVAL_MS = 3_600_000;

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const store = await openStore({ url: options.databaseUrl || databaseUrlFor(options.dataDir), ...(options.schema ? { schema: options.schema } : {}) });
  const peopleBudget = peopleIndexMaxUsers();
  const people = peopleBudget > 0 ? enablePeopleIndex(store.db, { maxUsers: peopleBudget }) : undefined;
  const key = await loadSigningKey(store, clock.now());
  const tokens = new TokenService(store, key, clock);
  const operator = await ensureOperatorKey(store, options.dataDir);
  const tls = options.http ? null : await ensureCertificate(options.dataDir);
  // Commits that queue MTO transitions wake the worker at once; its poll is only the safety net.
  let mtoWorker: TransitionWorker | undefined;
  const hooks: AppHooks = {
    ...options.hooks,
    wake: (topic, tenantId) => {
      options.hooks?.wake?.(topic, tenantId);
      if (topic === 'mto') mtoWorker?.wake();
    },
  };
  const app = await buildApp(
    { store, clock, tokens, operatorKeyHash: operator.hash, hooks },
    { ...(tls ? { https: { key: tls.key, cert: tls.cert } } : {}), logger: options.logger ?? false },
  );
  await app.listen({ port: options.port, host: options.host });
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
      await store.transaction((db) => changesRepo.prune(db, t.id, cutoff, now.toISOString()));
    }
    return tenants.map((t) => t.id);
  };
  const tenantIds = await sweep();
  const timer = setInterval(() => sweep().catch((e) => app.log.error(e)), PURGE_INTERVAL_MS);
  timer.unref();
  // People indexes build in the background; searches use SQL until a tenant's is ready.
  people?.warm(tenantIds).catch((e) => app.log.error(e));
  mtoWorker = startTransitionWorker({ store, clock }, { ...options.mto, onError: (e) => app.log.error(e) });

  return {
    app, store, url, certPath: tls?.certPath ?? null, operatorKeyPath: operator.path, clock,
    async close() {
      clearInterval(timer);
      people?.stop();
      await mtoWorker?.stop();
      await app.close();
      await store.close();
    },
  };
}
