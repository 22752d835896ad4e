// Directory writes made by the system rather than by a caller: the sync engine creating, updating,
// soft-deleting and restoring B2B users in a target tenant. No actor and no permission check (the
// engine decided under the cross-tenant policies already); the caller's transaction writes the users
// and the tenant's change log together, so an export commits with whatever else the caller writes
// (the job's watermark).
import type { UserRecord } from '../domain/user.js';
import { type Change, changesRepo } from '../store/repos/changes.js';
import { usersRepo } from '../store/repos/users.js';
import type { Db } from '../store/store.js';

export interface SystemUpdate {
  record: UserRecord;
  /** Properties that changed (the change log and delta's $select tracking use them). */
  props: readonly string[];
  /** How the change log records it: a restore of a soft-deleted user or a plain update. */
  change: 'updated' | 'restored' | 'softDeleted';
}

/** Change-log sequences (from, to] of one tenant; contiguous, since appending locks the tenant's row until commit. */
export interface SeqRange {
  from: number;
  to: number;
}

export const systemWrites = {
  /** Returns the change-log sequences written, (from, to], or null for none. */
  async createUsers(db: Db, tenantId: string, records: readonly UserRecord[], now: string): Promise<SeqRange | null> {
    if (!records.length) return null;
    await usersRepo.insert(db, tenantId, records);
    const to = await changesRepo.appendNow(db, tenantId, records.map((r) => ({ objectType: 'user', objectId: r.user.id, change: 'created' })), now, true);
    return { from: to - records.length, to };
  },
  /** Returns the change-log sequences written, (from, to], or null for none. */
  async updateUsers(db: Db, tenantId: string, updates: readonly SystemUpdate[], now: string): Promise<SeqRange | null> {
    if (!updates.length) return null;
    const changes: Change[] = [];
    for (const u of updates) {
      await usersRepo.update(db, tenantId, u.record);
      // Only the engine's own bookkeeping changed (which jobs hold the user): nothing a reader of the directory sees.
      if (u.change === 'updated' && !u.props.length) continue;
      changes.push(u.change === 'updated'
        ? { objectType: 'user', objectId: u.record.user.id, change: 'updated', props: u.props }
        : { objectType: 'user', objectId: u.record.user.id, change: u.change });
    }
    if (!changes.length) return null;
    const to = await changesRepo.appendNow(db, tenantId, changes, now, true);
    return { from: to - changes.length, to };
  },
};
