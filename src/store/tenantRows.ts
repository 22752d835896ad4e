// The tenant row as every Graph request reads it: whether the token's tenant exists (identity/tokens.ts)
// and, for a people search, the tenant's change sequence (the people index's freshness check). Read each
// time, that was two statements per search (on PostgreSQL two network round trips, more server CPU than
// the search itself). Neither database reads it again while nothing changed:
//  - SQLite: the row is kept with the store's data version read before it (dataVersion.ts: the WAL index
//    header, which every commit of any connection or process rewrites); an unmoved version means no commit.
// A PostgreSQL store has no such version; it remembers each tenant's sequence and forgets it whenever the
// tenant changes:
//  - a commit in this process forgets its tenants as soon as COMMIT returns, before the request that made
//    it answers (postgres/connect.ts), so the next request of any client sees the write;
//  - a commit in another process (another server, a worker, the CLI) is announced by the NOTIFY that
//    every change-log write sends (repos/changeWrites.ts); the row is forgotten when it arrives, a few
//    milliseconds after that COMMIT;
//  - while the LISTEN connection is down nothing is remembered and every read goes to SQL; when it is back
//    the whole cache starts empty (changes committed meanwhile were not heard).
//  - a remembered row is trusted for `maxAgeMs` (1 s) at most: a listener whose connection died without an
//    error (a silent network drop is noticed only by TCP keep-alive) can't leave a search stale for longer.
//    At thousands of searches a second that is one read per tenant per second.
// A read that was in flight while anything was forgotten is not remembered (the epoch moved), so an answer
// from before a commit never outlives its invalidation. Only existing tenants are remembered: a tenant
// created elsewhere is found at once; a deleted one is forgotten with its deletion's commit.
import { dataVersion } from './dataVersion.js';
import { run, sql } from './query/sqlText.js';
import type { Db } from './store.js';

/** Tenants remembered at most; beyond, the map starts again (a server hosts far fewer tenants). */
const MAX = 50_000;

export interface TenantRowCacheOptions {
  /** How long a remembered row is trusted without a read (ms). */
  maxAgeMs?: number;
  /** Monotonic milliseconds (tests move it). */
  now?: () => number;
}

export class TenantRowCache {
  private readonly seqs = new Map<string, { seq: number; at: number }>();
  private epoch = 0;
  private subscribed = false;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  /**
   * `live`: whether announcements of other processes' commits are being heard now. `subscribe`: starts
   * hearing them (called once, on first use, so a store that never serves a request opens no listener).
   */
  constructor(private readonly live: () => boolean, private readonly subscribe: () => void, options: TenantRowCacheOptions = {}) {
    this.maxAgeMs = options.maxAgeMs ?? 1000;
    this.now = options.now ?? (() => performance.now());
  }

  get(tenantId: string): number | undefined {
    if (!this.subscribed) {
      this.subscribed = true;
      this.subscribe();
    }
    if (!this.live()) return undefined;
    const e = this.seqs.get(tenantId);
    if (!e) return undefined;
    if (this.now() - e.at > this.maxAgeMs) {
      this.seqs.delete(tenantId);
      return undefined;
    }
    return e.seq;
  }

  /** To pass to `set` with what a read started now returns. */
  get stamp(): number {
    return this.epoch;
  }

  /** `at`: when the read that returned `seq` started (its age counts from then). */
  set(tenantId: string, seq: number, stamp: number, at = this.now()): void {
    if (stamp !== this.epoch || !this.live()) return;
    if (this.seqs.size >= MAX) this.seqs.clear();
    this.seqs.set(tenantId, { seq, at });
  }

  /** Monotonic time as this cache counts it, for `set`'s `at`. */
  clock(): number {
    return this.now();
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

/**
 * SQLite's side: each tenant's sequence with the store's data version (dataVersion.ts) read before it. While
 * the version has not moved nothing was committed, by any connection or process, so the row is unchanged.
 */
const versioned = new WeakMap<object, Map<string, { seq: number; version: number }>>();

/** The tenant's change sequence, or undefined when no such tenant exists. */
export async function tenantSeq(db: Db, tenantId: string): Promise<number | undefined> {
  const cache = caches.get(db);
  const hit = cache?.get(tenantId);
  if (hit !== undefined) return hit;
  // Read before the row: a commit after this moves the version, and the next call reads again.
  const version = dataVersion(db);
  let known = version === undefined ? undefined : versioned.get(db);
  const same = known?.get(tenantId);
  if (same && same.version === version) return same.seq;
  const stamp = cache?.stamp ?? 0;
  const at = cache?.clock() ?? 0;
  // Precompiled text: read on every Graph request where nothing remembers it.
  const [row] = await run<{ s: number | string }>(db, sql`select change_seq as s from tenants where id = ${tenantId}`);
  if (!row) return undefined;
  const seq = Number(row.s);
  cache?.set(tenantId, seq, stamp, at);
  if (version !== undefined) {
    if (!known) {
      known = new Map();
      versioned.set(db, known);
    }
    if (known.size >= MAX) known.clear();
    known.set(tenantId, { seq, version });
  }
  return seq;
}
