// Service principals: the tenant-local instance of an application, the object users and groups are
// assigned to and that carries a sync configuration's jobs. Graph object in `data`.
import { literalLimit } from '../query/sqlText.js';
import type { Db } from '../store.js';
import { type AppRole, filterExpression, type ObjectPage } from './applications.js';

export interface ServicePrincipal {
  id: string;
  appId: string;
  displayName: string;
  appRoles: AppRole[];
  [property: string]: unknown;
}

export interface ServicePrincipalRecord {
  id: string;
  appId: string;
  displayName: string;
  appRoles: AppRole[];
  /** Object id of the application it instantiates (null for an SP whose application lives elsewhere). */
  applicationId: string | null;
  createdDateTime: string;
  /** The Graph object as stored. */
  object: ServicePrincipal;
}

interface Row {
  id: string;
  application_id: string | null;
  created_at: string;
  data: string;
}

function fromRow(r: Row): ServicePrincipalRecord {
  const object = JSON.parse(r.data) as ServicePrincipal;
  return {
    id: object.id, appId: object.appId, displayName: object.displayName, appRoles: object.appRoles,
    applicationId: r.application_id, createdDateTime: r.created_at, object,
  };
}

const columns = ['id', 'application_id', 'created_at', 'data'] as const;

export const servicePrincipalsRepo = {
  async insert(db: Db, tenantId: string, sp: ServicePrincipal, applicationId: string | null, at: string): Promise<void> {
    await db.insertInto('service_principals').values({
      tenant_id: tenantId, id: sp.id, app_id: sp.appId, application_id: applicationId,
      display_name_lc: sp.displayName.toLowerCase(), created_at: at, data: JSON.stringify(sp),
    }).execute();
  },
  async update(db: Db, tenantId: string, sp: ServicePrincipal): Promise<void> {
    await db.updateTable('service_principals').set({ display_name_lc: sp.displayName.toLowerCase(), data: JSON.stringify(sp) })
      .where('tenant_id', '=', tenantId).where('id', '=', sp.id).execute();
  },
  async get(db: Db, tenantId: string, spId: string): Promise<ServicePrincipalRecord | undefined> {
    const r = await db.selectFrom('service_principals').select(columns).where('tenant_id', '=', tenantId)
      .where('id', '=', spId.toLowerCase()).executeTakeFirst();
    return r ? fromRow(r) : undefined;
  },
  async byAppId(db: Db, tenantId: string, appId: string): Promise<ServicePrincipalRecord | undefined> {
    const r = await db.selectFrom('service_principals').select(columns).where('tenant_id', '=', tenantId)
      .where('app_id', '=', appId.toLowerCase()).executeTakeFirst();
    return r ? fromRow(r) : undefined;
  },
  /** Service principals with this display name (case-insensitive); Entra allows several. */
  async byDisplayName(db: Db, tenantId: string, displayName: string): Promise<ServicePrincipalRecord[]> {
    const rows = await db.selectFrom('service_principals').select(columns).where('tenant_id', '=', tenantId)
      .where('display_name_lc', '=', displayName.toLowerCase()).execute();
    return rows.map(fromRow);
  },
  async ofApplication(db: Db, tenantId: string, applicationId: string): Promise<ServicePrincipalRecord[]> {
    const rows = await db.selectFrom('service_principals').select(columns).where('tenant_id', '=', tenantId)
      .where('application_id', '=', applicationId).execute();
    return rows.map(fromRow);
  },
  /** A page in id order (ids are UUIDv7: creation order). */
  async list(db: Db, tenantId: string, page: ObjectPage): Promise<ServicePrincipalRecord[]> {
    let q = db.selectFrom('service_principals').select(columns).where('tenant_id', '=', tenantId).where('id', '>', page.afterId);
    const f = page.filter;
    if (f) q = q.where((eb) => filterExpression(eb, f));
    return (await q.orderBy('id').limit(literalLimit(page.limit)).execute()).map(fromRow);
  },
  async remove(db: Db, tenantId: string, spId: string): Promise<void> {
    await db.deleteFrom('service_principals').where('tenant_id', '=', tenantId).where('id', '=', spId).execute();
  },
};
