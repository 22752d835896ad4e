// Where openmto keeps its data and how it listens. Flags win over environment variables, which win
// over these defaults.
import { join, resolve } from 'node:path';
import { getHeapStatistics } from 'node:v8';

export interface ServerConfig {
  dataDir: string;
  /** `postgres://…` to use PostgreSQL; otherwise SQLite at DATA/openmto.db. */
  databaseUrl: string;
  port: number;
  host: string;
  /** Plain HTTP instead of HTTPS (the Microsoft client libraries refuse it; for proxies that terminate TLS). */
  http: boolean;
  demo: boolean;
  /** Trust X-Forwarded-For from a reverse proxy (OPENMTO_TRUST_PROXY: `true` or its addresses). */
  trustProxy?: boolean | string;
}

export const DEFAULT_PORT = 8443;

export function defaultDataDir(): string {
  return resolve(process.env.OPENMTO_DATA_DIR ?? '.openmto');
}

export function databaseUrlFor(dataDir: string): string {
  return process.env.OPENMTO_DATABASE_URL || join(dataDir, 'openmto.db');
}

/** A SQLite database in a file (not PostgreSQL, not `:memory:`). */
export const isSqliteFile = (url: string) => !/^postgres(ql)?:\/\//.test(url) && url !== ':memory:' && url !== '';

export function trustProxyFromEnv(): boolean | string | undefined {
  const v = process.env.OPENMTO_TRUST_PROXY;
  if (!v) return undefined;
  return v === 'true' ? true : v === 'false' ? false : v;
}

/** Heap a user costs in the people index, measured at 100k users (store/people). */
const PEOPLE_INDEX_BYTES_PER_USER = 1200;

/**
 * Users the server's in-memory people index may hold across all tenants (store/people); a tenant that
 * would exceed it is searched through SQL. The default is 1,000,000 users (~1.2 GB of heap), or fewer
 * where the V8 heap limit is small (a container's memory limit): the index may take 40 % of it.
 * 0 turns the index off.
 */
export function peopleIndexMaxUsers(): number {
  const raw = process.env.OPENMTO_PEOPLE_INDEX_MAX_USERS;
  if (raw === undefined || raw === '') {
    return Math.min(1_000_000, Math.floor((0.4 * getHeapStatistics().heap_size_limit) / PEOPLE_INDEX_BYTES_PER_USER));
  }
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`OPENMTO_PEOPLE_INDEX_MAX_USERS must be a non-negative integer, not '${raw}'`);
  return n;
}

/**
 * Seconds a tenant's people index is kept without a search (`OPENMTO_PEOPLE_INDEX_IDLE_SECONDS`, default
 * 600); then its memory is freed and its next search builds it again (SQL answers meanwhile).
 */
export function peopleIndexIdleSeconds(): number {
  const raw = process.env.OPENMTO_PEOPLE_INDEX_IDLE_SECONDS;
  if (raw === undefined || raw === '') return 600;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 31_536_000) throw new Error(`OPENMTO_PEOPLE_INDEX_IDLE_SECONDS must be a whole number of seconds from 1 to 31536000, not '${raw}'`);
  return n;
}

/**
 * Which tenants' people indexes the server builds at start (`OPENMTO_PEOPLE_INDEX_WARM`): `recent` (the
 * default) those searched within the idle period before the last stop, as recorded in the data dir;
 * `all` every tenant (within the budget); `none` none, each is built on its first search.
 */
export function peopleIndexWarm(): 'recent' | 'all' | 'none' {
  const raw = process.env.OPENMTO_PEOPLE_INDEX_WARM;
  if (raw === undefined || raw === '') return 'recent';
  if (raw === 'recent' || raw === 'all' || raw === 'none') return raw;
  throw new Error(`OPENMTO_PEOPLE_INDEX_WARM must be recent, all or none, not '${raw}'`);
}

/** Provisioning-log retention in days (`OPENMTO_PROVISIONING_LOG_DAYS`, default 30 as in Entra P1/P2). */
export function provisioningLogDays(): number {
  const raw = process.env.OPENMTO_PROVISIONING_LOG_DAYS;
  const n = raw === undefined ? 30 : Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 3650) throw new Error('OPENMTO_PROVISIONING_LOG_DAYS must be a whole number of days from 1 to 3650');
  return n;
}

/** Sync engine settings from the environment: `OPENMTO_SYNC_LEASE_MS` (how soon a dead worker's job is taken over). */
export function syncEngineFromEnv(): { leaseMs?: number } {
  const raw = process.env.OPENMTO_SYNC_LEASE_MS;
  if (raw === undefined || raw === '') return {};
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1000 || n > 600_000) throw new Error('OPENMTO_SYNC_LEASE_MS must be a whole number of milliseconds from 1000 to 600000');
  return { leaseMs: n };
}
