// The demo organization of the seed document: tenant A with Annie, tenant B with Bob and Barbara,
// tenant C with Charlie, one multi-tenant organization of the three (A creates it, adds B and C, they
// join), and each tenant sharing all its users, so each person becomes a B2B member of the two other
// tenants within seconds. Made on first start; its credentials are kept in DATA/demo.json (mode 0600)
// so every later start can print them again — the store itself holds only hashes — and nothing is made twice.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { editSharing } from './collaboration/index.js';
import type { Actor } from './directory/access.js';
import type { Clock } from './domain/clock.js';
import { addMember, createOrganization, requestJoin } from './mto/organization.js';
import { updateTemplate } from './mto/templates.js';
import { runDueTransitions } from './mto/transitions.js';
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
  await formOrganization(store, clock, out);
  await writeFile(file, JSON.stringify(out, null, 2), { mode: 0o600 });
  return out;
}

const admin = (tenantId: string): Actor => ({
  principal: { tenantId, kind: 'app', appId: 'openmto-demo', scopes: new Set(), roles: new Set(['MultiTenantOrganization.ReadWrite.All', 'Policy.ReadWrite.CrossTenantAccess']) },
  readLevel: 'all', isAdmin: true,
});

/**
 * What the Microsoft 365 admin center does when it forms an organization: each tenant's MTO templates allow
 * inbound sync and automatic redemption both ways (so a join sets them on every partner), then the joins,
 * then "Share users" with everyone. The joins run here rather than on the server's worker so that the
 * organization is whole when this returns; the engine then provisions the 3 × 2 pairs in the background.
 */
async function formOrganization(store: Store, clock: Clock, tenants: DemoTenant[]): Promise<void> {
  const ctx = { store, clock };
  for (const t of tenants) {
    await updateTemplate(ctx, t.tenantId, admin(t.tenantId), 'partner', { automaticUserConsentSettings: { inboundAllowed: true, outboundAllowed: true } });
    await updateTemplate(ctx, t.tenantId, admin(t.tenantId), 'identitySync', { userSyncInbound: { isSyncAllowed: true } });
  }
  const [owner, ...others] = tenants as [DemoTenant, ...DemoTenant[]];
  await createOrganization(ctx, owner.tenantId, admin(owner.tenantId), { displayName: 'Contoso', description: 'The seed document\'s organization' });
  for (const t of others) await addMember(ctx, owner.tenantId, admin(owner.tenantId), { tenantId: t.tenantId, displayName: t.name, role: 'member' });
  for (const t of others) await requestJoin(ctx, t.tenantId, admin(t.tenantId), { addedByTenantId: owner.tenantId });
  await runDueTransitions(ctx);
  for (const t of tenants) await editSharing(ctx, t.tenantId, { users: t.users.map((u) => u.userPrincipalName), groups: [] });
}
