// Tells when a SQLite database in WAL mode had a commit, by any connection of any process, without a
// statement: every commit rewrites the header of the WAL index, the first 96 bytes of the `-shm` file (two
// copies of a 48-byte header; https://www.sqlite.org/walformat.html), which SQLite keeps in shared memory
// mapped from that file, so a read of those bytes sees them as last written (~0.5 µs, where a statement
// takes the file's locks and walks a B-tree). SQLite's own readers read the header without a lock too; one
// caught mid-write differs from the last seen, which only reports a change that is about to be there.
//
// The descriptor must not be closed while a connection of this process has the database open: POSIX drops
// every lock a process holds on a file when it closes any descriptor of that file, SQLite's locks on the
// `-shm` included. So there is one per file per process, shared by the stores on it, and closed after the
// last of them has closed its connections.
import { closeSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';

const HEADER_BYTES = 96;

const shared = new Map<string, { fd: number; users: number }>();

export interface WalIndexWatch {
  /** How many times the header was seen to change so far; undefined when it can't be read (no `-shm`). */
  changes(): number | undefined;
  /** Call after the store's own connections are closed. */
  close(): void;
}

export function watchWalIndex(databasePath: string): WalIndexWatch {
  const file = resolve(`${databasePath}-shm`);
  let held: { fd: number; users: number } | undefined;
  let count = 0;
  const header = Buffer.alloc(HEADER_BYTES);
  const seen = Buffer.alloc(HEADER_BYTES);
  return {
    changes() {
      // Opened on first use: SQLite creates the file with the first transaction in WAL mode.
      held ??= acquire(file);
      if (!held) return undefined;
      try {
        if (readSync(held.fd, header, 0, HEADER_BYTES, 0) < HEADER_BYTES) return undefined;
      } catch {
        return undefined;
      }
      if (!header.equals(seen)) {
        header.copy(seen);
        count++;
      }
      return count;
    },
    close() {
      if (!held) return;
      if (--held.users === 0) {
        shared.delete(file);
        closeSync(held.fd);
      }
      held = undefined;
    },
  };
}

function acquire(file: string): { fd: number; users: number } | undefined {
  let entry = shared.get(file);
  if (!entry) {
    try {
      entry = { fd: openSync(file, 'r'), users: 0 };
    } catch {
      return undefined;
    }
    shared.set(file, entry);
  }
  entry.users++;
  return entry;
}
