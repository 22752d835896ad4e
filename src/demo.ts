// The demo organization of the seed document: tenant A with Annie, tenant B with Bob and Barbara,
// tenant C with Charlie. Made on first start; its credentials are kept in DATA/demo.json (mode 0600)
// so every later start can print them again — the store itself holds only hashes.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from './domain/clock.js';
import { createApp, createTenant } from './identity/tenants.js';
import { importUsers } from './directory/import.js';
import type { Store } from './store/store.js';

export interface DemoTenant {
  name: string;
  tenantId: string;
  domain: string;
  adminApp: { clientId: string; clientSecret: string };
  publicClientId: string;
  users: { userPrincipalName: string; displayName: string; password: string }[];
}

const people: Record<string, [string, string, string][]> = {
  'Tenant A': [['Annie', 'Anderson', 'annie']],
  'Tenant B': [['Bob', 'Brown', 'bob'], ['Barbara', 'Baker', 'barbara']],
  'Tenant C': [['Charlie', 'Clark', 'charlie']],
};

export async function ensureDemo(store: Store, clock: Clock, dataDir: string): Promise<DemoTenant[]> {
  const file = join(dataDir, 'demo.json');
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as DemoTenant[];
  const out: DemoTenant[] = [];
  for (const [name, members] of Object.entries(people)) {
    const letter = name.slice(-1).toLowerCase();
    const created = await createTenant(store, clock, { name, domain: `tenant${letter}.openmto.test` });
    const pub = await createApp(store, clock, created.tenantId, { name: 'Demo console', permissions: [], publicClient: true });
    const users = members.map(([given, surname, alias]) => ({
      userPrincipalName: `${alias}@${created.domain}`,
      displayName: `${given} ${surname}`,
      givenName: given,
      surname,
      mailNickname: alias,
      mail: `${alias}@${created.domain}`,
      jobTitle: 'Collaborator',
      accountEnabled: true,
      // Complexity: upper, lower, digit and symbol.
      password: `Demo-${randomBytes(6).toString('base64url')}9a`,
    }));
    // The first person of each tenant administers it, so delegated admin calls can be tried at once.
    const items = users.map(({ password, ...u }, i) => ({ ...u, passwordProfile: { password }, ...(i === 0 ? { roles: ['Global Administrator'] } : {}) }));
    const result = await importUsers({ store, clock }, created.tenantId, items);
    if (result.failed.length) throw new Error(`demo users failed: ${JSON.stringify(result.failed)}`);
    out.push({
      name, tenantId: created.tenantId, domain: created.domain, adminApp: created.adminApp, publicClientId: pub.clientId,
      users: users.map((u) => ({ userPrincipalName: u.userPrincipalName, displayName: u.displayName, password: u.password })),
    });
  }
  await writeFile(file, JSON.stringify(out, null, 2), { mode: 0o600 });
  return out;
}
