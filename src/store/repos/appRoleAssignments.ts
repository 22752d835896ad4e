// App role assignments: which users and groups are assigned to a service principal (appRoleAssignedTo).
// The sync engine reads a configuration's scope here (principalsOf, ofPrincipals).
import { errors } from '../../domain/errors.js';
import { literalLimit } from '../query/sqlText.js';
import type { Db } from '../store.js';
import { translateUnique } from './constraints.js';
import { tenantNo } from './tenantKeys.js';

export type PrincipalType = 'User' | 'Group';

export interface AppRoleAssignmentRecord {
  id: string;
  resourceId: string;
  principalId: string;
  principalType: PrincipalType;
  appRoleId: string;
  /** The principal's display name when assigned; pages show the live name (displayNames). */
  principalDisplayName: string | null;
  createdDateTime: string;
}

interface Row {
  id: string;
  resource_id: string;
  principal_id: string;
  principal_type: string;
  app_role_id: string;
  principal_display_name: string | null;
  created_at: string;
}

const fromRow = (r: Row): AppRoleAssignmentRecord => ({
  id: r.id, resourceId: r.resource_id, principalId: r.principal_id, principalType: r.principal_type as PrincipalType,
  appRoleId: r.app_role_id, principalDisplayName: r.principal_display_name, createdDateTime: r.created_at,
});

/** Bound on ids per IN list: well under SQLite's 32,766 and PostgreSQL's 65,535 bound parameters. */
const CHUNK = 500;

export const appRoleAssignmentsRepo = {
  async insert(db: Db, tenantId: string, a: AppRoleAssignmentRecord): Promise<void> {
    // Two concurrent assignments of one principal both pass the use case's check; the unique index refuses the second.
    await translateUnique(
      () => db.insertInto('app_role_assignments').values({
        tenant_id: tenantId, id: a.id, resource_id: a.resourceId, principal_id: a.principalId, principal_type: a.principalType,
        app_role_id: a.appRoleId, principal_display_name: a.principalDisplayName, created_at: a.createdDateTime,
      }).execute(),
      (where) => where === 'app_role_assignments_resource' || where.includes('app_role_assignments.resource_id'),
      () => errors.badRequest('Permission being assigned already exists on the object.'),
    );
  },
  async get(db: Db, tenantId: string, id: string): Promise<AppRoleAssignmentRecord | undefined> {
    const r = await db.selectFrom('app_role_assignments').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return r ? fromRow(r) : undefined;
  },
  async exists(db: Db, tenantId: string, resourceId: string, principalId: string, appRoleId: string): Promise<boolean> {
    const r = await db.selectFrom('app_role_assignments').select('id').where('tenant_id', '=', tenantId).where('resource_id', '=', resourceId)
      .where('principal_id', '=', principalId).where('app_role_id', '=', appRoleId).executeTakeFirst();
    return r !== undefined;
  },
  /** Assignments to a service principal, in id order after `afterId`. */
  async ofResource(db: Db, tenantId: string, resourceId: string, afterId: string, limit: number): Promise<AppRoleAssignmentRecord[]> {
    const rows = await db.selectFrom('app_role_assignments').selectAll().where('tenant_id', '=', tenantId)
      .where('resource_id', '=', resourceId).where('id', '>', afterId).orderBy('id').limit(literalLimit(limit)).execute();
    return rows.map(fromRow);
  },
  /** A user's or group's own assignments, in id order after `afterId`. */
  async ofPrincipal(db: Db, tenantId: string, principalId: string, afterId: string, limit: number): Promise<AppRoleAssignmentRecord[]> {
    const rows = await db.selectFrom('app_role_assignments').selectAll().where('tenant_id', '=', tenantId)
      .where('principal_id', '=', principalId).where('id', '>', afterId).orderBy('id').limit(literalLimit(limit)).execute();
    return rows.map(fromRow);
  },
  /** Every user and group assigned to the service principal (once each, whatever their roles). */
  async principalsOf(db: Db, tenantId: string, resourceId: string): Promise<{ principalId: string; principalType: PrincipalType }[]> {
    const rows = await db.selectFrom('app_role_assignments').select(['principal_id', 'principal_type']).distinct()
      .where('tenant_id', '=', tenantId).where('resource_id', '=', resourceId).orderBy('principal_id').execute();
    return rows.map((r) => ({ principalId: r.principal_id, principalType: r.principal_type as PrincipalType }));
  },
  /** Which of `principalIds` are assigned to the service principal directly (not through a group). */
  async ofPrincipals(db: Db, tenantId: string, resourceId: string, principalIds: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < principalIds.length; i += CHUNK) {
      const rows = await db.selectFrom('app_role_assignments').select('principal_id').where('tenant_id', '=', tenantId)
        .where('resource_id', '=', resourceId).where('principal_id', 'in', principalIds.slice(i, i + CHUNK)).execute();
      for (const r of rows) out.add(r.principal_id);
    }
    return out;
  },
  async remove(db: Db, tenantId: string, id: string): Promise<void> {
    await db.deleteFrom('app_role_assignments').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
  /** Removes every assignment to a service principal; returns them (their principals' change-log rows). */
  async removeOfResource(db: Db, tenantId: string, resourceId: string): Promise<AppRoleAssignmentRecord[]> {
    const rows = await db.selectFrom('app_role_assignments').selectAll().where('tenant_id', '=', tenantId)
      .where('resource_id', '=', resourceId).execute();
    await db.deleteFrom('app_role_assignments').where('tenant_id', '=', tenantId).where('resource_id', '=', resourceId).execute();
    return rows.map(fromRow);
  },
  /** Removes a user's or group's assignments (the principal is being deleted for good). */
  async removeOfPrincipal(db: Db, tenantId: string, principalId: string): Promise<void> {
    await db.deleteFrom('app_role_assignments').where('tenant_id', '=', tenantId).where('principal_id', '=', principalId).execute();
  },
  /** Current display names of these users and groups (live or soft-deleted), by id. */
  async displayNames(db: Db, tenantId: string, ids: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const unique = [...new Set(ids)];
    const no = await tenantNo(db, tenantId);
    for (let i = 0; i < unique.length; i += CHUNK) {
      const chunk = unique.slice(i, i + CHUNK);
      for (const table of ['users', 'groups'] as const) {
        const rows = await db.selectFrom(table).select(['id', 'data', 'display_name_lc']).where('tenant_no', '=', no).where('id', 'in', chunk).execute();
        for (const r of rows) {
          // A user's lower-case displayName is not repeated in `data` (store/repos/userData.ts): its column holds it.
          const stored = JSON.parse(r.data) as { displayName?: unknown };
          out.set(r.id, String(('displayName' in stored ? stored.displayName : r.display_name_lc) ?? ''));
        }
      }
    }
    return out;
  },
};
