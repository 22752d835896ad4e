// Tenant-scoped JSON documents: policies, templates, MTO views — singletons or keyed collections whose
// shape is owned by their room (validated there with zod), stored here as text. The reads and writes
// run as flat SQL text (query/sqlText.ts): authorization and cross-tenant policies are read, and
// invitations written, on every invitation, where building Kysely's query trees cost more CPU than
// SQLite took to answer.
import { run, sql } from '../query/sqlText.js';
import type { Db } from '../store.js';

/** One document to write: `key` defaults to '' (a singleton of its kind). */
export interface DocumentWrite {
  kind: string;
  key?: string;
  data: unknown;
}

/** The key of getMany's result map. Kinds are names from code and never contain a space. */
export const documentKey = (kind: string, key = '') => `${kind} ${key}`;

export const documentsRepo = {
  async get<T>(db: Db, tenantId: string, kind: string, key = ''): Promise<T | undefined> {
    const [r] = await run<{ data: string }>(db, sql`select data from tenant_documents where tenant_id = ${tenantId} and kind = ${kind} and "key" = ${key}`);
    return r ? (JSON.parse(r.data) as T) : undefined;
  },
  /** Several documents in one statement, keyed by documentKey(kind, key); absent ones are missing from the map. */
  async getMany(db: Db, tenantId: string, wanted: readonly { kind: string; key?: string }[]): Promise<Map<string, unknown>> {
    const found = new Map<string, unknown>();
    if (!wanted.length) return found;
    const pairs = sql.join(wanted.map((w) => sql`(kind = ${w.kind} and "key" = ${w.key ?? ''})`), sql` or `);
    const rows = await run<{ kind: string; key: string; data: string }>(db, sql`select kind, "key", data from tenant_documents where tenant_id = ${tenantId} and (${pairs})`);
    for (const r of rows) found.set(documentKey(r.kind, r.key), JSON.parse(r.data));
    return found;
  },
  async list<T>(db: Db, tenantId: string, kind: string): Promise<{ key: string; data: T }[]> {
    const rows = await db.selectFrom('tenant_documents').select(['key', 'data'])
      .where('tenant_id', '=', tenantId).where('kind', '=', kind).orderBy('key').execute();
    return rows.map((r) => ({ key: r.key, data: JSON.parse(r.data) as T }));
  },
  async put(db: Db, tenantId: string, kind: string, key: string, data: unknown, at: string): Promise<void> {
    await documentsRepo.putMany(db, tenantId, [{ kind, key, data }], at);
  },
  /** Inserts or replaces documents in one statement; each (kind, key) at most once per call. */
  async putMany(db: Db, tenantId: string, docs: readonly DocumentWrite[], at: string): Promise<void> {
    if (!docs.length) return;
    const values = sql.join(docs.map((d) => sql`(${tenantId}, ${d.kind}, ${d.key ?? ''}, ${JSON.stringify(d.data)}, ${at})`));
    await run(db, sql`insert into tenant_documents (tenant_id, kind, "key", data, updated_at) values ${values}
      on conflict (tenant_id, kind, "key") do update set data = excluded.data, updated_at = excluded.updated_at`);
  },
  async remove(db: Db, tenantId: string, kind: string, key = ''): Promise<boolean> {
    const r = await db.deleteFrom('tenant_documents')
      .where('tenant_id', '=', tenantId).where('kind', '=', kind).where('key', '=', key).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  },
};
