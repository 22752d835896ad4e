// Durability of SQLite commits without blocking the event loop.
//
// With `synchronous = FULL` SQLite fsyncs the WAL inside COMMIT, on the main thread: ~250 µs here during
// which no other request runs. Instead the connection commits with `synchronous = NORMAL` (the WAL frames
// are written, not synced) and the store calls fdatasync on the WAL file in libuv's thread pool before it
// resolves any transaction's promise. An fdatasync flushes everything written to the file before it was
// called, so one call covers every commit made up to then: at most one runs at a time, and commits made
// while it runs share the next one (the classic group commit). Checkpoints keep SQLite's own ordering (in
// NORMAL, the WAL is synced before it is copied into the database file and the file synced before the WAL
// is reused), so a synced WAL always replays.
import { closeSync, fdatasync, fstatSync, fsyncSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';

export interface WalSyncer {
  /** Resolves once every commit made before the call is on disk. */
  (): Promise<void>;
  /** The sync running now, if any (settles when it ends, never rejects). */
  inFlight(): Promise<void> | undefined;
  close(): void;
}

/** fdatasync(2) as node:fs has it; tests pass one that records when it runs. */
export type DataSync = (fd: number, done: (err: NodeJS.ErrnoException | null) => void) => void;

export function walSyncer(raw: Database.Database, datasync: DataSync = fdatasync): WalSyncer {
  const path = raw.name;
  if (raw.memory || path === '' || path === ':memory:') {
    const none = (() => Promise.resolve()) as WalSyncer;
    none.inFlight = () => undefined;
    none.close = () => undefined;
    return none;
  }
  const wal = `${path}-wal`;
  // The WAL's directory entry must be durable too (SQLite creates the file on first use and never syncs
  // the directory); once per connection.
  syncDirectory(dirname(path));
  let fd: number | undefined;
  let ino = 0;
  // SQLite deletes the WAL when the last connection to the file closes (a CLI run with no server, say) and
  // creates a new one on the next open: a descriptor to the old file would sync nothing. One stat per sync.
  const walFd = (): number => {
    const current = statSync(wal).ino;
    if (fd === undefined || current !== ino) {
      if (fd !== undefined) closeSync(fd);
      fd = openSync(wal, 'r+');
      ino = fstatSync(fd).ino;
    }
    return fd;
  };
  let running: Promise<void> | undefined;
  let settled: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  const once = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      let f: number;
      try {
        f = walFd();
      } catch (e) {
        // No WAL: the last connection closed, and SQLite checkpointed it into the database file, synced,
        // before deleting it; what was committed is on disk.
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') resolve();
        else reject(e);
        return;
      }
      datasync(f, (err) => (err ? reject(err) : resolve()));
    });
  const syncer = (() => {
    if (!running) {
      running = once().finally(() => {
        running = undefined;
        settled = undefined;
      });
      settled = running.catch(() => undefined);
      return running;
    }
    // The sync in flight may have started before this commit: wait for it, then one more, shared by every
    // commit that arrives meanwhile.
    queued ??= running.catch(() => undefined).then(() => {
      queued = undefined;
      return syncer();
    });
    return queued;
  }) as WalSyncer;
  syncer.inFlight = () => settled;
  syncer.close = () => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
  };
  return syncer;
}

function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory; the WAL's own sync still holds its data.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
