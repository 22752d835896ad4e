// Whether anything may have been committed to the database since a value was read, known without asking
// the database.
//
// Some reads run on every request only to learn that nothing changed: the token's tenant still exists,
// the people index is at the change log's head. On SQLite each is a read transaction of its own (the file's
// shared locks, the WAL index, a B-tree seek from cold caches), and the two of them cost a people search
// about 30 µs of server CPU, a sixth of the request (bench/ measurement 3). A store that can tell cheaply
// when something was committed registers a version here; a caller keeps the version it read *before* its
// read and reads again only once the version moved. A version that is the same as before guarantees that
// nothing was committed in between, by any connection or process; a moved one only says something may
// have been (anything, anywhere), so callers just read again.
//
// SQLite (sqlite/connect.ts) has one: on a file, the WAL index header, which every commit rewrites, by
// whichever connection or process (sqlite/walIndex.ts); in memory, a count of the writes run. PostgreSQL has
// none (another server may commit at any time, and nothing tells this one synchronously): `dataVersion` is
// undefined there, and callers read.

/** Returns the current version, or undefined when it can't tell right now (read the database then). */
export type VersionSource = () => number | undefined;

const sources = new WeakMap<object, VersionSource>();

/** Sets the version source of a store's root handle (not of its transactions' handles). */
export function registerDataVersion(db: object, source: VersionSource): void {
  sources.set(db, source);
}

/**
 * A number that differs from every earlier one whenever a write may have committed since it was last
 * returned; undefined when the store behind `db` can't tell (read the database).
 */
export const dataVersion = (db: object): number | undefined => sources.get(db)?.();
