// The data folder: private to the user running openmto whoever created it, and held by one server at a
// time when it holds the SQLite database.
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** Files that hold secrets or directory data (SQLite's -wal and -shm take the database file's mode). */
const PRIVATE_FILES = ['openmto.db', 'openmto.db-wal', 'openmto.db-shm', 'operator.key', 'demo.json', 'openmto.lock'];

const chmodIfOwn = (path: string, mode: number) => {
  try {
    const st = lstatSync(path);
    // Someone else's file (a shared mount, root's folder) is left alone; a symlink is not followed.
    if (st.isSymbolicLink() || (process.getuid && st.uid !== process.getuid())) return;
    if ((st.mode & 0o777) !== mode) chmodSync(path, mode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
};

/**
 * Makes `dir` (and DIR/tls) 0700 and its data files 0600, creating the folder when missing. An existing
 * folder is tightened too: before this, a folder that already existed kept the mode it had (0755).
 * `sqlitePath` is created empty with 0600 before SQLite opens it, so it and the -wal/-shm files SQLite
 * makes next to it (with the database file's mode) are private from their first byte.
 */
export function secureDataDir(dir: string, sqlitePath?: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodIfOwn(dir, 0o700);
  if (sqlitePath && !existsSync(sqlitePath)) closeSync(openSync(sqlitePath, 'a', 0o600));
  for (const f of PRIVATE_FILES) chmodIfOwn(join(dir, f), 0o600);
  if (sqlitePath) for (const suffix of ['', '-wal', '-shm']) chmodIfOwn(`${sqlitePath}${suffix}`, 0o600);
  const tls = join(dir, 'tls');
  if (existsSync(tls)) {
    chmodIfOwn(tls, 0o700);
    for (const f of readdirSync(tls)) if (f.includes('key')) chmodIfOwn(join(tls, f), 0o600);
  }
}

export interface DataDirLock {
  path: string;
  release(): void;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists, under another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Takes DIR/openmto.lock for this process: two servers on one SQLite file would each keep their own
 * in-memory state (people index, lockouts, workers) over shared rows. A lock whose process is gone (a
 * crash, SIGKILL) is stale and taken over; one held by a live process, this one included, is refused.
 * One-shot commands do not lock: they work beside the running server through SQLite's own locking.
 */
export function lockDataDir(dir: string): DataDirLock {
  const path = join(dir, 'openmto.lock');
  const me = `${process.pid} ${hostname()}\n`;
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const [pidText, host] = readFileSync(path, 'utf8').trim().split(' ');
      const pid = Number(pidText);
      const sameHost = !host || host === hostname();
      if (Number.isSafeInteger(pid) && pid > 0 && (!sameHost || alive(pid))) {
        throw new Error(
          `another openmto server (pid ${pid}${sameHost ? '' : ` on ${host}`}) is using the data folder ${dir}. ` +
            `Stop it first, or give this one its own folder with --data DIR. (If no such server runs, delete ${path}.)`,
        );
      }
      unlinkSync(path);
      continue;
    }
    writeSync(fd, me);
    closeSync(fd);
    return {
      path,
      release() {
        try {
          if (readFileSync(path, 'utf8') === me) unlinkSync(path);
        } catch {
          // already gone
        }
      },
    };
  }
  throw new Error(`could not take the lock ${path}`);
}

/** The pid holding DIR/openmto.lock, if a live process does. */
export function lockHolder(dir: string): number | undefined {
  const path = join(dir, 'openmto.lock');
  if (!existsSync(path)) return undefined;
  const pid = Number(readFileSync(path, 'utf8').trim().split(' ')[0]);
  return Number.isSafeInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
}
