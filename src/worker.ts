// A process that runs background work and serves no HTTP: sync jobs and MTO transitions. On PostgreSQL
// any number of workers and servers share the jobs through leases; on SQLite the server runs them itself.
import { databaseUrlFor, isSqliteFile, syncEngineFromEnv } from './config.js';
import { secureDataDir } from './datadir.js';
import { systemClock } from './domain/clock.js';
import { keyringFromEnv, useKeyring } from './identity/keyring.js';
import { startTransitionWorker } from './mto/transitions.js';
import { openStore } from './store/store.js';
import { startSyncScheduler } from './sync/index.js';

export async function startWorker(dataDir: string): Promise<{ owner: string; close(): Promise<void> }> {
  const url = databaseUrlFor(dataDir);
  if (isSqliteFile(url)) throw new Error('openmto worker shares jobs over PostgreSQL (set OPENMTO_DATABASE_URL); on SQLite the server runs sync itself');
  secureDataDir(dataDir, undefined);
  const store = await openStore({ url });
  useKeyring(store, keyringFromEnv());
  const log = (e: unknown) => process.stderr.write(`openmto worker: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  const sync = startSyncScheduler(store, systemClock, { engine: syncEngineFromEnv(), onError: log });
  const mto = startTransitionWorker({ store, clock: systemClock }, { onError: log });
  return {
    owner: sync.owner,
    async close() {
      await sync.stop();
      await mto.stop();
      await store.close();
    },
  };
}
