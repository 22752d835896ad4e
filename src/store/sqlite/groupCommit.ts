// Group commit: concurrent transactions of this process share one SQLite transaction and one WAL sync.
//
// The connection is one, so transactions run one after another whatever happens; what a commit costs is
// the sync of the WAL (durable.ts: an fdatasync costs 0.3–1 ms of CPU in the kernel here, more than the
// rest of a create) and SQLite's per-commit work (BEGIN, COMMIT: a WAL frame per page touched, the WAL
// index; pages that members share, such as the tenant's row and the tails of the tables, are written once
// per commit). A batch opens one transaction (BEGIN IMMEDIATE: the file's write lock up front, so the CLI
// in another process waits on busy_timeout rather than deadlocks) and runs the queued transactions in it.
//
// When to commit follows the WAL sync (leader/follower): durable.ts runs one sync at a time, and a commit
// made while one is in flight is acknowledged only after the next, so committing before the one in flight
// ends gains nothing. A batch whose queue is empty therefore stays open while a sync is in flight, takes
// the transactions that arrive meanwhile, and commits when the sync ends (its own sync then starts at once
// and covers the whole batch) or at its time bound. With no sync in flight it commits at once: a lone
// client never waits for anyone. Transactions still run while the sync is in flight, not after it.
//
// The first member of a transaction runs without a savepoint (if it throws, the transaction holds only its
// writes: ROLLBACK); each later one in its own SAVEPOINT, so one that throws is rolled back to it and
// rejected at once (nothing of it was committed) while the others go on. After COMMIT the connection is
// released, and once the WAL sync that follows the commit is done each committed member's promise resolves
// and its change marks are announced (never a rolled-back member's): no acknowledgement precedes the sync
// of the WAL that holds its commit.
//
// Bounds: a batch takes at most MAX_MEMBERS transactions and stops taking new ones MAX_OPEN_MS after it
// began, so the first member's wait for its COMMIT stays around a millisecond plus its followers' own run
// time. Readers outside a transaction wait for the batch (the connection mutex), so the bound holds for
// them too.
//
// Members must not open another transaction from inside theirs (it would wait behind its own batch), as
// before; a member that does long work (a bulk import chunk) just ends its batch.
import type Database from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { performance } from 'node:perf_hooks';
import { takeChanged } from '../changeEvents.js';
import { registerSyncRunner, type SyncRunner } from '../query/sqlText.js';
import type { Database as Schema } from '../schema.js';
import type { Db } from '../store.js';
import type { WalSyncer } from './durable.js';

/** Enough to cover every request in flight on a busy server; past it the next batch takes the rest. */
export const MAX_MEMBERS = 64;
/** How long a batch keeps taking members: the latency a member may add to those before it. */
export const MAX_OPEN_MS = 1;

interface Member {
  fn: (db: Db) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

interface Committed {
  member: Member;
  result: unknown;
  marks: string[] | undefined;
}

/** What the group has done since the store opened (tests and diagnostics read it). */
export interface GroupCommitStats {
  /** SQLite transactions committed by batches (each one COMMIT). */
  batches: number;
  /** Members committed in them. */
  members: number;
}

export function groupCommit(db: Kysely<Schema>, raw: Database.Database, own: SyncRunner, durable: WalSyncer, announce: (marks: string[]) => void) {
  const stmt = (text: string) => {
    const s = raw.prepare(text);
    return () => void s.run();
  };
  const begin = stmt('BEGIN IMMEDIATE');
  const commit = stmt('COMMIT');
  const savepoint = stmt('SAVEPOINT openmto_member');
  const release = stmt('RELEASE openmto_member');
  const rollbackTo = stmt('ROLLBACK TO openmto_member');
  const rollback = () => {
    // SQLite ends the transaction itself on some errors (SQLITE_FULL, an I/O error); then there is
    // nothing left to roll back.
    if (raw.inTransaction) raw.prepare('ROLLBACK').run();
  };

  const stats: GroupCommitStats = { batches: 0, members: 0 };
  const queue: Member[] = [];
  /** A batch holds (or waits for) the connection. */
  let running = false;
  /** Wakes a batch that waits for the sync in flight when a transaction joins. */
  let arrived: (() => void) | undefined;
  const pending = new Set<Promise<void>>();

  // Acknowledge after the WAL sync; kept in `pending` so close() can wait for it.
  const acknowledge = (done: Committed[]): Promise<void> => {
    const p = durable().then(
      () => {
        for (const c of done) {
          if (c.marks) announce(c.marks);
          c.member.resolve(c.result);
        }
      },
      (e) => {
        for (const c of done) c.member.reject(e);
      },
    ).finally(() => pending.delete(p));
    pending.add(p);
    return p;
  };

  const runBatch = async (conn: Db): Promise<void> => {
    registerSyncRunner(conn, own);
    const opened = performance.now();
    const done: Committed[] = [];
    let current: Member | undefined;
    // Opened lazily: a batch whose first member failed alone rolls back and opens again for the next.
    let open = false;
    let deadline: Promise<void> | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      for (let taken = 0; taken < MAX_MEMBERS && performance.now() - opened < MAX_OPEN_MS;) {
        current = queue.shift();
        if (!current) {
          // Nothing queued: commit now unless a sync is in flight (this commit would wait for it anyway);
          // then stay open for those who arrive meanwhile, until it ends or the time bound.
          const sync = open ? durable.inFlight() : undefined;
          if (!sync) break;
          deadline ??= new Promise<void>((r) => {
            timer = setTimeout(r, Math.max(0, MAX_OPEN_MS - (performance.now() - opened)));
          });
          await Promise.race([sync, deadline, new Promise<void>((r) => {
            arrived = r;
          })]);
          arrived = undefined;
          if (!queue.length) break;
          continue;
        }
        taken++;
        // With nothing committed before it in this transaction, a member needs no savepoint of its own.
        const alone = !done.length;
        if (!open) begin();
        open = true;
        if (!alone) savepoint();
        try {
          const result = await current.fn(conn);
          if (!alone) release();
          done.push({ member: current, result, marks: takeChanged(conn) });
        } catch (e) {
          takeChanged(conn);
          if (alone) {
            rollback();
            open = false;
          } else {
            // SQLite ends the whole transaction itself on some errors (see rollback): then every member so
            // far goes with it (the catch below).
            if (!raw.inTransaction) throw e;
            rollbackTo();
            release();
          }
          current.reject(e);
        }
        current = undefined;
      }
      clearTimeout(timer);
      if (open) commit();
    } catch (e) {
      clearTimeout(timer);
      rollback();
      current?.reject(e);
      for (const c of done) c.member.reject(e);
      // BEGIN failed (busy past busy_timeout): the members queued now fail with it; later ones retry.
      if (!open) for (const m of queue.splice(0)) m.reject(e);
      return;
    }
    if (!done.length) return;
    stats.batches++;
    stats.members += done.length;
    void acknowledge(done);
  };

  // Starts a batch when there is work and none runs (a running one takes what is queued).
  const next = (): void => {
    if (running || !queue.length) return;
    running = true;
    db.connection().execute(runBatch).catch((e) => {
      // The connection could not be had (the store is closing): the members queued now fail with it.
      for (const m of queue.splice(0)) m.reject(e);
    }).finally(() => {
      running = false;
      next();
    });
  };

  return {
    stats,
    join<T>(fn: (db: Db) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
        arrived?.();
        next();
      });
    },
    /** A transaction of its own (no savepoint, no followers), still acknowledged only once durable. */
    solo<T>(fn: (db: Db) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const member: Member = { fn, resolve: resolve as (v: unknown) => void, reject };
        db.connection()
          .execute(async (conn) => {
            registerSyncRunner(conn, own);
            begin();
            try {
              const result = await fn(conn);
              commit();
              void acknowledge([{ member, result, marks: takeChanged(conn) }]);
            } catch (e) {
              takeChanged(conn);
              rollback();
              reject(e);
            }
          })
          .catch(reject);
      });
    },
    /** Resolves when no batch runs and every commit is acknowledged. */
    async idle(): Promise<void> {
      while (running || queue.length || pending.size) {
        await Promise.all(pending);
        await new Promise<void>((r) => setImmediate(r));
      }
    },
  };
}
