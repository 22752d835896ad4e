// The one reader of "what changed since watermark W" in a tenant: Graph delta queries (api/graph/delta.ts)
// and the sync engine (sync/engine.ts) both read the change log and the objects' current state through it.
// A reader keeps a watermark (a change sequence); the head is the latest committed sequence, the floor the
// highest pruned one: a watermark below the floor can no longer be served and the reader starts over.
import { changesRepo } from '../store/repos/changes.js';
import { usersRepo } from '../store/repos/users.js';
import type { Db } from '../store/store.js';

export type { ChangeRow } from '../store/repos/changes.js';

export const changeReader = {
  head: (db: Db, tenantId: string) => changesRepo.head(db, tenantId),
  floor: (db: Db, tenantId: string) => changesRepo.floor(db, tenantId),
  /** Change rows after `after` up to `upTo`, in sequence order, without the rows of the tenant's B2B users. */
  internalRows: (db: Db, tenantId: string, after: number, upTo: number) => changesRepo.internalRows(db, tenantId, after, upTo),
  /** Objects of one type changed in (after, upTo], once each, in id order (delta pages by object). */
  changedObjects: changesRepo.changedObjects,
  /** The change rows of these objects in (after, upTo]. */
  ofObjects: changesRepo.ofObjects,
  /** Current stored state of objects (live and soft-deleted). */
  objects: (db: Db, tenantId: string, type: 'user' | 'group', ids: readonly string[]) =>
    type === 'user' ? usersRepo.objects(db, tenantId, ids) : changesRepo.objects(db, tenantId, 'groups', ids),
  /** Live objects in id order: the initial round of a reader. */
  liveObjects: (db: Db, tenantId: string, type: 'user' | 'group', afterId: string, ids: readonly string[] | null, limit: number) =>
    type === 'user' ? usersRepo.liveObjects(db, tenantId, afterId, ids, limit) : changesRepo.liveObjects(db, tenantId, 'groups', afterId, ids, limit),
  groupMembers: changesRepo.groupMembers,
  groupIdsAmong: changesRepo.groupIdsAmong,
};
