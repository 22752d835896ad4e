// Which list queries the in-memory people index can answer, split into the branches the SQL planner
// (store/query/list.ts) would make. A query the index answers must come back as the same rows, in the
// same order, with the same $skiptoken cursors, as from SQL; anything else returns undefined and goes
// to SQL, which also owns every error message. Pure: no I/O.
import type { ResourceCatalog } from '../../domain/catalog.js';
import { type FilterNode, foldCase, type SearchNode, tokenize } from '../../domain/odata.js';
import { findProperty } from '../query/compile.js';
import { flatten, INDEXED, MAX_BRANCHES } from '../query/drivers.js';
import type { ListQuery } from '../query/list.js';

/**
 * One OR branch, which is both what drives it and all it requires: a prefix on an indexed column
 * (`startsWith` filters, `prefix` search properties) or a word prefix on a tokenized property.
 */
export type Probe =
  | { readonly kind: 'column'; readonly column: string; readonly prefix: string }
  | { readonly kind: 'token'; readonly prop: string; readonly piece: string };

export interface PeoplePlan {
  /** Branch i returns matches of probe i that no earlier probe matched (list.ts's `split`). */
  readonly probes: readonly Probe[];
  readonly render: readonly string[];
  /** Rows to return; one more is read to know whether there is a next page. */
  readonly top: number;
  readonly after?: { readonly branch: number; readonly key: string; readonly id: string };
}

/** What an index holds: the columns it keeps sorted, the tokenized properties, the renderable keys. */
export interface Holdings {
  readonly columns: ReadonlySet<string>;
  readonly tokenProps: ReadonlySet<string>;
  readonly renderable: ReadonlySet<string>;
}

export function peoplePlan(catalog: ResourceCatalog, q: ListQuery, held: Holdings): PeoplePlan | undefined {
  if (catalog.objectType !== 'user' || q.deleted || q.count || (q.orderBy?.length ?? 0) > 0) return undefined;
  if (!q.render?.every((k) => held.renderable.has(k))) return undefined;
  if (!Number.isInteger(q.top) || q.top < 1 || q.top > 999) return undefined;
  const probes = q.search && !q.filter ? probesOf(catalog, q.search, held, searchProbes) : q.filter && !q.search ? probesOf(catalog, q.filter, held, filterProbes) : undefined;
  if (!probes) return undefined;
  const c = q.cursor;
  if (c && (c.kind !== 'after' || typeof c.key !== 'string' || typeof c.id !== 'string' || !Number.isInteger(c.branch) || c.branch < 0 || c.branch >= probes.length)) {
    return undefined;
  }
  return { probes, render: q.render, top: q.top, ...(c?.kind === 'after' && c.key !== null ? { after: { branch: c.branch, key: c.key, id: c.id } } : {}) };
}

/**
 * Probes by query tree: the API's parse cache hands the same frozen tree to every request with the same
 * text, so the walk over it (names, case folding, tokenizing) is done once per tree, not per request.
 * Weak keys: an entry lives as long as its tree, and per catalog and holdings, which are constants.
 */
const probeCache = new WeakMap<object, WeakMap<object, WeakMap<object, readonly Probe[] | null>>>();

function probesOf<N extends object>(
  catalog: ResourceCatalog, node: N, held: Holdings, make: (c: ResourceCatalog, n: N, h: Holdings) => Probe[] | undefined,
): readonly Probe[] | undefined {
  let byHeld = probeCache.get(catalog);
  if (!byHeld) {
    byHeld = new WeakMap();
    probeCache.set(catalog, byHeld);
  }
  let byNode = byHeld.get(held);
  if (!byNode) {
    byNode = new WeakMap();
    byHeld.set(held, byNode);
  }
  let probes = byNode.get(node);
  if (probes === undefined) {
    const made = make(catalog, node, held);
    probes = made ? Object.freeze(made) : null;
    byNode.set(node, probes);
  }
  return probes ?? undefined;
}

function searchProbes(catalog: ResourceCatalog, search: SearchNode, held: Holdings): Probe[] | undefined {
  const alts = flatten(search, 'or');
  if (alts.length > MAX_BRANCHES) return undefined;
  const probes: Probe[] = [];
  for (const alt of alts) {
    if (alt.kind !== 'term' || alt.property === null) return undefined;
    const prop = findProperty(catalog, alt.property);
    if (prop?.kind !== 'scalar') return undefined;
    if (prop.search === 'tokens') {
      // A term of several words walks its rarest word and probes the others: SQL's job.
      const pieces = tokenize(alt.text);
      if (pieces.length !== 1 || !held.tokenProps.has(prop.name)) return undefined;
      probes.push({ kind: 'token', prop: prop.name, piece: pieces[0] as string });
    } else if (prop.search === 'prefix') {
      const p = columnProbe(catalog, prop.column, foldCase(alt.text.trim()), held);
      if (!p) return undefined;
      probes.push(p);
    } else {
      return undefined;
    }
  }
  return probes;
}

function filterProbes(catalog: ResourceCatalog, filter: FilterNode, held: Holdings): Probe[] | undefined {
  const alts = flatten(filter, 'or');
  if (alts.length > MAX_BRANCHES) return undefined;
  const probes: Probe[] = [];
  for (const alt of alts) {
    if (alt.kind !== 'call' || alt.fn !== 'startsWith' || alt.path.length !== 1 || alt.value.kind !== 'string') return undefined;
    const prop = findProperty(catalog, alt.path[0] as string);
    if (prop?.kind !== 'scalar' || prop.type !== 'string' || !prop.filter.includes('startsWith')) return undefined;
    const p = columnProbe(catalog, prop.column, foldCase(alt.value.value), held);
    if (!p) return undefined;
    probes.push(p);
  }
  return probes;
}

function columnProbe(catalog: ResourceCatalog, column: string, prefix: string, held: Holdings): Probe | undefined {
  if (prefix === '' || !INDEXED[catalog.table]?.has(column) || !held.columns.has(column)) return undefined;
  return { kind: 'column', column, prefix };
}
