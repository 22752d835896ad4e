// Unique-constraint violations as domain errors, on both stores. A check-then-insert (`upnTaken`, then
// insert) can lose a race to a concurrent transaction on PostgreSQL; the index is the last word, and its
// refusal must reach the client as Graph's 400, not as a driver error.

/** The unique index or primary key a failed write ran into, when the error is such a violation. */
export function uniqueViolation(e: unknown): string | undefined {
  const err = e as { code?: unknown; constraint?: unknown; message?: unknown };
  // PostgreSQL: SQLSTATE 23505, with the constraint (index) name.
  if (err?.code === '23505') return typeof err.constraint === 'string' ? err.constraint : '';
  // SQLite: "UNIQUE constraint failed: users.tenant_no, users.upn_lc" (columns, not the index name).
  if (err?.code === 'SQLITE_CONSTRAINT_UNIQUE' || err?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return typeof err.message === 'string' ? err.message : '';
  }
  return undefined;
}

/** Runs a write; a unique violation that `matches` becomes `toError()`, anything else is rethrown. */
export async function translateUnique<T>(write: () => Promise<T>, matches: (where: string) => boolean, toError: () => Error): Promise<T> {
  try {
    return await write();
  } catch (e) {
    const where = uniqueViolation(e);
    if (where !== undefined && matches(where)) throw toError();
    throw e;
  }
}
