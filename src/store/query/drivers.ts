// What may drive a page of a directory collection: shared by the SQL planner (list.ts) and the
// in-memory people index (store/people), which must split a query into the same branches and walk
// the same index order so their pages and $skiptokens are interchangeable.

/** Beyond this many OR branches the per-branch queries cost more than they save; run one query. */
export const MAX_BRANCHES = 8;

/**
 * Columns with a (tenant_id, column) index (migrations.ts). Only these may drive a page: a range on an
 * unindexed column is a scan anyway, and id order then at least stops after `top` matches.
 */
export const INDEXED: Readonly<Record<string, ReadonlySet<string>>> = {
  users: new Set([
    'upn_lc', 'upn_rev', 'display_name_lc', 'given_name_lc', 'surname_lc', 'mail_lc', 'mail_rev', 'mail_nickname_lc',
    'employee_id_lc', 'created_at',
  ]),
  groups: new Set(['display_name_lc', 'mail_lc', 'mail_nickname_lc', 'created_at']),
};

/** The operands of a chain of `kind` nodes (`a or b or c` → [a, b, c]); any other node is itself. */
export function flatten<T extends { kind: string }>(n: T | undefined, kind: 'and' | 'or'): T[] {
  if (!n) return [];
  const x = n as T & { left?: T; right?: T };
  return n.kind === kind && x.left && x.right ? [...flatten(x.left, kind), ...flatten(x.right, kind)] : [n];
}
