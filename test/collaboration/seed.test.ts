// The seed document end to end (../shared/seed, docs/collaboration.md): Annie in A, Bob and Barbara in B,
// Charlie in C; one organization of the three; each tenant shares its users. Every step is checked through
// the Graph SDK with the people's own delegated tokens. The steps are separate tests in order, so the
// people-search and readiness checks can be added beside the directory's.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@microsoft/microsoft-graph-client';
import { ensureDemo } from '../../src/demo.js';
import { systemClock } from '../../src/domain/clock.js';
import { startServer } from '../../src/server.js';
import { syncRepo } from '../../src/store/repos/sync.js';
import { tenantsRepo } from '../../src/store/repos/tenants.js';
import { dialects, fixtureTls, graphClient, startTestServer, type TestServer, type TestTenant, type TestUser, eventually } from '../helpers/harness.js';
import { settle } from '../helpers/sync.js';

const MTO = '/tenantRelationships/multiTenantOrganization';
const CTAP = '/policies/crossTenantAccessPolicy';

type Person = { given: string; surname: string; alias: string; home: 'A' | 'B' | 'C'; admin?: boolean };
const seed: Person[] = [
  { given: 'Annie', surname: 'Anderson', alias: 'annie', home: 'A', admin: true },
  { given: 'Bob', surname: 'Brown', alias: 'bob', home: 'B', admin: true },
  { given: 'Barbara', surname: 'Baker', alias: 'barbara', home: 'B' },
  { given: 'Charlie', surname: 'Clark', alias: 'charlie', home: 'C', admin: true },
];
type Seen = { displayName: string; userType: string; externalUserState: string | null };

for (const dialect of dialects()) {
  describe(`the seed's collaborating user set (${dialect})`, () => {
    let ts: TestServer;
    const tenants = {} as Record<'A' | 'B' | 'C', TestTenant>;
    const users = {} as Record<string, TestUser>;
    /** The Graph SDK as the tenant's home administrator (Annie, Bob, Charlie: Global Administrators), delegated. */
    const as = {} as Record<'A' | 'B' | 'C', Client>;
    const key = () => readFileSync(ts.server.operatorKeyPath, 'utf8').trim();
    const share = async (home: 'A' | 'B' | 'C', aliases: string[]) => {
      const r = await ts.request('PUT', `/operator/v1/tenants/${tenants[home].tenantId}/sharing`, {
        token: key(), body: { users: aliases.map((a) => users[a]!.userPrincipalName), groups: [] },
      });
      assert.equal(r.status, 200, r.text);
    };
    /** Everyone a tenant's home admin sees in its directory, by display name. */
    const directory = async (t: 'A' | 'B' | 'C') => {
      const page = await as[t].api('/users').select('displayName,userType,externalUserState').top(999).get();
      return new Map((page.value as Seen[]).map((u) => [u.displayName, u]));
    };

    before(async () => {
      ts = await startTestServer(dialect);
      for (const name of ['A', 'B', 'C'] as const) tenants[name] = await ts.tenant(`Tenant ${name}`);
      for (const p of seed) {
        const t = tenants[p.home];
        const upn = `${p.alias}@${t.domain}`;
        users[p.alias] = await ts.user(t.tenantId, {
          userPrincipalName: upn, mail: upn, mailNickname: p.alias, displayName: `${p.given} ${p.surname}`, givenName: p.given, surname: p.surname,
          ...(p.admin ? { roles: ['Global Administrator'] } : {}),
        });
      }
      for (const p of seed.filter((x) => x.admin)) as[p.home] = graphClient(ts, await ts.userToken(tenants[p.home].tenantId, users[p.alias]!));
    });
    after(() => ts?.close());

    test('step 1: Charlie was invited into A as a Guest before anything is shared', async () => {
      const inv = await as.A.api('/invitations').post({ invitedUserEmailAddress: users.charlie!.userPrincipalName, inviteRedirectUrl: 'https://myapps.microsoft.com' });
      assert.equal(inv.invitedUserType, 'Guest');
    });

    test('step 2: the organization of the three, formed as the Microsoft 365 admin center does, and every tenant shares its users', async () => {
      for (const t of ['A', 'B', 'C'] as const) {
        await as[t].api(`${CTAP}/templates/multiTenantOrganizationPartnerConfiguration`).patch({ automaticUserConsentSettings: { inboundAllowed: true, outboundAllowed: true } });
        await as[t].api(`${CTAP}/templates/multiTenantOrganizationIdentitySynchronization`).patch({ userSyncInbound: { isSyncAllowed: true } });
      }
      await as.A.api(MTO).put({ displayName: 'Contoso' });
      for (const t of ['B', 'C'] as const) {
        await as.A.api(`${MTO}/tenants`).post({ tenantId: tenants[t].tenantId, displayName: tenants[t].displayName });
        await as[t].api(`${MTO}/joinRequest`).patch({ addedByTenantId: tenants.A.tenantId });
      }
      for (const t of ['B', 'C'] as const) await eventually(async () => (await as[t].api(MTO).get()).state === 'active', `${t} joined`);
      await share('A', ['annie']);
      await share('B', ['bob', 'barbara']);
      await share('C', ['charlie']);
      await settle(ts);
    });

    test('step 3: all four people are represented in all three tenants, at home or as B2B members; Charlie stays a Guest in A', async () => {
      for (const t of ['A', 'B', 'C'] as const) {
        const seen = await directory(t);
        for (const p of seed) {
          const u = seen.get(`${p.given} ${p.surname}`);
          assert.ok(u, `${p.given} is in ${t}`);
          if (p.home === t) assert.deepEqual([u.userType, u.externalUserState], ['Member', null], `${p.given} at home in ${t}`);
          else if (p.alias === 'charlie' && t === 'A') assert.deepEqual([u.userType, u.externalUserState], ['Guest', 'Accepted'], 'an existing guest stays Guest (and is redeemed)');
          else assert.deepEqual([u.userType, u.externalUserState], ['Member', 'Accepted'], `${p.given} is a B2B member of ${t}`);
        }
        assert.equal(seen.size, 4, `nobody twice in ${t}`);
      }
    });

    /** Annie's people search in A, with her own delegated token (Graph's people API). */
    const annieFinds = async (query: string) => {
      const annie = graphClient(ts, await ts.userToken(tenants.A.tenantId, users.annie!));
      const page = await annie.api('/me/people').search(query).top(25).get();
      return (page.value as { displayName: string; personType: { subclass: string } }[]);
    };
    const readiness = async () => {
      const r = await ts.request('GET', `/operator/v1/organizations/${tenants.A.tenantId}/readiness`, { token: key() });
      assert.equal(r.status, 200, r.text);
      return r.body as { people: { id: string; displayName: string }[]; tenants: { tenantId: string; coverage: number }[]; cells: { personId: string; tenantId: string; state: string }[] };
    };
    const cell = (rep: Awaited<ReturnType<typeof readiness>>, name: string, t: 'A' | 'B' | 'C') =>
      rep.cells.find((c) => c.tenantId === tenants[t].tenantId && c.personId === rep.people.find((p) => p.displayName === name)?.id)?.state;

    test("step 3b: Annie's people search in A finds Bob, Barbara and Charlie; the readiness report explains Charlie's Guest in A", async () => {
      for (const [query, name] of [['Bob', 'Bob Brown'], ['Barbara', 'Barbara Baker'], ['Charlie', 'Charlie Clark']] as const) {
        const found = await annieFinds(query);
        assert.ok(found.some((p) => p.displayName === name), `Annie finds ${name}`);
      }
      const bob = (await annieFinds('Bob')).find((p) => p.displayName === 'Bob Brown')!;
      assert.equal(bob.personType.subclass, 'ExternalMember', 'a B2B member is marked apart from internal members');
      const rep = await readiness();
      assert.deepEqual(['A', 'B', 'C'].map((t) => cell(rep, 'Bob Brown', t as 'A')), ['b2bMember', 'home', 'b2bMember']);
      assert.equal(cell(rep, 'Charlie Clark', 'A'), 'b2bGuest');
      const why = await ts.request('GET', `/operator/v1/organizations/${tenants.A.tenantId}/readiness/explain?searcher=${encodeURIComponent(users.annie!.userPrincipalName)}&person=${encodeURIComponent(users.charlie!.userPrincipalName)}`, { token: key() });
      assert.equal(why.status, 200, why.text);
      assert.equal(why.body.state, 'b2bGuest');
      assert.match(why.body.reasons.join(' '), /Guest/);
      assert.match(why.body.reasons.join(' '), /userType/);
    });

    test('step 4: Barbara unshared → soft-deleted in A and C', async () => {
      await share('B', ['bob']);
      await settle(ts);
      for (const t of ['A', 'C'] as const) {
        const seen = await directory(t);
        assert.equal(seen.has('Barbara Baker'), false, `Barbara is gone from ${t}`);
        assert.ok(seen.has('Bob Brown'));
        const deleted = await as[t].api('/directory/deletedItems/microsoft.graph.user').get();
        assert.ok((deleted.value as { displayName: string }[]).some((u) => u.displayName === 'Barbara Baker'), `Barbara is in ${t}'s deleted items`);
      }
      assert.equal((await annieFinds('Barbara')).some((p) => p.displayName === 'Barbara Baker'), false, "Barbara is gone from Annie's search");
      const rep = await readiness();
      assert.equal(rep.people.some((p) => p.displayName === 'Barbara Baker'), false, 'Barbara left the collaborating user set');
    });

    test('step 5: with the Delete action off on B\'s MTO_Sync_ jobs, Barbara unshared stays', async () => {
      await share('B', ['bob', 'barbara']);
      await settle(ts);
      for (const t of ['A', 'C'] as const) assert.ok((await directory(t)).has('Barbara Baker'), `Barbara is back in ${t}`);
      const sps = (await as.B.api('/servicePrincipals').filter("startswith(displayName,'MTO_Sync_')").get()).value as { id: string }[];
      assert.equal(sps.length, 2);
      for (const sp of sps) {
        const [job] = (await as.B.api(`/servicePrincipals/${sp.id}/synchronization/jobs`).get()).value as { id: string }[];
        const path = `/servicePrincipals/${sp.id}/synchronization/jobs/${job!.id}/schema`;
        const schema = await as.B.api(path).get();
        delete schema['@odata.context'];
        schema.synchronizationRules[0].objectMappings.find((m: { sourceObjectName: string }) => m.sourceObjectName === 'User').flowTypes = 'Add, Update';
        await as.B.api(path).put(schema);
      }
      await settle(ts);
      await share('B', ['bob']);
      await settle(ts);
      for (const t of ['A', 'C'] as const) assert.ok((await directory(t)).has('Barbara Baker'), `Barbara stays in ${t}`);
    });
  });
}

describe('the demo of `npm start`', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'openmto-demo-'));
    cpSync(fixtureTls, join(dir, 'tls'), { recursive: true });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const start = () => startServer({ dataDir: dir, databaseUrl: join(dir, 'openmto.db'), port: 0, host: '127.0.0.1', http: false, demo: true });

  test("within seconds of the first start Annie's search in A finds Bob, Barbara and Charlie; a second start makes nothing again", async () => {
    const server = await start();
    let jobs: number;
    try {
      const began = Date.now();
      const demo = await ensureDemo(server.store, systemClock, dir);
      const a = demo.find((t) => t.name === 'Tenant A')!;
      const annie = a.users[0]!;
      const form = { grant_type: 'password', client_id: a.publicClientId, username: annie.userPrincipalName, password: annie.password, scope: 'https://graph.microsoft.com/.default' };
      const token = ((await (await fetch(`${server.url}/${a.tenantId}/oauth2/v2.0/token`, { method: 'POST', body: new URLSearchParams(form) })).json()) as { access_token: string }).access_token;
      const found = async (term: string) => {
        const r = await fetch(`${server.url}/v1.0/users?$search="displayName:${term}"&$select=displayName,userType`, { headers: { authorization: `Bearer ${token}`, ConsistencyLevel: 'eventual' } });
        return ((await r.json()) as { value: { displayName: string; userType: string }[] }).value;
      };
      await eventually(async () => (await found('bob')).length === 1 && (await found('barbara')).length === 1 && (await found('charlie')).length === 1, 'the demo converged', 5000);
      assert.ok(Date.now() - began < 6000);
      assert.deepEqual((await found('b')).map((u) => [u.displayName, u.userType]).sort(), [['Barbara Baker', 'Member'], ['Bob Brown', 'Member']]);
      jobs = (await Promise.all(demo.map((t) => syncRepo.jobsOfTenant(server.store.db, t.tenantId)))).flat().length;
      assert.equal(jobs, 6, 'one job per ordered pair');
    } finally {
      await server.close();
    }
    const again = await start();
    try {
      await ensureDemo(again.store, systemClock, dir);
      assert.equal((await tenantsRepo.list(again.store.db)).length, 3);
      const tenantIds = (await tenantsRepo.list(again.store.db)).map((t) => t.id);
      assert.equal((await Promise.all(tenantIds.map((t) => syncRepo.jobsOfTenant(again.store.db, t)))).flat().length, jobs);
    } finally {
      await again.close();
    }
  });
});
