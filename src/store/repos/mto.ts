// Multi-tenant organizations: the shared organization record, its member rows (one per member tenant)
// and the lifecycle transitions the background worker runs (items of the shared work queue, repos/work.ts).
import type { Member, MemberRole, MemberState, Organization, TransitionDetails } from '../../domain/mto.js';
import type { MtoMemberRow } from '../schema.js';
import type { Db } from '../store.js';
import { type WorkItem, workRepo } from './work.js';

export type TransitionKind = 'join' | 'remove' | 'changeRole';
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface TransitionJob {
  tenantId: string;
  id: string;
  kind: TransitionKind;
  mtoId: string | null;
  status: JobStatus;
  attempts: number;
  notBefore: string;
  payload: { addedByTenantId?: string; role?: MemberRole };
  error: string | null;
  createdAt: string;
}

const memberFromRow = (r: MtoMemberRow): Member => ({
  tenantId: r.tenant_id, mtoId: r.mto_id, displayName: r.display_name, role: r.role as MemberRole, state: r.state as MemberState,
  addedByTenantId: r.added_by_tenant_id, addedDateTime: r.added_at, joinedDateTime: r.joined_at,
  transition: r.transition ? (JSON.parse(r.transition) as TransitionDetails) : null, localObjectId: r.local_object_id,
});

const memberToRow = (m: Member): MtoMemberRow => ({
  tenant_id: m.tenantId, mto_id: m.mtoId, display_name: m.displayName, role: m.role, state: m.state,
  added_by_tenant_id: m.addedByTenantId, added_at: m.addedDateTime, joined_at: m.joinedDateTime,
  transition: m.transition ? JSON.stringify(m.transition) : null, local_object_id: m.localObjectId,
});

const MTO_QUEUE = 'mto';

const jobFromItem = (r: WorkItem): TransitionJob => ({
  tenantId: r.tenantId, id: r.id, kind: r.kind as TransitionKind, mtoId: r.ref, status: r.status,
  attempts: r.attempts, notBefore: r.notBefore, payload: r.payload as TransitionJob['payload'], error: r.error, createdAt: r.createdAt,
});

export const mtoRepo = {
  async insertOrganization(db: Db, creatorTenantId: string, o: Organization): Promise<void> {
    await db.insertInto('multi_tenant_organizations').values({
      id: o.id, display_name: o.displayName, description: o.description, created_at: o.createdDateTime, creator_tenant_id: creatorTenantId,
    }).execute();
  },
  async organization(db: Db, mtoId: string): Promise<Organization | undefined> {
    const r = await db.selectFrom('multi_tenant_organizations').selectAll().where('id', '=', mtoId).executeTakeFirst();
    return r
      ? { id: r.id, displayName: r.display_name, description: r.description, createdDateTime: r.created_at, creatorTenantId: r.creator_tenant_id }
      : undefined;
  },
  /**
   * Takes the organization's row lock (a no-op update: PostgreSQL locks the row until commit; SQLite
   * writers are serialized already), so decisions over member counts can't interleave. False if gone.
   */
  async lockOrganization(db: Db, mtoId: string): Promise<boolean> {
    const r = await db.updateTable('multi_tenant_organizations').set((eb) => ({ id: eb.ref('id') })).where('id', '=', mtoId).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  },
  async updateOrganization(db: Db, mtoId: string, patch: { displayName?: string; description?: string | null }): Promise<void> {
    const set: { display_name?: string; description?: string | null } = {};
    if (patch.displayName !== undefined) set.display_name = patch.displayName;
    if (patch.description !== undefined) set.description = patch.description;
    if (Object.keys(set).length) await db.updateTable('multi_tenant_organizations').set(set).where('id', '=', mtoId).execute();
  },
  /** Deletes the organization, every member row and every queued transition of it. */
  async deleteOrganization(db: Db, mtoId: string): Promise<void> {
    await workRepo.removeWhere(db, MTO_QUEUE, { ref: mtoId, statuses: ['queued', 'running'] });
    await db.deleteFrom('mto_members').where('mto_id', '=', mtoId).execute();
    await db.deleteFrom('multi_tenant_organizations').where('id', '=', mtoId).execute();
  },

  async insertMember(db: Db, tenantId: string, m: Member): Promise<void> {
    await db.insertInto('mto_members').values(memberToRow({ ...m, tenantId })).execute();
  },
  async updateMember(db: Db, tenantId: string, m: Member): Promise<void> {
    const { tenant_id: _t, mto_id: _m, ...rest } = memberToRow(m);
    await db.updateTable('mto_members').set(rest).where('tenant_id', '=', tenantId).where('mto_id', '=', m.mtoId).execute();
  },
  async deleteMember(db: Db, tenantId: string, mtoId: string): Promise<void> {
    await db.deleteFrom('mto_members').where('tenant_id', '=', tenantId).where('mto_id', '=', mtoId).execute();
  },
  async member(db: Db, tenantId: string, mtoId: string): Promise<Member | undefined> {
    const r = await db.selectFrom('mto_members').selectAll().where('tenant_id', '=', tenantId).where('mto_id', '=', mtoId).executeTakeFirst();
    return r ? memberFromRow(r) : undefined;
  },
  /** Every row of one tenant: at most one active or leaving, any number pending. */
  async memberships(db: Db, tenantId: string): Promise<Member[]> {
    const rows = await db.selectFrom('mto_members').selectAll().where('tenant_id', '=', tenantId).orderBy('added_at').execute();
    return rows.map(memberFromRow);
  },
  /**
   * The organization's member rows across tenants. This is the one cross-tenant read of the room: it
   * filters on mto_id without an index (every index leads with tenant_id), bounded by the server's total
   * member rows — a few per hosted tenant.
   */
  async membersOf(db: Db, mtoId: string): Promise<Member[]> {
    const rows = await db.selectFrom('mto_members').selectAll().where('mto_id', '=', mtoId).orderBy('added_at').orderBy('tenant_id').execute();
    return rows.map(memberFromRow);
  },

  // Transitions are items of the shared work queue ('mto'), with the organization as their ref.
  async enqueue(db: Db, tenantId: string, job: Omit<TransitionJob, 'tenantId' | 'status' | 'attempts' | 'error'>): Promise<void> {
    await workRepo.enqueue(db, tenantId, MTO_QUEUE, { id: job.id, kind: job.kind, ref: job.mtoId, notBefore: job.notBefore, payload: job.payload, createdAt: job.createdAt });
  },
  /** The tenant's join request: its latest join job (older ones are deleted when a new one is made). */
  async latestJoin(db: Db, tenantId: string): Promise<TransitionJob | undefined> {
    const item = await workRepo.latest(db, tenantId, MTO_QUEUE, 'join');
    return item ? jobFromItem(item) : undefined;
  },
  async deleteJoins(db: Db, tenantId: string): Promise<void> {
    await workRepo.removeWhere(db, MTO_QUEUE, { tenantId, kind: 'join' });
  },
  async job(db: Db, tenantId: string, id: string): Promise<TransitionJob | undefined> {
    const item = await workRepo.get(db, tenantId, MTO_QUEUE, id);
    return item ? jobFromItem(item) : undefined;
  },
  async claim(db: Db, now: string, leaseUntil: string, skipLocked: boolean, owner = 'mto'): Promise<TransitionJob | undefined> {
    const item = await workRepo.claim(db, MTO_QUEUE, now, owner, leaseUntil, skipLocked);
    return item ? jobFromItem(item) : undefined;
  },
  async finish(db: Db, tenantId: string, id: string, status: 'succeeded' | 'failed', error: string | null): Promise<void> {
    await workRepo.finish(db, tenantId, MTO_QUEUE, id, status, error);
  },
  async retry(db: Db, tenantId: string, id: string, notBefore: string, error: string): Promise<void> {
    await workRepo.retry(db, tenantId, MTO_QUEUE, id, notBefore, error);
  },
  async deleteJob(db: Db, tenantId: string, id: string): Promise<void> {
    await workRepo.remove(db, tenantId, MTO_QUEUE, id);
  },
};
