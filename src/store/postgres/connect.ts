import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database as Schema } from '../schema.js';
import type { Db, Store } from '../store.js';

export async function connectPostgres(url: string, schema?: string): Promise<Store> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  if (schema) {
    // A private schema per test run or deployment: every pooled connection gets the same search_path.
    // The handler is registered before the first connection so no pooled client ever lacks it.
    const quoted = `"${schema.replace(/"/g, '""')}"`;
    pool.on('connect', (c) => {
      c.query(`SET search_path TO ${quoted}`);
    });
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
  }
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  await sql`select 1`.execute(db);
  return {
    dialect: 'postgres',
    db,
    transaction<T>(fn: (db: Db) => Promise<T>): Promise<T> {
      return db.transaction().execute(fn);
    },
    async close() {
      await db.destroy();
    },
  };
}
