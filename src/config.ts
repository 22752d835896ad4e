// Where openmto keeps its data and how it listens. Flags win over environment variables, which win
// over these defaults.
import { join, resolve } from 'node:path';

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

/**
 * Users the server's in-memory people index may hold across all tenants (store/people); a tenant that
 * would exceed it is searched through SQL. About 0.5–1 KB of heap per user. 0 turns the index off.
 */
export function peopleIndexMaxUsers(): number {
  const raw = process.env.OPENMTO_PEOPLE_INDEX_MAX_USERS;
  const n = raw === undefined || raw === '' ? 2_000_000 : Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`OPENMTO_PEOPLE_INDEX_MAX_USERS must be a non-negative integer, not '${raw}'`);
  return n;
}
