// The store: a Kysely handle per dialect, one migration history, and the transaction boundary every
// mutation goes through. Repositories (repos/) are written once against Kysely and run on both dialects.
import { type Kysely, Migrator, sql } from 'kysely';
import { migrationProvider } from './migrations.js';
import type { ChangeListener } from './changeEvents.js';
import { changeWrites } from './repos/changeWrites.js';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';
export type Db = Kysely<Database>;

export interface Store {
  readonly dialect: Dialect;
  /** For reads outside a transaction. */
  readonly db: Db;
  /**
   * Runs `fn` in one transaction: everything it writes commits together or not at all, and the promise
   * resolves only once the commit is durable (on disk). On SQLite concurrent transactions are grouped
   * (sqlite/groupCommit.ts): each runs in its own savepoint of a shared transaction, with one COMMIT and one
   * sync for the group; a member that throws is undone alone.
   */
  transaction<T>(fn: (db: Db) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Calls `listener` after each commit that appended to some tenant's change log, with those tenants — from
   * this process, and on PostgreSQL from every process on the database. On SQLite a write by another process
   * (the CLI) is noticed by polling the file's data version and reported as `null` (tenants unknown).
   */
  onChange(listener: ChangeListener): () => void;
  close(): Promise<void>;
}

export interface TransactionOptions {
  /**
   * `false`: a transaction of its own, never grouped with others (SQLite; PostgreSQL never groups). For long
   * transactions (a bulk import chunk), where a group would only make the others wait for it.
   */
  group?: boolean;
}

export interface StoreOptions {
  /** `postgres://…` for PostgreSQL; otherwise a SQLite file path (or `:memory:`). */
  url: string;
  /** PostgreSQL schema to use (tests isolate themselves in a private schema). */
  schema?: string;
}

export async function openStore(options: StoreOptions): Promise<Store> {
  const store = /^postgres(ql)?:\/\//.test(options.url)
    ? await (await import('./postgres/connect.js')).connectPostgres(options.url, options.schema)
    : (await import('./sqlite/connect.js')).connectSqlite(options.url);
  await migrate(store.db, options.schema);
  return store;
}

export async function migrate(db: Db, schema?: string): Promise<void> {
  // Kysely looks for its bookkeeping tables in every schema unless told which: without this, another
  // schema's kysely_migration (a concurrent test run, say) is taken for ours and the migration fails.
  const migrator = new Migrator({ db, provider: migrationProvider, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '?'} failed: ${String(error)}`);
  }
}

/**
 * Runs `fn` inside a savepoint of the caller's transaction: if it throws, only its writes are undone and the
 * transaction goes on (PostgreSQL would otherwise refuse every later statement of the aborted transaction).
 */
export async function inSavepoint<T>(db: Db, fn: () => Promise<T>): Promise<T> {
  await sql`SAVEPOINT openmto_sp`.execute(db);
  // Change-log appends waiting for COMMIT (PostgreSQL) are undone with the savepoint too.
  const appends = changeWrites.mark(db);
  try {
    const r = await fn();
    await sql`RELEASE SAVEPOINT openmto_sp`.execute(db);
    return r;
  } catch (e) {
    await sql`ROLLBACK TO SAVEPOINT openmto_sp`.execute(db);
    await sql`RELEASE SAVEPOINT openmto_sp`.execute(db);
    changeWrites.restore(db, appends);
    throw e;
  }
}
