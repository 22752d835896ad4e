// The people index's life cycle, per tenant, against the store it mirrors.
//
// People search is the request a directory serves most, and on the SQL path most of its cost was
// finding 26 rows and pulling three properties out of their stored JSON. The index keeps what those
// pages need in memory (tenantIndex.ts) and answers the query shapes shape.ts accepts; everything else,
// and every request made inside a transaction, stays on SQL.
//
// Freshness comes from the change log, the store's one record of what changed: a request reads the
// tenant's change sequence (one indexed row) and, when it moved, re-reads the users changed since
// before answering. So a page never lags a committed write, whichever process or server instance made
// it, on SQLite and PostgreSQL alike. The sequence itself is not read again while nothing changed
// (store/tenantRows.ts): on SQLite while the store's data version (store/dataVersion.ts) has not moved, on
// PostgreSQL until a commit of this process or another's NOTIFY (milliseconds) says the tenant changed; in
// steady state a search runs no SQL. A tenant's index is built on its first people query (or at server
// start, for the tenants the server was told to warm); until a build ends, SQL answers. Memory follows use,
// not directory size: a tenant not searched for `idleSeconds` is evicted and built again on its next
// search. An index is also dropped if the change log was pruned past it or too many users changed at once,
// and the next query starts a new build; deleted tenants' indexes go with the server's hourly sweep (retain).
import type { Kysely } from 'kysely';
import type { ResourceCatalog } from '../../domain/catalog.js';
import { type Clock, systemClock } from '../../domain/clock.js';
import { defaultUserSelect } from '../../domain/user.js';
import type { ListQuery, ListResult } from '../query/list.js';
import { dialectOf, run, sql } from '../query/sqlText.js';
import { changesRepo } from '../repos/changes.js';
import { tenantNo } from '../repos/tenantKeys.js';
import type { Database } from '../schema.js';
import { peoplePlan, type Holdings } from './shape.js';
import { userValueSql } from '../repos/userData.js';
import { type PersonRow, TenantPeople } from './tenantIndex.js';

/** What the users index holds: the prefix-searchable columns, displayName tokens, page properties. */
export const userHoldings: Holdings = {
  columns: new Set(['display_name_lc', 'given_name_lc', 'surname_lc', 'mail_lc', 'upn_lc', 'mail_nickname_lc', 'employee_id_lc']),
  tokenProps: new Set(['displayName']),
  renderable: new Set([
    ...defaultUserSelect, 'userType', 'mailNickname', 'department', 'companyName', 'employeeId', 'accountEnabled', 'showInAddressList',
  ]),
};

export interface PeopleIndexOptions {
  /** Users held across all tenants; a tenant that would go past it stays on SQL. */
  maxUsers: number;
  /** More users changed than this between two reads rebuild the index instead of re-reading them one by one. */
  rebuildAfter?: number;
  /** A tenant not searched for this long is evicted (its memory freed); the next search builds it again. */
  idleSeconds?: number;
  /** Time for idleness (tests move it). */
  clock?: Clock;
  /**
   * Runs once per process, when the first tenant's index is ready (the server warms its request path with
   * it); the tenant reports `warming` meanwhile and answers searches as `ready`. It resolves to the number
   * of requests it made that were answered, which the status reports; its failure is ignored.
   */
  afterFirstBuild?: (tenantId: string) => Promise<number>;
}

/**
 * Ten minutes: a person looking people up comes back within minutes, so a tenant in use keeps its index
 * and skips rebuilds (~4 s per 100k users, SQL answering meanwhile); a tenant nobody searches for ten
 * minutes gives its ~1.2 KB per user back.
 */
export const DEFAULT_IDLE_SECONDS = 600;
/** How often idle tenants are looked for without any search arriving (a timer; searches also look). */
const IDLE_SWEEP_MAX_MS = 60_000;

/** Users read per statement while building: big enough to amortize a statement, small enough to yield often. */
const BUILD_CHUNK = 2000;
const DEFAULT_REBUILD_AFTER = 5000;

/** `used`: when it was last searched (clock ms); what eviction reads. */
type TenantState =
  | { status: 'building'; done: Promise<void>; used: number }
  | { status: 'off'; used: number }
  | {
    status: 'ready'; index: TenantPeople; seq: number; catching?: Promise<void>; used: number; warming?: boolean;
  }
  | { status: 'evicted'; used: number; evictedAt: number };

const registry = new WeakMap<Kysely<Database>, PeopleIndex>();

/** Turns the people index on for a store's root handle (the server does; one-shot CLI commands don't). */
export function enablePeopleIndex(db: Kysely<Database>, options: PeopleIndexOptions): PeopleIndex {
  const index = new PeopleIndex(db, options);
  registry.set(db, index);
  return index;
}

/** The index of this handle; undefined for a transaction's handle or a store without one. */
export const peopleIndexOf = (db: Kysely<Database>): PeopleIndex | undefined => registry.get(db);

/** One tenant's index as the operator API reports it. */
export interface PeopleIndexStatus {
  tenantId: string;
  /** `warming`: ready, while the server's one-time warm-up runs on it (afterFirstBuild). */
  status: TenantState['status'] | 'warming';
  users?: number;
  /** The change-log sequence it reflects. */
  seq?: number;
  /** Estimated heap the tenant's index holds (TenantPeople.bytes), and per user. */
  bytes?: number;
  bytesPerUser?: number;
  /** Last searched (ISO time); an index idle for `idleSeconds` is evicted. */
  lastSearched: string;
  /** When it was evicted (status `evicted`). */
  evicted?: string;
}

export class PeopleIndex {
  private readonly tenants = new Map<string, TenantState>();
  private readonly rebuildAfter: number;
  private readonly idleMs: number;
  private readonly clock: Clock;
  private readonly timer: NodeJS.Timeout;
  private lastSweep: number;
  private stopped = false;
  private firstBuilt = false;
  private warmUp: { tenantId: string; answered: number; ms: number } | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: PeopleIndexOptions,
  ) {
    this.rebuildAfter = options.rebuildAfter ?? DEFAULT_REBUILD_AFTER;
    this.idleMs = 1000 * (options.idleSeconds ?? DEFAULT_IDLE_SECONDS);
    this.clock = options.clock ?? systemClock;
    this.lastSweep = this.clock.now().getTime();
    this.timer = setInterval(() => this.evictIdle(), Math.min(IDLE_SWEEP_MAX_MS, Math.max(1000, this.idleMs / 4)));
    this.timer.unref();
  }

  /** A page from memory, or undefined when SQL must answer (shape, build in progress, over budget). */
  async list(catalog: ResourceCatalog, tenantId: string, q: ListQuery): Promise<ListResult | undefined> {
    const plan = peoplePlan(catalog, q, userHoldings);
    if (!plan) return undefined;
    const now = this.clock.now().getTime();
    const known = this.tenants.get(tenantId);
    if (known) known.used = now;
    // Searches look for idle tenants too, at most a few times per idle period (a map walk).
    if (now - this.lastSweep >= this.idleMs / 4) this.evictIdle(now);
    let index: TenantPeople | undefined;
    try {
      index = await this.current(tenantId);
    } catch {
      // A failed catch-up read leaves the index behind the store: drop it, and let SQL answer (and report
      // any real error) this time; the next query rebuilds it.
      this.tenants.delete(tenantId);
      return undefined;
    }
    return index?.page(plan);
  }

  /** Builds a tenant's index unless it has one; resolves true once it is ready, false if refused. */
  async ready(tenantId: string): Promise<boolean> {
    const state = this.tenants.get(tenantId);
    await (state?.status === 'building' ? state.done : state ? undefined : this.start(tenantId));
    return (await this.current(tenantId)) !== undefined;
  }

  /** Drops the indexes of tenants not in this list (deleted tenants; the server's hourly sweep). */
  retain(tenantIds: readonly string[]): void {
    const keep = new Set(tenantIds);
    for (const id of [...this.tenants.keys()]) if (!keep.has(id)) this.tenants.delete(id);
  }

  /**
   * Evicts every tenant not searched for `idleSeconds` (ready, or refused over budget: that verdict is
   * re-made on its next search). The status keeps a line per evicted tenant so an operator sees what
   * memory was given back; a tenant deleted since goes with `retain`.
   */
  evictIdle(now = this.clock.now().getTime()): string[] {
    this.lastSweep = now;
    const evicted: string[] = [];
    for (const [id, s] of this.tenants) {
      if ((s.status === 'ready' || s.status === 'off') && now - s.used >= this.idleMs) {
        this.tenants.set(id, { status: 'evicted', used: s.used, evictedAt: now });
        evicted.push(id);
      }
    }
    return evicted;
  }

  /**
   * Builds these tenants' indexes one after another in the background (server start), so the first
   * searches after a restart find them ready. Tenants already held or building are skipped.
   */
  async warm(tenantIds: readonly string[]): Promise<void> {
    for (const id of tenantIds) {
      if (this.stopped) return;
      const s = this.tenants.get(id);
      if (!s || s.status === 'evicted') await this.start(id);
    }
  }

  /** Ends background builds and the idle timer (the store is closing). */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  status(): {
    maxUsers: number; heldUsers: number; idleSeconds: number; bytes: number; bytesPerUser: number | null;
    /** The one-time warm-up of the request path: on which tenant, requests answered, how long it took. */
    warmUp: { tenantId: string; answered: number; ms: number } | null;
    tenants: PeopleIndexStatus[];
  } {
    const iso = (ms: number) => new Date(ms).toISOString();
    let bytes = 0;
    const tenants = [...this.tenants].map(([tenantId, s]): PeopleIndexStatus => {
      const base = { tenantId, status: s.status === 'ready' && s.warming ? 'warming' as const : s.status, lastSearched: iso(s.used) };
      if (s.status === 'evicted') return { ...base, evicted: iso(s.evictedAt) };
      if (s.status !== 'ready') return base;
      const b = s.index.bytes();
      bytes += b;
      return { ...base, users: s.index.size, seq: s.seq, bytes: b, bytesPerUser: s.index.size ? Math.round(b / s.index.size) : 0 };
    });
    const held = this.heldUsers;
    return {
      maxUsers: this.options.maxUsers, heldUsers: held, idleSeconds: this.idleMs / 1000, bytes,
      bytesPerUser: held ? Math.round(bytes / held) : null, warmUp: this.warmUp, tenants,
    };
  }

  /** Users held across tenants. */
  get heldUsers(): number {
    let n = 0;
    for (const s of this.tenants.values()) if (s.status === 'ready') n += s.index.size;
    return n;
  }

  private async current(tenantId: string): Promise<TenantPeople | undefined> {
    let state = this.tenants.get(tenantId);
    if (!state || state.status === 'evicted') {
      // Not awaited: this request goes to SQL while the build runs.
      void this.start(tenantId);
      return undefined;
    }
    for (;;) {
      if (state.status !== 'ready') return undefined;
      // Answered without SQL while nothing changed (tenantRows.ts keeps the row with the data version).
      const head = await changesRepo.head(this.db, tenantId);
      if (head <= state.seq) return state.index;
      const s = state;
      s.catching ??= this.catchUp(tenantId, s, head).finally(() => {
        s.catching = undefined;
      });
      await s.catching;
      state = this.tenants.get(tenantId);
      if (!state) return undefined;
    }
  }

  /** Starts a build; a failed one leaves no state behind, so the next query tries again. */
  private start(tenantId: string): Promise<void> {
    const done = this.build(tenantId).catch(() => {
      if (this.tenants.get(tenantId)?.status === 'building') this.tenants.delete(tenantId);
    });
    this.tenants.set(tenantId, { status: 'building', done, used: this.clock.now().getTime() });
    return done;
  }

  private async build(tenantId: string): Promise<void> {
    const seq = await changesRepo.head(this.db, tenantId);
    const users = await changesRepo.objectCount(this.db, tenantId);
    if (this.heldUsers + users > this.options.maxUsers) {
      this.tenants.set(tenantId, { status: 'off', used: this.usedOf(tenantId) });
      return;
    }
    // Rows are read after `seq`, so each is at least that new; the changes after `seq` are re-read on
    // the next request, which makes any row read mid-build current again.
    const index = new TenantPeople(userHoldings);
    let afterId = '';
    for (;;) {
      if (this.stopped) {
        this.tenants.delete(tenantId);
        return;
      }
      const rows = await readPeople(this.db, tenantId, { afterId, limit: BUILD_CHUNK });
      for (const r of rows) index.put(r);
      if (rows.length < BUILD_CHUNK) break;
      afterId = (rows[rows.length - 1] as PersonRow).id;
      await new Promise((resolve) => setImmediate(resolve));
    }
    index.seal();
    if (this.tenants.get(tenantId)?.status !== 'building') return;
    const ready: TenantState = { status: 'ready', index, seq, used: this.usedOf(tenantId) };
    this.tenants.set(tenantId, ready);
    if (this.firstBuilt || !this.options.afterFirstBuild) return;
    this.firstBuilt = true;
    ready.warming = true;
    const t0 = performance.now();
    const answered = await this.options.afterFirstBuild(tenantId).catch(() => 0);
    this.warmUp = { tenantId, answered, ms: Math.round(performance.now() - t0) };
    ready.warming = false;
  }

  private usedOf(tenantId: string): number {
    return this.tenants.get(tenantId)?.used ?? this.clock.now().getTime();
  }

  private async catchUp(tenantId: string, state: TenantState & { status: 'ready' }, head: number): Promise<void> {
    const ids = await changedUsers(this.db, tenantId, state.seq, head, this.rebuildAfter + 1);
    const pruned = (await changeFloor(this.db, tenantId)) > state.seq;
    if (pruned || ids.length > this.rebuildAfter) {
      this.tenants.delete(tenantId);
      return;
    }
    const rows = ids.length ? await readPeople(this.db, tenantId, { ids }) : [];
    // Applied in one synchronous step: a page never sees half of a catch-up.
    const live = new Map(rows.map((r) => [r.id, r]));
    for (const id of ids) {
      const row = live.get(id);
      if (row) state.index.put(row);
      else state.index.remove(id);
    }
    state.seq = head;
  }
}

// The catch-up's two reads, as changesRepo.changedObjects and .floor answer them but in SQL text, so on
// SQLite they run synchronously and, while a transaction holds the main connection (a sync batch), on the
// reader connection (connect.ts): a search never waits behind a writer for them.

/** Users changed in (after, upTo], in id order, at most `limit`. */
async function changedUsers(db: Kysely<Database>, tenantId: string, after: number, upTo: number, limit: number): Promise<string[]> {
  const rows = await run<{ object_id: string }>(db, sql`select object_id from change_log where tenant_no = ${await tenantNo(db, tenantId)}
    and object_type = 'user' and seq > ${after} and seq <= ${upTo} group by object_id order by object_id limit ${sql.int(limit)}`);
  return rows.map((r) => r.object_id);
}

/** The change log's pruned floor (changesRepo.floor). */
async function changeFloor(db: Kysely<Database>, tenantId: string): Promise<number> {
  const [row] = await run<{ data: string }>(db,
    sql`select data from tenant_documents where tenant_id = ${tenantId} and kind = 'changeLog' and ${sql.id('key')} = 'floor'`);
  return row ? Number(JSON.parse(row.data)) : 0;
}

const COLUMNS = [...userHoldings.columns];
const TOKEN_PROPS = [...userHoldings.tokenProps];
const RENDERED = [...userHoldings.renderable];

/** Live users with their tokens: a chunk in id order, or the given ids. */
async function readPeople(
  db: Kysely<Database>, tenantId: string, which: { afterId: string; limit: number } | { ids: readonly string[] },
): Promise<PersonRow[]> {
  // The page properties come out of the row as JSON text, as the SQL path renders them (repos/userData.ts):
  // no parsing each user's object in JavaScript to serialize a few of its values again.
  const dialect = dialectOf(db);
  const sqlite = dialect === 'sqlite';
  const no = await tenantNo(db, tenantId);
  const cols = sql.join([
    ...COLUMNS.map((c) => sql.ref(`u.${c}`)),
    ...RENDERED.map((k, i) => sql`(${userValueSql(dialect, 'u', k)})${sqlite ? sql.empty : sql`::text`} as ${sql.id(`j${i}`)}`),
  ]);
  // A chunk's ids are picked first, then only those rows projected. Picked and projected in one step,
  // PostgreSQL (its statistics behind a bulk import, expecting a few rows) read every user after `afterId`,
  // took their page properties out of the JSON and sorted them all to keep 2,000: a build read the tenant
  // quadratically (100k users: 231 s, against 3.6 s on SQLite, whose plan walks the primary key in order).
  const where = 'ids' in which
    ? sql`u.id in (${sql.join(which.ids.map((id) => sql`${id}`))})`
    : sqlite
      ? sql`u.id > ${which.afterId}`
      : sql`u.id in (select c.id from users as c where c.tenant_no = ${no} and c.deleted_at is null and c.id > ${which.afterId}
        order by c.id limit ${sql.int(which.limit)})`;
  const tail = 'ids' in which ? sql`` : sql` order by u.id limit ${sql.int(which.limit)}`;
  const users = await run<Record<string, string | null> & { id: string }>(db, sql`select u.id as id, ${cols}
    from users as u where u.tenant_no = ${no} and u.deleted_at is null and ${where}${tail}`);
  if (!users.length) return [];
  const hint = sqlite ? sql` indexed by search_tokens_object` : sql``;
  const tokenRange = 'ids' in which
    ? sql`st.object_id in (${sql.join(users.map((u) => sql`${u.id}`))})`
    : sql`st.object_id >= ${(users[0] as { id: string }).id} and st.object_id <= ${(users[users.length - 1] as { id: string }).id}`;
  const tokens = await run<{ object_id: string; prop: string; token: string }>(db, sql`select st.object_id as object_id, st.prop as prop,
    st.token as token from search_tokens as st${hint} where st.tenant_no = ${no} and ${tokenRange}
    and st.object_type = 'user' and st.prop in (${sql.join(TOKEN_PROPS.map((p) => sql`${p}`))})`);
  const byUser = new Map<string, Record<string, string[]>>();
  for (const t of tokens) {
    const own = byUser.get(t.object_id) ?? {};
    own[t.prop] = [...(own[t.prop] ?? []), t.token];
    byUser.set(t.object_id, own);
  }
  return users.map((u) => {
    const columns: Record<string, string | null> = {};
    for (const c of COLUMNS) columns[c] = u[c] ?? null;
    const json: Record<string, string | null> = {};
    RENDERED.forEach((k, i) => {
      json[k] = u[`j${i}`] ?? null;
    });
    return { id: u.id, columns, tokens: byUser.get(u.id) ?? {}, json };
  });
}
