// Which tenants a transaction changed, so the store can announce them once it commits. The change log is
// the one place every directory write passes through (changesRepo.append), so it marks the transaction's
// handle here; the store's transaction boundary takes the marks after COMMIT (SQLite, in process) or turns
// them into a NOTIFY inside the transaction, which PostgreSQL delivers to every listening process at commit
// and drops on rollback. Listeners (the sync scheduler) learn of a commit in well under a millisecond on
// SQLite and a few on PostgreSQL, instead of polling.
const marks = new WeakMap<object, Set<string>>();

export function markChanged(handle: object, tenantId: string): void {
  const set = marks.get(handle);
  if (set) set.add(tenantId);
  else marks.set(handle, new Set([tenantId]));
}

export function takeChanged(handle: object): string[] | undefined {
  const set = marks.get(handle);
  if (!set) return undefined;
  marks.delete(handle);
  return [...set];
}

/** `null` means "something changed, tenants unknown" (another process wrote to the same SQLite file). */
export type ChangeListener = (tenantIds: readonly string[] | null) => void;

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
  emit(tenantIds: readonly string[] | null): void {
    for (const l of this.listeners) {
      try {
        l(tenantIds);
      } catch {
        // A listener's failure is its own; the commit that triggered it has already happened.
      }
    }
  }
}
