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
}

export const DEFAULT_PORT = 8443;

export function defaultDataDir(): string {
  return resolve(process.env.OPENMTO_DATA_DIR ?? '.openmto');
}

export function databaseUrlFor(dataDir: string): string {
  return process.env.OPENMTO_DATABASE_URL || join(dataDir, 'openmto.db');
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
