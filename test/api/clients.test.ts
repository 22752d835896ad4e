// The real Microsoft client libraries against a running openmto: MSAL and azure-identity acquire
// tokens through OIDC discovery, the Graph SDK reads, writes and pages.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ClientSecretCredential, UsernamePasswordCredential } from '@azure/identity';
import { ConfidentialClientApplication, PublicClientApplication } from '@azure/msal-node';
import { Client } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';
import { dialects, graphClient, iterateAll, startTestServer, type TestServer, type TestTenant } from '../helpers/harness.js';

for (const dialect of dialects()) {
  describe(`Microsoft clients (${dialect})`, () => {
    let ts: TestServer;
    let a: TestTenant;
    before(async () => {
      ts = await startTestServer(dialect);
      a = await ts.tenant('Contoso');
    });
    after(() => ts.close());

    test('msal-node client credentials, by tenant id and by domain', async () => {
      for (const tenantRef of [a.tenantId, a.domain]) {
        const cca = new ConfidentialClientApplication({
          auth: {
            clientId: a.adminApp.clientId, clientSecret: a.adminApp.clientSecret,
            authority: `${ts.url}/${tenantRef}`, knownAuthorities: [`127.0.0.1:${ts.port}`],
          },
        });
        const r = await cca.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] });
        assert.ok(r?.accessToken);
        const me = await graphClient(ts, r.accessToken).api('/organization').get().catch((e) => e);
        assert.ok(me);
      }
    });

    test('msal-node rejects a wrong secret with invalid_client', async () => {
      const cca = new ConfidentialClientApplication({
        auth: { clientId: a.adminApp.clientId, clientSecret: 'wrong', authority: `${ts.url}/${a.tenantId}`, knownAuthorities: [`127.0.0.1:${ts.port}`] },
      });
      await assert.rejects(cca.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] }), (e: { errorCode?: string }) => {
        assert.equal(e.errorCode, 'invalid_client');
        return true;
      });
    });

    test('azure-identity + Graph SDK: create, read, update, page, delete', async () => {
      const credential = new ClientSecretCredential(a.tenantId, a.adminApp.clientId, a.adminApp.clientSecret, {
        authorityHost: ts.url, disableInstanceDiscovery: true,
      });
      const client = Client.initWithMiddleware({
        authProvider: new TokenCredentialAuthenticationProvider(credential, { scopes: ['https://graph.microsoft.com/.default'] }),
        baseUrl: `${ts.url}/`, defaultVersion: 'v1.0', customHosts: new Set(['127.0.0.1']),
      });
      const created = [];
      for (let i = 0; i < 7; i++) {
        created.push(await client.api('/users').post({
          accountEnabled: true, displayName: `Pat Person ${i}`, mailNickname: `pat${i}`, userPrincipalName: `pat${i}@${a.domain}`,
          passwordProfile: { password: 'Passw0rd!long' },
        }));
      }
      assert.equal(created[0].displayName, 'Pat Person 0');
      const got = await client.api(`/users/pat3@${a.domain}`).select('id,displayName,userType').get();
      assert.equal(got.id, created[3].id);
      assert.equal(got.userType, 'Member');
      await client.api(`/users/${created[3].id}`).patch({ jobTitle: 'Engineer' });
      assert.equal((await client.api(`/users/${created[3].id}`).select('jobTitle').get()).jobTitle, 'Engineer');
      const first = await client.api('/users').top(2).get();
      assert.ok(first['@odata.nextLink'].startsWith(ts.url));
      const all = await iterateAll(client, first);
      assert.equal(all.length, 7);
      await client.api(`/users/${created[0].id}`).delete();
      await assert.rejects(client.api(`/users/${created[0].id}`).get(), (e: { statusCode?: number; code?: string }) => {
        assert.equal(e.statusCode, 404);
        assert.equal(e.code, 'Request_ResourceNotFound');
        return true;
      });
    });

    test('delegated tokens: msal public client and azure-identity username/password', async () => {
      const user = await ts.user(a.tenantId, { displayName: 'Dana Delegate' });
      const pub = await ts.server.store.db.selectFrom('apps').select('client_id').where('tenant_id', '=', a.tenantId).where('public_client', '=', 1).executeTakeFirst();
      const clientId = pub?.client_id ?? (await (await import('../../src/identity/tenants.js')).createApp(ts.server.store, ts.clock, a.tenantId, { name: 'pub', permissions: [], publicClient: true })).clientId;
      const pca = new PublicClientApplication({ auth: { clientId, authority: `${ts.url}/${a.tenantId}`, knownAuthorities: [`127.0.0.1:${ts.port}`] } });
      const r = await pca.acquireTokenByUsernamePassword({ scopes: ['User.Read'], username: user.userPrincipalName, password: user.password });
      assert.ok(r?.accessToken);
      const me = await graphClient(ts, r.accessToken).api('/me').get();
      assert.equal(me.displayName, 'Dana Delegate');
      const cred = new UsernamePasswordCredential(a.tenantId, clientId, user.userPrincipalName, user.password, { authorityHost: ts.url, disableInstanceDiscovery: true });
      const t = await cred.getToken('https://graph.microsoft.com/.default');
      assert.ok(t.token);
    });
  });
}
