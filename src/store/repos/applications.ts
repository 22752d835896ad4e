// Application objects (app registrations made by instantiating a gallery template). The Graph object
// lives in `data`; app_id and the lowercased display name are columns for lookups and $filter.
import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import { prefixUpperBound } from '../../domain/odata.js';
import { literalLimit } from '../query/sqlText.js';
import type { Database } from '../schema.js';
import type { Db } from '../store.js';

export interface AppRole {
  allowedMemberTypes: string[];
  description: string | null;
  displayName: string | null;
  id: string;
  isEnabled: boolean;
  origin: string | null;
  value: string | null;
}

export interface Application {
  id: string;
  appId: string;
  displayName: string;
  appRoles: AppRole[];
  createdDateTime: string;
  [property: string]: unknown;
}

/**
 * A $filter over applications or service principals, reduced to what their columns answer: `id` and
 * `appId` by equality, `displayName` by equality or prefix (case-insensitive, like Graph).
 */
export type ObjectFilter =
  | { kind: 'and' | 'or'; parts: readonly ObjectFilter[] }
  | { kind: 'match'; field: 'id' | 'appId' | 'displayName'; op: 'eq' | 'startsWith'; values: readonly string[] };

type AppTable = 'applications' | 'service_principals';
const columnOf = { id: 'id', appId: 'app_id', displayName: 'display_name_lc' } as const;

/** Compiles an ObjectFilter for either table (both carry id, app_id and display_name_lc). */
export function filterExpression<T extends AppTable>(eb: ExpressionBuilder<Database, T>, f: ObjectFilter): Expression<SqlBool> {
  // biome-ignore lint/suspicious/noExplicitAny: the three columns exist on both tables; Kysely can't see that through the generic
  const e = eb as unknown as ExpressionBuilder<any, any>;
  if (f.kind !== 'match') {
    const parts = f.parts.map((p) => filterExpression(eb, p));
    return f.kind === 'and' ? e.and(parts) : e.or(parts);
  }
  const column = columnOf[f.field];
  const values = f.values.map((v) => v.toLowerCase());
  if (f.op === 'eq') return values.length === 1 ? e(column, '=', values[0]) : e(column, 'in', values);
  return e.or(values.map((v) => {
    const upper = prefixUpperBound(v);
    return upper === null ? e(column, '>=', v) : e.and([e(column, '>=', v), e(column, '<', upper)]);
  }));
}

export interface ObjectPage {
  filter?: ObjectFilter;
  /** Keyset: only rows with an id greater than this. */
  afterId: string;
  limit: number;
}

export const applicationsRepo = {
  async insert(db: Db, tenantId: string, app: Application): Promise<void> {
    await db.insertInto('applications').values({
      tenant_id: tenantId, id: app.id, app_id: app.appId, display_name_lc: app.displayName.toLowerCase(),
      created_at: app.createdDateTime, data: JSON.stringify(app),
    }).execute();
  },
  async update(db: Db, tenantId: string, app: Application): Promise<void> {
    await db.updateTable('applications').set({ display_name_lc: app.displayName.toLowerCase(), data: JSON.stringify(app) })
      .where('tenant_id', '=', tenantId).where('id', '=', app.id).execute();
  },
  async get(db: Db, tenantId: string, id: string): Promise<Application | undefined> {
    const r = await db.selectFrom('applications').select('data').where('tenant_id', '=', tenantId)
      .where('id', '=', id.toLowerCase()).executeTakeFirst();
    return r ? (JSON.parse(r.data) as Application) : undefined;
  },
  /** A page in id order (ids are UUIDv7: creation order). */
  async list(db: Db, tenantId: string, page: ObjectPage): Promise<Application[]> {
    let q = db.selectFrom('applications').select('data').where('tenant_id', '=', tenantId).where('id', '>', page.afterId);
    const f = page.filter;
    if (f) q = q.where((eb) => filterExpression(eb, f));
    const rows = await q.orderBy('id').limit(literalLimit(page.limit)).execute();
    return rows.map((r) => JSON.parse(r.data) as Application);
  },
  async remove(db: Db, tenantId: string, id: string): Promise<void> {
    await db.deleteFrom('applications').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
};

/** Rows matching a filter (the `$count` of a list). */
export async function countObjects(db: Db, table: AppTable, tenantId: string, filter?: ObjectFilter): Promise<number> {
  // biome-ignore lint/suspicious/noExplicitAny: both tables share tenant_id and the filter columns
  let q = (db as any).selectFrom(table).select((eb: ExpressionBuilder<Database, AppTable>) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenantId);
  if (filter) q = q.where((eb: ExpressionBuilder<Database, AppTable>) => filterExpression(eb, filter));
  const r = (await q.executeTakeFirst()) as { n: number | string | bigint } | undefined;
  return Number(r?.n ?? 0);
}
