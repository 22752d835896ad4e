// Graph delta queries over the change log, as pure decisions: what a delta token holds, when one is still
// good, and which entries a page carries given the change-log rows and the objects' current state. The
// route loads rows and objects; nothing here does I/O or reads a clock.
//
// A round is either the initial one (every live object in id order, keyset-paged, with the change-log
// head captured first as the watermark) or a change round (every object changed in (watermark, upTo],
// paged by object id so each appears once, with its latest state). Reading current state rather than
// a snapshot means an object changed mid-round may be reported again next round; never missed.
import { z } from 'zod';
import { DomainError, errors } from '../domain/errors.js';
import { CHANGE_LOG_RETENTION_MS, type ChangeKind } from '../store/repos/changes.js';

export type DeltaResource = 'user' | 'group';

/** Delta tokens live as long as the history behind them (Graph: 7 days for directory objects). */
export const DELTA_TOKEN_LIFETIME_MS = CHANGE_LOG_RETENTION_MS;
/** Graph lets `$filter` name at most 50 ids on a delta query. */
export const MAX_DELTA_IDS = 50;

const positionSchema = z.union([
  z.object({ k: z.literal('init'), a: z.string() }),
  z.object({ k: z.literal('chg'), u: z.number().int().nonnegative(), a: z.string() }),
]);

const stateSchema = z.object({
  v: z.literal(1),
  r: z.enum(['user', 'group']),
  /** Watermark: every change with seq ≤ w is reflected in what the client holds (or is being sent). */
  w: z.number().int().nonnegative(),
  /** Tracked $select; null tracks every property. */
  s: z.array(z.string()).nullable(),
  /** $filter ids; null for the whole collection. */
  f: z.array(z.string()).max(MAX_DELTA_IDS).nullable(),
  /** Page size asked for on the first call; a later Prefer header overrides it. */
  n: z.number().int().min(1).max(999),
  /** Issue time (ISO). */
  i: z.string().refine((v) => !Number.isNaN(Date.parse(v))),
  /** Where the round resumes; null in a deltaLink (the next call starts a change round). */
  p: positionSchema.nullable(),
});

export type DeltaState = z.infer<typeof stateSchema>;
export type DeltaPosition = z.infer<typeof positionSchema>;

export const encodeDeltaToken = (s: DeltaState): string => Buffer.from(JSON.stringify(s)).toString('base64url');

/** Decodes a $skiptoken/$deltatoken for `resource`; anything else is the client's error (400). */
export function decodeDeltaToken(token: string, resource: DeltaResource): DeltaState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const r = stateSchema.safeParse(parsed);
  // A token of the other resource is as unusable here as garbage: its watermark means the other list.
  if (!r.success || r.data.r !== resource) throw errors.badRequest('The delta token or skip token is invalid or malformed.');
  return r.data;
}

export const syncStateNotFound = () =>
  new DomainError(
    'badRequest', 'syncStateNotFound',
    'The sync state generation is not found. The delta token is expired and data must be synchronized again.',
  );

/**
 * A token can be served only while the history it needs is kept: issued within the lifetime, watermark
 * at or above the pruned floor, and not beyond the head (a head below the watermark means the store was
 * restored from an older backup, so the client's state can't be reconciled incrementally).
 */
export function checkFresh(s: DeltaState, now: Date, floor: number, head: number): void {
  const age = now.getTime() - Date.parse(s.i);
  if (age > DELTA_TOKEN_LIFETIME_MS || s.w < floor || s.w > head) throw syncStateNotFound();
}

// --------------------------------------------------------------------------------------------------
// Planning entries

export interface DeltaObject {
  id: string;
  data: Record<string, unknown>;
  /** Soft-deleted (in the recycle bin). */
  deleted: boolean;
}

export interface DeltaChange {
  seq: number;
  object_id: string;
  change: string;
  props: readonly string[] | null;
}

export interface MemberRef {
  id: string;
  type: string;
}

export interface ResourceShape {
  resource: DeltaResource;
  /** Properties returned when no $select was given; null returns the whole stored object. */
  defaults: readonly string[] | null;
  /** A change to the key also changes these (derived) properties. */
  derived: Readonly<Record<string, readonly string[]>>;
}

export type Entry = Record<string, unknown>;

const untrackedProps = new Set(['appRoleAssignments']);

/** `members:+<id>` / `members:-<id>` change-log props: membership detail behind a plain `members` change. */
const memberProp = /^members:([+-])(.+)$/;

const baseProp = (p: string) => (p.startsWith('members:') ? 'members' : p);

function project(obj: DeltaObject, shape: ResourceShape, keys: readonly string[] | null): Entry {
  const out: Entry = {};
  // Annotations stored with an object (`…@odata.*`) are not properties; `members` is members@delta.
  const names = (keys ?? shape.defaults ?? Object.keys(obj.data)).filter((k) => k !== 'members' && k !== 'id' && !k.includes('@'));
  for (const k of names) out[k] = obj.data[k] ?? null;
  out.id = obj.id;
  return out;
}

const memberEntry = (m: MemberRef, removed = false): Entry => ({
  '@odata.type': `#microsoft.graph.${m.type}`, id: m.id, ...(removed ? { '@removed': { reason: 'deleted' } } : {}),
});

const tracksMembers = (shape: ResourceShape, select: readonly string[] | null) =>
  shape.resource === 'group' && (select === null || select.includes('members'));

/** Initial round: every listed object as it is now, groups with their whole membership as added members. */
export function planInitial(
  shape: ResourceShape, objects: readonly DeltaObject[], select: readonly string[] | null,
  members: ReadonlyMap<string, readonly MemberRef[]>,
): Entry[] {
  return objects.map((o) => {
    const e = project(o, shape, select);
    if (tracksMembers(shape, select)) e['members@delta'] = (members.get(o.id) ?? []).map((m) => memberEntry(m));
    return e;
  });
}

export interface ChangePlanInput {
  shape: ResourceShape;
  /** Changed object ids of this page, in page order. */
  ids: readonly string[];
  /** Their change-log rows in (watermark, upTo], in seq order. */
  rows: readonly DeltaChange[];
  /** Current state of those still stored (live or soft-deleted); absent = permanently deleted. */
  objects: ReadonlyMap<string, DeltaObject>;
  select: readonly string[] | null;
  /** `Prefer: return=minimal`: only the changed properties (and id) of updated objects. */
  minimal: boolean;
  /** Current members of the page's groups (used when membership changed without detail rows). */
  members: ReadonlyMap<string, readonly MemberRef[]>;
  /** Type of every member id named in membership detail (`user` when unknown). */
  memberTypes: ReadonlyMap<string, string>;
}

/** Change round: one entry per changed object, or none when only untracked properties changed. */
export function planChanges(input: ChangePlanInput): Entry[] {
  const { shape, select } = input;
  const byObject = new Map<string, DeltaChange[]>();
  for (const r of input.rows) byObject.set(r.object_id, [...(byObject.get(r.object_id) ?? []), r]);
  const out: Entry[] = [];
  for (const id of input.ids) {
    const rows = byObject.get(id) ?? [];
    const obj = input.objects.get(id);
    if (!obj) {
      out.push({ id, '@removed': { reason: 'deleted' } });
      continue;
    }
    if (obj.deleted) {
      out.push({ id, '@removed': { reason: 'changed' } });
      continue;
    }
    // Created, restored or deleted-and-restored within the round: the client needs the whole object.
    const lifecycle = rows.some((r) => (r.change as ChangeKind) !== 'updated');
    const changed = new Set<string>();
    for (const r of rows) {
      for (const p of r.props ?? []) {
        const base = baseProp(p);
        // Assignments change the user's or group's change-log row (the sync engine reads it), but they are a
        // navigation property Graph's delta does not track.
        if (untrackedProps.has(base)) continue;
        changed.add(base);
        for (const d of shape.derived[base] ?? []) changed.add(d);
      }
    }
    const tracked = (p: string) => select === null || select.includes(p);
    const membersChanged = tracksMembers(shape, select) && changed.has('members');
    if (!lifecycle && ![...changed].some(tracked)) continue;
    let entry: Entry;
    if (lifecycle || !input.minimal) {
      entry = project(obj, shape, select);
    } else {
      entry = project(obj, shape, [...changed].filter(tracked));
    }
    if (tracksMembers(shape, select) && (lifecycle || membersChanged)) {
      entry['members@delta'] = lifecycle ? (input.members.get(id) ?? []).map((m) => memberEntry(m)) : memberDelta(id, rows, input);
    }
    out.push(entry);
  }
  return out;
}

/**
 * Net membership change of one group over the round, from `members:±<id>` props in seq order (last
 * word wins). A `members` change with no detail (older writers) falls back to the current membership
 * as additions: clients apply additions idempotently, but removals are then not reported.
 */
function memberDelta(groupId: string, rows: readonly DeltaChange[], input: ChangePlanInput): Entry[] {
  const net = new Map<string, '+' | '-'>();
  let undetailed = false;
  for (const r of rows) {
    for (const p of r.props ?? []) {
      const m = memberProp.exec(p);
      if (m) net.set(m[2] as string, m[1] as '+' | '-');
      else if (p === 'members' && !(r.props ?? []).some((q) => memberProp.test(q))) undetailed = true;
    }
  }
  const out: Entry[] = [];
  if (undetailed) {
    for (const m of input.members.get(groupId) ?? []) if (!net.has(m.id)) out.push(memberEntry(m));
  }
  for (const [id, op] of net) out.push(memberEntry({ id, type: input.memberTypes.get(id) ?? 'user' }, op === '-'));
  return out;
}

/** Member ids named in membership detail props (their types are looked up by the caller). */
export function memberIdsIn(rows: readonly DeltaChange[]): string[] {
  const ids = new Set<string>();
  for (const r of rows) for (const p of r.props ?? []) {
    const m = memberProp.exec(p);
    if (m) ids.add(m[2] as string);
  }
  return [...ids];
}
