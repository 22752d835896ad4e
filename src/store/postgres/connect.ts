import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database as Schema } from '../schema.js';
import type { Db, Store } from '../store.js';

export async function connectPostgres(url: string, schema?: string): Promise<Store> {
  if (schema && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name '${schema}'`);
  // A private schema (per test run or deployment) is set as a startup option of every connection, so
  // no pooled client can ever run a statement before its search_path is in place.
  const pool = new pg.Pool({ connectionString: url, max: 10, ...(schema ? { options: `-c search_path=${schema}` } : {}) });
  if (schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
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
