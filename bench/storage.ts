// Bytes per user on disk (SQLite: the file after a checkpoint, split per table and index with the
// `dbstat` virtual table; PostgreSQL: pg_total_relation_size of every table in the run's own database).
// Read-only over the catalog: no table of ours is named here, so a storage-layout change needs no edit.
import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import { round } from './env.js';

export interface StoragePart {
  name: string;
  /** table or index (SQLite: the owning table for an index; PostgreSQL: table incl. its indexes and TOAST). */
  kind: string;
  bytes: number;
  bytesPerUser: number;
}

export interface StorageMeasurement {
  db: 'sqlite' | 'postgres';
  users: number;
  /** What `users` counts (e.g. "100k home users", "10k home + 90k B2B members"). */
  what: string;
  bytes: number;
  bytesPerUser: number;
  /** Largest parts first; SQLite: each table and index; PostgreSQL: each table with its indexes and TOAST. */
  parts: StoragePart[];
}

/**
 * SQLite: checkpoints the WAL into the file (TRUNCATE), then the file + whatever WAL is left is the size
 * on disk; dbstat gives each b-tree's pages (tables, indexes, FTS shadow tables). Opened read-write only
 * for the checkpoint; nobody else may have the file open (the bench stops its servers first).
 */
export function sqliteStorage(file: string, users: number, what: string): StorageMeasurement {
  const db = new Database(file);
  let parts: { name: string; kind: string; bytes: number }[];
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    parts = db.prepare(`SELECT d.name AS name, COALESCE(m.type, 'internal') AS kind, SUM(d.pgsize) AS bytes
      FROM dbstat d LEFT JOIN sqlite_schema m ON m.name = d.name GROUP BY d.name ORDER BY bytes DESC`).all() as typeof parts;
  } finally {
    db.close();
  }
  const bytes = [file, `${file}-wal`].filter(existsSync).reduce((s, f) => s + statSync(f).size, 0);
  return {
    db: 'sqlite', users, what, bytes, bytesPerUser: Math.round(bytes / users),
    parts: parts.map((p) => ({ ...p, bytes: Number(p.bytes), bytesPerUser: round(Number(p.bytes) / users, 1) })),
  };
}

/** PostgreSQL: every table of the run's own (fresh) database, with its indexes and TOAST; the total is their sum. */
export async function pgStorage(url: string, users: number, what: string): Promise<StorageMeasurement> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    // VACUUM so dead tuples from the import's own updates don't count, as SQLite's checkpoint doesn't count the WAL twice.
    await c.query('VACUUM');
    const r = await c.query<{ name: string; bytes: string; indexes: string }>(`SELECT c.relname AS name, pg_total_relation_size(c.oid)::text AS bytes,
        pg_indexes_size(c.oid)::text AS indexes
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY pg_total_relation_size(c.oid) DESC`);
    const parts = r.rows.map((x) => ({
      name: x.name, kind: `table + indexes (${round(Number(x.indexes) / 2 ** 20, 1)} MB of indexes)`, bytes: Number(x.bytes),
      bytesPerUser: round(Number(x.bytes) / users, 1),
    }));
    const bytes = parts.reduce((s, p) => s + p.bytes, 0);
    return { db: 'postgres', users, what, bytes, bytesPerUser: Math.round(bytes / users), parts };
  } finally {
    await c.end();
  }
}
