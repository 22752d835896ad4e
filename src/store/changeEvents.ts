// Which tenants a transaction changed, so the store can announce them once it commits. The change log is
// the one place every directory write passes through (changesRepo.append), so it marks the transaction's
// handle here; the store's transaction boundary takes the marks after COMMIT (SQLite, in process) or turns
// them into a NOTIFY inside the transaction, which PostgreSQL delivers to every listening process at commit
// and drops on rollback. Listeners (the sync scheduler) learn of a commit in well under a millisecond on
// SQLite and a few on PostgreSQL, instead of polling.
//
// The sync engine's own exports are not announced (`bySync`): they write B2B users, which no sync job
// provisions onward, and announcing them would wake every outbound job of every target for nothing (in a
// mesh of N tenants, N−1 wasted runs per export). Their rows are still in the change log; delta and the
// people index read it by sequence, not by announcement.
const marks = new WeakMap<object, Set<string>>();

// Marks are tenant ids, or `~` + tenant id for a tenant changed only by the engine's exports.
const SYNC = '~';

export function markChanged(handle: object, tenantId: string, bySync = false): void {
  let set = marks.get(handle);
  if (!set) {
    set = new Set();
    marks.set(handle, set);
  }
  if (bySync) {
    if (!set.has(tenantId)) set.add(SYNC + tenantId);
  } else {
    set.delete(SYNC + tenantId);
    set.add(tenantId);
  }
}

/** The marks of the tenants a transaction changed (see above), to pass to `ChangeHub.emit` after commit. */
export function takeChanged(handle: object): string[] | undefined {
  const set = marks.get(handle);
  if (!set) return undefined;
  marks.delete(handle);
  return [...set];
}

/** The tenants of these marks, whatever changed them (the engine's exports too). */
export function tenantsOfMarks(marks: readonly string[]): string[] {
  return marks.map((m) => (m.startsWith(SYNC) ? m.slice(1) : m));
}

/** The NOTIFY payload for these marks: payloads stop at 8000 bytes, so past a few hundred tenants say
 * "unknown" (empty) and let listeners look. */
export function notifyPayload(marks: readonly string[]): string {
  const payload = marks.join(',');
  return payload.length < 7000 ? payload : '';
}

/**
 * `tenantIds`: tenants changed by directory writes; `null` means "something changed, tenants unknown" (another
 * process wrote to the same SQLite file). `bySync`: tenants changed only by the sync engine's exports.
 */
export type ChangeListener = (tenantIds: readonly string[] | null, bySync: readonly string[]) => void;

export class ChangeHub {
  private readonly listeners = new Set<ChangeListener>();
  constructor(private readonly onFirst?: () => void, private readonly onLast?: () => void) {}
  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.onFirst?.();
    return () => {
      if (this.listeners.delete(listener) && this.listeners.size === 0) this.onLast?.();
    };
  }
  get size(): number {
    return this.listeners.size;
  }
  /** `marks` as takeChanged returns them (or null: unknown). */
  emit(marks: readonly string[] | null): void {
    const tenantIds = marks ? marks.filter((m) => !m.startsWith(SYNC)) : null;
    const bySync = marks ? marks.filter((m) => m.startsWith(SYNC)).map((m) => m.slice(1)) : [];
    if (tenantIds && !tenantIds.length && !bySync.length) return;
    for (const l of this.listeners) {
      try {
        l(tenantIds, bySync);
      } catch {
        // A listener's failure is its own; the commit that triggered it has already happened.
      }
    }
  }
}
