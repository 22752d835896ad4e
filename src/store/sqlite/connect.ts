import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { ChangeHub } from '../changeEvents.js';
import { registerDataVersion } from '../dataVersion.js';
import { registerSyncRunner } from '../query/sqlText.js';
import type { Database as Schema } from '../schema.js';
import type { Db, Store, TransactionOptions } from '../store.js';
import { type DataSync, walSyncer } from './durable.js';
import { type GroupCommitStats, groupCommit } from './groupCommit.js';
import { pacePlugin } from './pace.js';
import { watchWalIndex } from './walIndex.js';

export interface SqliteOptions {
  /** The WAL's sync (default fdatasync); tests observe it to prove no acknowledgement precedes it. */
  datasync?: DataSync;
}

export interface SqliteStore extends Store {
  /** Batches committed and their members (group commit's effect, for tests and diagnostics). */
  readonly groupStats: GroupCommitStats;
}

export function connectSqlite(path: string, options: SqliteOptions = {}): SqliteStore {
  const raw = new Database(path);
  // WAL lets the CLI and the server use one file at once. NORMAL: SQLite itself does not fsync at COMMIT;
  // the store does (durable.ts: fdatasync of the WAL off the main thread, shared by every commit made
  // while the previous one ran) before any transaction's promise resolves, so an acknowledged write
  // survives a power loss. busy_timeout covers the CLI-vs-server overlap.
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.pragma('busy_timeout = 5000');
  // 512 MiB of page cache: the directory's indexes stay in memory up to a few million users.
  raw.pragma('cache_size = -524288');
  raw.pragma('temp_store = MEMORY');
  // Read pages straight from the OS page cache instead of copying each into SQLite's own: a people-search
  // page touches ~50 pages, and the copies were a third of its query time (bench/). Address space only;
  // the kernel shares the pages with every process that has the file open.
  raw.pragma('mmap_size = 8589934592');
  // Checkpoint every ~40 MiB of WAL instead of SQLite's 4 MiB: a bulk-import transaction dirties far more
  // than 4 MiB, and checkpointing after every one of them doubled its commit time (bench/).
  raw.pragma('wal_autocheckpoint = 10000');
  raw.pragma('foreign_keys = ON');
  const versions = dataVersionOf(path);
  const statements = withStatementCache(raw, versions.wrote);
  // Pacing only where a transaction holds the connection: a statement outside one is a single short read
  // or autocommit write, and the plugin's await would only cost every such statement a turn.
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: statements }), plugins: [pacePlugin(() => raw.inTransaction)] });
  const reader = openReader(path);
  registerDataVersion(db, versions.read);
  // A read outside any transaction needs neither Kysely's connection mutex nor a promise: better-sqlite3
  // is synchronous, so nothing else can run on the connection meanwhile. While a transaction is open
  // (BEGIN … COMMIT spans awaits, and a long one gives the event loop turns: pace.ts) the read runs on
  // the reader connection, which sees the last committed state and never another request's uncommitted
  // writes, instead of waiting behind the whole transaction; without one (in memory) it goes through
  // Kysely and waits its turn.
  registerSyncRunner(db, (text, params) => {
    const conn = raw.inTransaction ? reader : statements;
    if (!conn) return undefined;
    const stmt = conn.prepare(text);
    return stmt.reader ? (stmt.all(params) as unknown[]) : undefined;
  }, { paced: false });
  // A transaction's own handle: the connection is held for it from BEGIN to COMMIT, so its statements,
  // writes included, can run synchronously (a create runs a dozen of them).
  const own = (text: string, params: readonly unknown[]): unknown[] => {
    const stmt = statements.prepare(text);
    if (stmt.reader) return stmt.all(params) as unknown[];
    stmt.run(params);
    return [];
  };
  // Another process's commit changes the file's data_version; polling it is one cheap pragma, and runs
  // only while someone listens (the server's sync scheduler), every 250 ms.
  let polling: NodeJS.Timeout | undefined;
  let version = 0;
  const hub: ChangeHub = new ChangeHub(
    () => {
      version = Number(raw.pragma('data_version', { simple: true }));
      polling = setInterval(() => {
        if (!raw.open || raw.inTransaction) return;
        const v = Number(raw.pragma('data_version', { simple: true }));
        if (v !== version) {
          version = v;
          hub.emit(null);
        }
      }, 250);
      polling.unref();
    },
    () => clearInterval(polling),
  );
  const durable = walSyncer(raw, options.datasync);
  const group = groupCommit(db, raw, own, durable, (marks) => hub.emit(marks));
  return {
    dialect: 'sqlite',
    db,
    groupStats: group.stats,
    onChange: (listener) => hub.subscribe(listener),
    transaction<T>(fn: (db: Db) => Promise<T>, options?: TransactionOptions): Promise<T> {
      return options?.group === false ? group.solo(fn) : group.join(fn);
    },
    async close() {
      clearInterval(polling);
      await group.idle();
      // The reader first: SQLite checkpoints the WAL into the file and removes it when the last connection
      // closes, which must be the writer (a read-only connection cannot), or the WAL stays behind with
      // whatever it held (a rewrapped key's plain text, say).
      reader?.close();
      await db.destroy();
      durable.close();
      versions.close();
    },
  };
}

/**
 * A second, read-only connection to a database file, for reads made while the main connection is inside
 * a transaction. WAL gives it the last committed snapshot without taking any lock the writer needs. None
 * for an in-memory database (another connection would open another, empty database).
 */
function openReader(path: string): ReturnType<typeof withStatementCache> | undefined {
  if (path === '' || path === ':memory:') return undefined;
  const conn = new Database(path, { readonly: true, fileMustExist: true });
  conn.pragma('busy_timeout = 5000');
  // Its own page cache is for the few pages a read touches between a writer's statements; the file's
  // pages come through the shared mmap as on the main connection.
  conn.pragma('cache_size = -65536');
  conn.pragma('mmap_size = 8589934592');
  return withStatementCache(conn);
}

// Kysely prepares every statement it runs. The SQL of a given query shape is the same text every time
// (values are bound parameters), so keeping prepared statements by text saves the parse and plan:
// measured ~10 % of a bulk import and a large share of a people-search request. Bounded so ad-hoc shapes
// can't grow it without limit; evicts the least recently used.
const STATEMENT_CACHE_SIZE = 500;

function withStatementCache(raw: Database.Database, wrote?: () => void) {
  const cache = new Map<string, Database.Statement>();
  return {
    close: () => {
      cache.clear();
      raw.close();
    },
    prepare(text: string) {
      let stmt = cache.get(text);
      if (stmt) {
        cache.delete(text);
      } else {
        stmt = raw.prepare(text);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      }
      cache.set(text, stmt);
      // Every caller runs what it prepares at once (Kysely's driver, a transaction's own handle), so no read
      // can look at the version between this count and the write.
      if (wrote && !stmt.reader) wrote();
      return stmt;
    },
  };
}

/**
 * The store's data version (store/dataVersion.ts). On a file, every commit of any connection rewrites the
 * WAL index header (walIndex.ts), this process's included. In memory there is no other connection, and
 * this process's writes are counted as the statement cache hands them out, before they run: a read made
 * while a transaction is open waits for it (no reader connection), so it runs after that COMMIT. A file
 * whose `-shm` can't be read (not in WAL mode) has no version, and callers read the database.
 */
function dataVersionOf(path: string) {
  const wal = path === '' || path === ':memory:' ? undefined : watchWalIndex(path);
  let writes = 0;
  return {
    wrote: wal ? undefined : () => {
      writes++;
    },
    read: (): number | undefined => (wal ? wal.changes() : writes),
    close: () => wal?.close(),
  };
}
