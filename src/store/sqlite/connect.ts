import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { Database as Schema } from '../schema.js';
import type { Db, Store } from '../store.js';

export function connectSqlite(path: string): Store {
  const raw = new Database(path);
  // WAL lets the CLI and the server use one file at once; NORMAL sync is durable across process crashes
  // (a power loss may drop the last commits, never corrupt). busy_timeout covers the CLI-vs-server overlap.
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.pragma('busy_timeout = 5000');
  raw.pragma('cache_size = -131072');
  raw.pragma('temp_store = MEMORY');
  raw.pragma('foreign_keys = ON');
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: raw }) });
  return {
    dialect: 'sqlite',
    db,
    // Kysely's SQLite driver has one connection behind a mutex, so holding it for the whole
    // transaction serializes writers in this process. BEGIN IMMEDIATE takes the file's write lock up
    // front, so a transaction that reads then writes can't deadlock against another process.
    async transaction<T>(fn: (db: Db) => Promise<T>): Promise<T> {
      return db.connection().execute(async (conn) => {
        await sql`BEGIN IMMEDIATE`.execute(conn);
        try {
          const result = await fn(conn);
          await sql`COMMIT`.execute(conn);
          return result;
        } catch (e) {
          await sql`ROLLBACK`.execute(conn);
          throw e;
        }
      });
    },
    async close() {
      await db.destroy();
    },
  };
}
