// What every `openmto` command shares: the --data option, output as text or --json, and opening the
// store of a data directory (optionally resolving --tenant by id or domain) for the command's duration.
import { Option } from 'commander';
import { databaseUrlFor, defaultDataDir, isSqliteFile } from '../config.js';
import { secureDataDir } from '../datadir.js';
import { keyringFromEnv, useKeyring } from '../identity/keyring.js';
import { type TenantRecord, tenantsRepo } from '../store/repos/tenants.js';
import { openStore, type Store } from '../store/store.js';

export interface CommonOptions {
  tenant: string;
  json?: boolean;
  data: string;
}

export const dataOption = () => new Option('--data <dir>', 'data directory').default(defaultDataDir());

export const out = (json: boolean | undefined, value: unknown, text: () => string) => {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
};

export async function withStore<T>(dataDir: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const url = databaseUrlFor(dataDir);
  secureDataDir(dataDir, isSqliteFile(url) ? url : undefined);
  const store = await openStore({ url });
  useKeyring(store, keyringFromEnv());
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Opens the store and resolves a tenant named by id or domain. */
export function withTenant<T>(dataDir: string, tenantRef: string, fn: (store: Store, tenant: TenantRecord) => Promise<T>): Promise<T> {
  return withStore(dataDir, async (store) => {
    const t = await tenantsRepo.find(store.db, tenantRef);
    if (!t) throw new Error(`tenant '${tenantRef}' does not exist`);
    return fn(store, t);
  });
}
