// Keeps long work on the embedded database from holding the event loop.
//
// better-sqlite3 runs every statement synchronously, and a transaction's statements chain through
// promises that resolve at once: a sync batch writing a thousand B2B users, or a bulk-import chunk, ran
// hundreds of milliseconds without the event loop turning once, and every request that arrived meanwhile
// (a people search, say) waited for all of it (bench/ measurement 6: search p99 13× idle while the mesh
// re-read its sources). After a statement, work that has held the loop for HOLD_MS gives it one turn
// (setImmediate: sockets are read and their requests run); reads outside the transaction meanwhile go to
// the store's reader connection (connect.ts), so they answer at once instead of queueing behind it.

import { performance } from 'node:perf_hooks';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';

/**
 * How long statements may run back to back before the loop gets a turn. A search costs ~0.2 ms and its
 * target is p99 ≤ 2× idle (~13 ms over HTTP): a few ms keeps a waiting request well inside that, while a
 * turn per few ms costs a long transaction ~1 % (one setImmediate, microseconds).
 */
export const HOLD_MS = 4;

/** When the loop was last seen turning: set by the check-phase callback `watch` schedules. */
let turnedAt = performance.now();
let watching = false;

const seen = () => {
  watching = false;
  turnedAt = performance.now();
};

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Undefined while the loop turned within HOLD_MS (nearly always: a request's own statements take
 * microseconds); else a promise that resolves after one turn of the loop.
 */
export function pace(): Promise<void> | undefined {
  const now = performance.now();
  if (!watching) {
    // The next check phase proves the loop turned; until it runs, the time since `turnedAt` is time held.
    watching = true;
    turnedAt = now;
    setImmediate(seen);
    return undefined;
  }
  if (now - turnedAt < HOLD_MS) return undefined;
  return turn();
}

/**
 * The same after each statement Kysely's query builder runs on the store (its executor awaits plugins),
 * while `inTransaction` says a transaction holds the connection: outside one, each statement is a single
 * short read or autocommit write, as `run`'s reads on the store's own handle are (sqlText.ts), and is not
 * held up for a turn.
 */
export function pacePlugin(inTransaction: () => boolean): KyselyPlugin {
  return {
    transformQuery: (args: PluginTransformQueryArgs): RootOperationNode => args.node,
    transformResult: (args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> => {
      const turn = inTransaction() ? pace() : undefined;
      return turn ? turn.then(() => args.result) : Promise.resolve(args.result);
    },
  };
}
