// The tenant row as every Graph request reads it: whether the token's tenant exists (identity/tokens.ts)
// and, for a people search, the tenant's change sequence (the people index's freshness check). On SQLite
// that read is a synchronous call of microseconds; on PostgreSQL it was two network round trips per
// search, more server CPU than the search itself. So a PostgreSQL store remembers each tenant's sequence
// and forgets it whenever the tenant changes:
//  - a commit in this process forgets its tenants as soon as COMMIT returns, before the request that made
//    it answers (postgres/connect.ts), so the next request of any client sees the write;
//  - a commit in another process (another server, a worker, the CLI) is announced by the NOTIFY that
//    every change-log write sends (repos/changeWrites.ts); the row is forgotten when it arrives, a few
//    milliseconds after that COMMIT;
//  - while the LISTEN connection is down nothing is remembered and every read goes to SQL; when it is back
//    the whole cache starts empty (changes committed meanwhile were not heard).
// A read that was in flight while anything was forgotten is not remembered (the epoch moved), so an answer
// from before a commit never outlives its invalidation. Only existing tenants are remembered: a tenant
// created elsewhere is found at once; a deleted one is forgotten with its deletion's commit.
import { run, sql } from './query/sqlText.js';
import type { Db } from './store.js';

/** Tenants remembered at most; beyond, the map starts again (a server hosts far fewer tenants). */
const MAX = 50_000;

export class TenantRowCache {
  private readonly seqs = new Map<string, number>();
  private epoch = 0;
  private subscribed = false;

  /**
   * `live`: whether announcements of other processes' commits are being heard now. `subscribe`: starts
   * hearing them (called once, on first use, so a store that never serves a request opens no listener).
   */
  constructor(private readonly live: () => boolean, private readonly subscribe: () => void) {}

  get(tenantId: string): number | undefined {
    if (!this.subscribed) {
      this.subscribed = true;
      this.subscribe();
    }
    return this.live() ? this.seqs.get(tenantId) : undefined;
  }

  /** To pass to `set` with what a read started now returns. */
  get stamp(): number {
    return this.epoch;
  }

  set(tenantId: string, seq: number, stamp: number): void {
    if (stamp !== this.epoch || !this.live()) return;
    if (this.seqs.size >= MAX) this.seqs.clear();
    this.seqs.set(tenantId, seq);
  }

  /** Forgets these tenants (null: every tenant). */
  forget(tenantIds: readonly string[] | null): void {
    this.epoch++;
    if (!tenantIds) this.seqs.clear();
    else for (const id of tenantIds) this.seqs.delete(id);
  }
}

const caches = new WeakMap<object, TenantRowCache>();

/** Attaches a cache to a store's root handle (PostgreSQL); transactions' handles never have one. */
export function registerTenantRowCache(db: Db, cache: TenantRowCache): void {
  caches.set(db, cache);
}

export const tenantRowCacheOf = (db: Db): TenantRowCache | undefined => caches.get(db);

/** The tenant's change sequence, or undefined when no such tenant exists. */
export async function tenantSeq(db: Db, tenantId: string): Promise<number | undefined> {
  const cache = caches.get(db);
  const hit = cache?.get(tenantId);
  if (hit !== undefined) return hit;
  const stamp = cache?.stamp ?? 0;
  // Precompiled text: read on every Graph request where nothing remembers it.
  const [row] = await run<{ s: number | string }>(db, sql`select change_seq as s from tenants where id = ${tenantId}`);
  if (!row) return undefined;
  const seq = Number(row.s);
  cache?.set(tenantId, seq, stamp);
  return seq;
}
