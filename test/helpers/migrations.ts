// A database as an older openmto left it: a store migrated only up to a given migration, in memory (SQLite)
// or in a private schema (PostgreSQL), for tests that write rows in an old shape and then migrate them.
import { randomBytes } from 'node:crypto';
import { Migrator } from 'kysely';
import pg from 'pg';
import { migrationProvider } from '../../src/store/migrations.js';
import { migrate, type Store } from '../../src/store/store.js';

export interface OldStore {
  store: Store;
  /** Runs the migrations after `version` (the upgrade under test). */
  upgrade(): Promise<void>;
  /** Closes the store and drops its schema. */
  dispose(): Promise<void>;
}

export async function storeAt(dialect: string, prefix: string, version: string): Promise<OldStore> {
  const pgUrl = process.env.OPENMTO_TEST_PG as string;
  const schema = dialect === 'postgres' ? `${prefix}_${randomBytes(6).toString('hex')}` : undefined;
  const store: Store = schema
    ? await (await import('../../src/store/postgres/connect.js')).connectPostgres(pgUrl, schema)
    : (await import('../../src/store/sqlite/connect.js')).connectSqlite(':memory:');
  // The migration table pinned to the schema: unpinned, Kysely may take another run's table for this one's.
  const migrator = new Migrator({ db: store.db, provider: migrationProvider, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error } = await migrator.migrateTo(version);
  if (error) throw error;
  return {
    store,
    upgrade: () => migrate(store.db, schema),
    async dispose() {
      await store.close();
      if (!schema) return;
      const c = new pg.Client({ connectionString: pgUrl });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    },
  };
}
