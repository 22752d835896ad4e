// The Kiota-generated Graph SDK (@microsoft/msgraph-sdk, the users package) against a real HTTPS
// openmto: azure-identity acquires the token (with Kiota's continuous-access-evaluation claims), the
// client lists with $select/$top, pages with PageIterator, reads by id and UPN, creates and updates,
// surfaces a 404 as an ODataError, and posts an invitation through the adapter's raw request.
import '@microsoft/msgraph-sdk-users';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ClientSecretCredential } from '@azure/identity';
import { HttpMethod, RequestInformation } from '@microsoft/kiota-abstractions';
import { AzureIdentityAuthenticationProvider } from '@microsoft/kiota-authentication-azure';
import { createGraphServiceClient, GraphRequestAdapter, type GraphServiceClient } from '@microsoft/msgraph-sdk';
import {
  createInvitationFromDiscriminatorValue, createUserCollectionResponseFromDiscriminatorValue, type Invitation, serializeInvitation, type User,
} from '@microsoft/msgraph-sdk/models/index.js';
import { createODataErrorFromDiscriminatorValue, type ODataError } from '@microsoft/msgraph-sdk/models/oDataErrors/index.js';
import { version as sdkVersion } from '@microsoft/msgraph-sdk/version.js';
import { createGraphClientFactory, PageIterator } from '@microsoft/msgraph-sdk-core';
import { dialects, startTestServer, type TestServer, type TestTenant } from '../helpers/harness.js';

const errorMappings = { XXX: createODataErrorFromDiscriminatorValue };

for (const dialect of dialects()) {
  describe(`Kiota Graph SDK (${dialect})`, () => {
    let ts: TestServer;
    let a: TestTenant;
    let adapter: GraphRequestAdapter;
    let client: GraphServiceClient;
    const seen: { method: string; url: string; headers: Record<string, unknown> }[] = [];

    before(async () => {
      ts = await startTestServer(dialect);
      a = await ts.tenant('Contoso');
      for (let i = 0; i < 7; i++) await ts.user(a.tenantId, { displayName: `Kiota Person ${i}`, jobTitle: 'Tester' });
      const credential = new ClientSecretCredential(a.tenantId, a.adminApp.clientId, a.adminApp.clientSecret, {
        authorityHost: ts.url, disableInstanceDiscovery: true,
      });
      // allowedHosts are host names without ports; with none, no token is sent to a non-Microsoft host.
      const auth = new AzureIdentityAuthenticationProvider(credential, ['https://graph.microsoft.com/.default'], undefined, new Set(['127.0.0.1']));
      // The SDK's own HTTP client (its middleware and telemetry headers), with a fetch that records what the server is sent.
      const record = (url: string, init: RequestInit) => {
        const u = new URL(url);
        seen.push({ method: String(init.method), url: `${u.pathname}${u.search}`, headers: Object.fromEntries(new Headers(init.headers).entries()) });
        return fetch(url, init);
      };
      const http = createGraphClientFactory({ graphServiceTargetVersion: '', graphServiceLibraryClientVersion: sdkVersion }, record);
      adapter = new GraphRequestAdapter(auth, undefined, undefined, http);
      adapter.baseUrl = `${ts.url}/v1.0`;
      client = createGraphServiceClient(adapter);
    });
    after(() => ts.close());

    test('lists with $select and $top, and PageIterator pages through every user', async () => {
      const first = await client.users.get({ queryParameters: { select: ['id', 'displayName', 'jobTitle'], top: 3 } });
      assert.equal(first?.value?.length, 3);
      assert.ok(first?.odataNextLink?.startsWith(ts.url), String(first?.odataNextLink));
      assert.equal(first?.value?.[0]?.jobTitle, 'Tester');
      // $select is honoured: a property not asked for is absent, not null-filled.
      assert.equal(first?.value?.[0]?.userPrincipalName, undefined);
      const listCall = seen.find((r) => r.url.startsWith('/v1.0/users?'));
      assert.match(String(listCall?.url), /\$select=id,displayName,jobTitle/);
      assert.match(String(listCall?.headers.sdkversion), /graph-typescript/);
      assert.match(String(listCall?.headers.authorization), /^Bearer /);

      const names: string[] = [];
      const it = new PageIterator<User>(adapter, first as never, (u) => {
        names.push(u.displayName ?? '');
        return true;
      }, createUserCollectionResponseFromDiscriminatorValue as never, errorMappings);
      await it.iterate();
      assert.equal(it.getPagingState(), 'Complete');
      assert.deepEqual(names.filter((x) => x.startsWith('Kiota Person')).sort(), Array.from({ length: 7 }, (_, i) => `Kiota Person ${i}`));
      assert.equal(names.length, 7);
      assert.ok(seen.filter((r) => r.url.includes('$skiptoken=')).length >= 2, 'followed nextLinks');
    });

    test('gets a user by id and by UPN (percent-encoded @), creates and updates one', async () => {
      const created = await client.users.post({
        accountEnabled: true, displayName: 'Kai Kiota', mailNickname: 'kai', userPrincipalName: `kai@${a.domain}`,
        passwordProfile: { password: 'Passw0rd!long', forceChangePasswordNextSignIn: false },
      });
      assert.ok(created?.id);
      assert.equal(created?.userType, 'Member');
      const byUpn = await client.users.byUserId(`kai@${a.domain}`).get({ queryParameters: { select: ['id', 'displayName', 'createdDateTime'] } });
      assert.equal(byUpn?.id, created?.id);
      assert.ok(byUpn?.createdDateTime instanceof Date);
      assert.ok(seen.some((r) => r.url.startsWith(`/v1.0/users/kai%40${a.domain}`)), 'Kiota encodes the @');
      await client.users.byUserId(created!.id!).patch({ jobTitle: 'Pilot', department: 'Air', businessPhones: ['+1 555 0100'] });
      const byId = await client.users.byUserId(created!.id!).get();
      assert.equal(byId?.jobTitle, 'Pilot');
      assert.deepEqual(byId?.businessPhones, ['+1 555 0100']);
      assert.equal(byId?.userPrincipalName, `kai@${a.domain}`);
    });

    test('advanced queries ($count, $search, /$count), delta rounds, memberOf and delete', async () => {
      const eventual = { ConsistencyLevel: 'eventual' };
      const found = await client.users.get({ queryParameters: { search: '"displayName:kiota person"', count: true, select: ['displayName'] }, headers: eventual });
      assert.equal(found?.odataCount, 7);
      assert.equal(found?.value?.length, 7);
      const starts = await client.users.get({ queryParameters: { filter: "startsWith(displayName,'Kiota Person 1')" } });
      assert.deepEqual(starts?.value?.map((u) => u.displayName), ['Kiota Person 1']);
      const n = await client.users.count.get({ headers: eventual });
      assert.equal(typeof n, 'number');
      assert.ok((n ?? 0) >= 7);

      let round = await client.users.delta.get({ queryParameters: { select: ['displayName', 'jobTitle'] } });
      let pages = 1;
      while (round?.odataNextLink) {
        round = await client.users.delta.withUrl(round.odataNextLink).get();
        pages++;
      }
      const deltaLink = round?.odataDeltaLink;
      assert.ok(typeof deltaLink === 'string' && deltaLink.startsWith(ts.url), 'a delta round ends with a deltaLink');
      const victim = (await client.users.get({ queryParameters: { filter: "displayName eq 'Kiota Person 6'" } }))?.value?.[0];
      assert.ok(victim?.id);
      await client.users.byUserId(victim.id).patch({ jobTitle: 'Changed' });
      const changes = await client.users.delta.withUrl(deltaLink).get();
      assert.deepEqual(changes?.value?.map((u) => [u.id, u.jobTitle]), [[victim.id, 'Changed']]);
      assert.ok(pages >= 1);

      const memberOf = await client.users.byUserId(victim.id).memberOf.get();
      assert.deepEqual(memberOf?.value, []);
      await client.users.byUserId(victim.id).delete();
      await assert.rejects(client.users.byUserId(victim.id).get(), (e: ODataError) => e.responseStatusCode === 404);
    });

    test('a 404 is an ODataError with Graph code and status', async () => {
      await assert.rejects(client.users.byUserId('3f2504e0-4f89-41d3-9a0c-0305e82c3301').get(), (e: ODataError) => {
        assert.equal(e.responseStatusCode, 404);
        assert.equal(e.errorEscaped?.code, 'Request_ResourceNotFound');
        assert.match(String(e.errorEscaped?.message), /does not exist/);
        return true;
      });
      await assert.rejects(client.users.get({ queryParameters: { filter: "nope eq 'x'" } }), (e: ODataError) => {
        assert.equal(e.responseStatusCode, 400);
        assert.ok(e.errorEscaped?.code);
        return true;
      });
    });

    test('invitations through the adapter: a serialized invitation posts and deserializes', async () => {
      const request = new RequestInformation(HttpMethod.POST, '{+baseurl}/invitations');
      request.pathParameters.baseurl = adapter.baseUrl;
      request.headers.tryAdd('Accept', 'application/json');
      const body: Invitation = { invitedUserEmailAddress: 'kiota.guest@outside.example.org', inviteRedirectUrl: 'https://example.net/', sendInvitationMessage: false };
      request.setContentFromParsable(adapter, 'application/json', body, serializeInvitation);
      const invitation = await adapter.send<Invitation>(request, createInvitationFromDiscriminatorValue, errorMappings);
      assert.equal(invitation?.invitedUserEmailAddress, 'kiota.guest@outside.example.org');
      assert.equal(invitation?.invitedUserType, 'Guest');
      assert.ok(invitation?.invitedUser?.id);
      assert.ok(invitation?.inviteRedeemUrl?.startsWith('https://'));
      const guest = await client.users.byUserId(invitation!.invitedUser!.id!).get({ queryParameters: { select: ['userType', 'externalUserState'] } });
      assert.equal(guest?.userType, 'Guest');
      assert.equal(guest?.externalUserState, 'PendingAcceptance');
      // A bad invitation surfaces as an ODataError too.
      const bad = new RequestInformation(HttpMethod.POST, '{+baseurl}/invitations');
      bad.pathParameters.baseurl = adapter.baseUrl;
      bad.setContentFromParsable(adapter, 'application/json', { inviteRedirectUrl: 'https://example.net/' } as Invitation, serializeInvitation);
      await assert.rejects(adapter.send<Invitation>(bad, createInvitationFromDiscriminatorValue, errorMappings), (e: ODataError) => e.responseStatusCode === 400);
    });
  });
}
