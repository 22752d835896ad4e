// The people index's memory per user, two ways, for BENCHMARKS.md:
// - measured: heap growth across a build of one tenant's index in this process, between two full GCs
//   (gc is exposed at run time through V8 flags), divided by its users;
// - estimated: the index's own count of what it holds (TenantPeople.bytes: strings, arrays, objects,
//   map entries at V8's 64-bit sizes), which the server reports in GET /operator/v1/people-index.
// The store is opened read-only in use (no writes), on the data set the search measurement imported.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { enablePeopleIndex } from '../src/store/people/cache.js';
import { openStore } from '../src/store/store.js';

export interface PeopleIndexMemory {
  users: number;
  /** Heap growth across the build ÷ users (bytes). */
  measuredBytesPerUser: number;
  /** The index's own estimate ÷ users (bytes), as the server reports it. */
  estimatedBytesPerUser: number;
  buildSeconds: number;
}

function gcFunction(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Builds `tenantId`'s people index from the SQLite file at `dbPath` and measures what it holds. */
export async function measurePeopleIndexMemory(dbPath: string, tenantId: string): Promise<PeopleIndexMemory> {
  const gc = gcFunction();
  const store = await openStore({ url: dbPath });
  try {
    const settle = () => {
      for (let i = 0; i < 3; i++) gc();
      return process.memoryUsage().heapUsed;
    };
    const before = settle();
    const t0 = performance.now();
    const index = enablePeopleIndex(store.db, { maxUsers: 100_000_000 });
    if (!(await index.ready(tenantId))) throw new Error('the people index refused the tenant');
    const buildSeconds = (performance.now() - t0) / 1000;
    const after = settle();
    const status = index.status();
    index.stop();
    const users = status.heldUsers;
    return {
      users,
      measuredBytesPerUser: Math.round((after - before) / users),
      estimatedBytesPerUser: status.bytesPerUser ?? 0,
      buildSeconds: Math.round(buildSeconds * 10) / 10,
    };
  } finally {
    await store.close();
  }
}
