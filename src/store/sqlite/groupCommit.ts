// Group commit: concurrent transactions of this process share one SQLite transaction and one WAL sync.
//
// The connection is one, so transactions run one after another whatever happens; what a commit costs is
// the sync of the WAL (durable.ts) and SQLite's per-commit work (WAL frames for every page touched, the
// WAL index). A leader takes the connection, opens one transaction (BEGIN IMMEDIATE: the file's write lock
// up front, so the CLI in another process waits on busy_timeout rather than deadlocks) and runs the queued
// transactions in it, each in its own SAVEPOINT: one that throws is rolled back to its savepoint and
// rejected at once (nothing of it was committed), the others go on. One COMMIT ends the batch; the
// connection is released, so the next batch runs while the WAL sync is in flight; once it is on disk each
// committed member's promise resolves and its change marks are announced (never a rolled-back member's).
//
// Bounds: a batch takes at most MAX_MEMBERS transactions and stops taking new ones MAX_OPEN_MS after it
// began, so the first member's wait for its COMMIT stays around a millisecond plus its followers' own run
// time; while the batch is under both bounds and the queue is empty, it yields one event-loop turn for
// requests already read off their sockets to join, and commits when none did (a lone client pays one
// turn, a few microseconds). Readers outside a transaction wait for the batch (the connection mutex), so
// the time bound bounds them too.
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

  const queue: Member[] = [];
  let leading: Promise<void> | undefined;
  const pending = new Set<Promise<void>>();

  // Acknowledge after the WAL sync; kept in `pending` so close() can wait for it.
  const acknowledge = (done: Committed[]) => {
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
  };

  const runBatch = async (conn: Db): Promise<void> => {
    registerSyncRunner(conn, own);
    begin();
    const opened = performance.now();
    const done: Committed[] = [];
    let current: Member | undefined;
    try {
      for (let taken = 0; taken < MAX_MEMBERS && performance.now() - opened < MAX_OPEN_MS;) {
        current = queue.shift();
        if (!current) {
          await new Promise<void>((r) => setImmediate(r));
          if (!queue.length) break;
          continue;
        }
        taken++;
        savepoint();
        try {
          const result = await current.fn(conn);
          release();
          done.push({ member: current, result, marks: takeChanged(conn) });
        } catch (e) {
          takeChanged(conn);
          // SQLite ends the whole transaction itself on some errors (see rollback): then every member so far
          // goes with it (the catch below).
          if (!raw.inTransaction) throw e;
          rollbackTo();
          release();
          current.reject(e);
        }
        current = undefined;
      }
      commit();
    } catch (e) {
      rollback();
      current?.reject(e);
      for (const c of done) c.member.reject(e);
      return;
    }
    acknowledge(done);
  };

  const lead = async () => {
    while (queue.length) {
      try {
        await db.connection().execute(runBatch);
      } catch (e) {
        // BEGIN failed (busy past busy_timeout): the members queued now fail with it; later ones retry.
        for (const m of queue.splice(0)) m.reject(e);
      }
    }
    leading = undefined;
  };

  return {
    join<T>(fn: (db: Db) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
        leading ??= lead();
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
              acknowledge([{ member, result, marks: takeChanged(conn) }]);
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
      while (leading || pending.size) {
        await leading;
        await Promise.all(pending);
      }
    },
  };
}
