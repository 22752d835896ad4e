import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { ChangeHub, tenantsOfMarks } from '../changeEvents.js';
import { changeWrites } from '../repos/changeWrites.js';
import type { Database as Schema } from '../schema.js';
import type { Db, Store, TransactionOptions } from '../store.js';
import { registerTenantRowCache, TenantRowCache } from '../tenantRows.js';

export async function connectPostgres(url: string, schema?: string): Promise<Store> {
  if (schema && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name '${schema}'`);
  // A private schema (per test run or deployment) is set as a startup option of every connection, so
  // no pooled client can ever run a statement before its search_path is in place.
  const pool = new pg.Pool({ connectionString: url, max: 10, ...(schema ? { options: `-c search_path=${schema}` } : {}) });
  if (schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  await sql`select 1`.execute(db);
  // Each schema is its own database as far as openmto is concerned (tests run side by side in one), so it
  // gets its own channel.
  const channel = `openmto_changes_${schema ?? 'public'}`;
  let listener: pg.Client | undefined;
  let closed = false;
  const listen = async (): Promise<void> => {
    const client = new pg.Client({ connectionString: url });
    client.on('notification', (n) => {
      if (n.channel === channel) hub.emit(n.payload ? n.payload.split(',') : null);
    });
    // A lost listening connection is reopened; what was committed meanwhile is reported as "unknown tenants",
    // so listeners re-check everything rather than miss it.
    client.on('error', () => {
      if (listener !== client) return;
      listener = undefined;
      tenantRows.forget(null);
      client.end().catch(() => undefined);
      if (!closed) setTimeout(() => reconnect(), 1000).unref();
    });
    await client.connect();
    await client.query(`LISTEN "${channel}"`);
    // The store closed (or everyone unsubscribed) while this connection was being made: it must not linger
    // and keep the process alive.
    if (closed || hub.size === 0) {
      await client.end().catch(() => undefined);
      return;
    }
    listener = client;
    // Reads begun before LISTEN took effect may hold what a commit since changed, unannounced to us.
    tenantRows.forget(null);
  };
  const reconnect = () => {
    if (closed || listener || hub.size === 0) return;
    listen().then(() => {
      if (listener) hub.emit(null);
    }, () => {
      if (!closed) setTimeout(reconnect, 1000).unref();
    });
  };
  const hub: ChangeHub = new ChangeHub(reconnect, () => {
    const l = listener;
    listener = undefined;
    tenantRows.forget(null);
    l?.end().catch(() => undefined);
  });
  // Tenants' rows as every request reads them (tenantRows.ts), remembered while the listener hears other
  // processes' commits; it listens from its first use on, for as long as the store is open.
  const tenantRows = new TenantRowCache(() => listener !== undefined, () => {
    hub.subscribe((tenantIds, bySync) => tenantRows.forget(tenantIds ? [...tenantIds, ...bySync] : null));
  });
  registerTenantRowCache(db, tenantRows);
  return {
    dialect: 'postgres',
    db,
    onChange: (l) => hub.subscribe(l),
    // Every request has its own connection and its own COMMIT (synchronous_commit stays on: durable at
    // acknowledgement); PostgreSQL's commit_delay/commit_siblings are its own group commit of WAL flushes.
    async transaction<T>(fn: (db: Db) => Promise<T>, _options?: TransactionOptions): Promise<T> {
      let marks: string[] | undefined;
      try {
        return await db.transaction().execute(async (trx) => {
          const result = await fn(trx);
          // The change-log rows the transaction appended, and the NOTIFY that PostgreSQL delivers to every
          // listener at COMMIT (and drops with a rollback), as late as possible: see repos/changeWrites.ts.
          marks = await changeWrites.flush(trx, channel);
          return result;
        });
      } finally {
        // Committed (or rolled back): this process forgets the tenants' rows before the request that wrote
        // answers; its own NOTIFY arrives later, as other processes' do.
        if (marks) tenantRows.forget(tenantsOfMarks(marks));
      }
    },
    async close() {
      closed = true;
      const l = listener;
      listener = undefined;
      tenantRows.forget(null);
      await l?.end().catch(() => undefined);
      await db.destroy();
    },
  };
}
