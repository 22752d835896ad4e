// POST /invitations through the Graph SDK: the B2B user it creates, dedupe, validation, who may invite,
// the partner policy, atomicity (a trigger that aborts mid-transaction), reset redemption, automatic
// redemption, userType conversion and the B2B password grant in the resource tenant.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@microsoft/microsoft-graph-client';
import { sql } from 'kysely';
import { b2bMailNickname, b2bUserPrincipalName, validateInviteEmail } from '../../src/b2b/email.js';
import { invitationKind } from '../../src/b2b/redemption.js';
import { setInMultiTenantOrganization } from '../../src/policy/partners.js';
import { changesRepo } from '../../src/store/repos/changes.js';
import { usersRepo } from '../../src/store/repos/users.js';
import { dialects, graphClient, startTestServer, type TestServer, type TestTenant, type TestUser } from '../helpers/harness.js';
import { tenantKeyOf } from '../../src/store/repos/tenantKeys.js';

const REDIRECT = 'https://apps.example.net/welcome';
const CTAP = '/policies/crossTenantAccessPolicy';

/** Asserts that an SDK call fails with this status and code; returns the error message. */
async function fails(p: Promise<unknown>, status: number, code: string): Promise<string> {
  let message = '';
  await assert.rejects(p, (e: { statusCode?: number; code?: string; message?: string }) => {
    assert.equal(e.statusCode, status, e.message);
    assert.equal(e.code, code);
    message = e.message ?? '';
    return true;
  });
  return message;
}

for (const dialect of dialects()) {
  describe(`invitations (${dialect})`, () => {
    let ts: TestServer;
    let a: TestTenant; // home tenant of Annie and Bob
    let b: TestTenant; // resource tenant
    let annie: TestUser;
    let bob: TestUser;
    let gb: Client;
    const invite = (body: Record<string, unknown>, client = gb) => client.api('/invitations').post({ inviteRedirectUrl: REDIRECT, ...body });
    const patchAuthz = (allowInvitesFrom: string) =>
      gb.api('/policies/authorizationPolicy').patch({ allowInvitesFrom });
    const annieMail = () => annie.userPrincipalName;

    before(async () => {
      ts = await startTestServer(dialect);
      a = await ts.tenant('Contoso');
      b = await ts.tenant('Fabrikam');
      annie = await ts.user(a.tenantId, { displayName: 'Annie Anders' });
      bob = await ts.user(a.tenantId, { displayName: 'Bob Brown' });
      gb = graphClient(ts, b.adminToken);
    });
    after(() => ts.close());

    test('creates a pending B2B guest in the caller tenant with a redeem URL on this server', async () => {
      const before = await changesRepo.head(ts.server.store.db, b.tenantId);
      const raw = await ts.request('POST', '/v1.0/invitations', {
        token: b.adminToken, body: { invitedUserEmailAddress: annieMail(), inviteRedirectUrl: REDIRECT, invitedUserMessageInfo: { messageLanguage: 'fr-FR' } },
      });
      assert.equal(raw.status, 201);
      const inv = raw.body;
      assert.match(inv['@odata.context'], /\$metadata#invitations\/\$entity$/);
      assert.equal(inv.status, 'PendingAcceptance');
      assert.equal(inv.invitedUserType, 'Guest');
      assert.equal(inv.sendInvitationMessage, false);
      assert.equal(inv.resetRedemption, false);
      assert.equal(inv.invitedUserEmailAddress, annieMail());
      assert.deepEqual(inv.invitedUserMessageInfo, { ccRecipients: [], customizedMessageBody: null, messageLanguage: 'fr-FR' });
      const url = new URL(inv.inviteRedeemUrl);
      assert.equal(url.origin, ts.url);
      assert.equal(url.pathname, '/redeem');
      assert.equal(url.searchParams.get('tenant'), b.tenantId);
      assert.equal(url.searchParams.get('user'), inv.invitedUser.id);
      const ticket = url.searchParams.get('ticket')!;
      assert.ok(ticket.length >= 40);
      // The ticket is stored only hashed.
      const docs = await ts.server.store.db.selectFrom('tenant_documents').select('data').where('tenant_id', '=', b.tenantId).execute();
      assert.ok(docs.length > 0 && docs.every((d) => !d.data.includes(ticket)));

      const u = await gb.api(`/users/${inv.invitedUser.id}`)
        .select('userPrincipalName,mailNickname,mail,otherMails,proxyAddresses,identities,creationType,externalUserState,externalUserStateChangeDateTime,userType,accountEnabled,showInAddressList,displayName')
        .get();
      const alias = annieMail().replace('@', '_');
      assert.equal(u.userPrincipalName, `${alias}#EXT#@${b.domain}`);
      assert.equal(u.mailNickname, `${alias}#EXT#`);
      assert.equal(u.mail, annieMail());
      assert.deepEqual(u.otherMails, [annieMail()]);
      assert.deepEqual(u.proxyAddresses, [`SMTP:${annieMail()}`]);
      assert.deepEqual(u.identities, [{ signInType: 'userPrincipalName', issuer: b.domain, issuerAssignedId: u.userPrincipalName }]);
      assert.equal(u.creationType, 'Invitation');
      assert.equal(u.externalUserState, 'PendingAcceptance');
      assert.ok(u.externalUserStateChangeDateTime);
      assert.equal(u.userType, 'Guest');
      assert.equal(u.accountEnabled, true);
      assert.equal(u.showInAddressList, false);
      assert.equal(u.displayName, annieMail().split('@')[0]);
      const log = await changesRepo.since(ts.server.store.db, b.tenantId, 'user', before, before + 100, 10);
      assert.deepEqual(log.map((c) => [c.object_id, c.change]), [[inv.invitedUser.id, 'created']]);
    });

    test('re-inviting any form of an address a user holds returns that user, no duplicate', async () => {
      const first = await invite({ invitedUserEmailAddress: annieMail() });
      const again = await invite({ invitedUserEmailAddress: annieMail().toUpperCase(), invitedUserType: 'Member' });
      assert.equal(again.invitedUser.id, first.invitedUser.id);
      assert.equal(again.invitedUserType, 'Guest', 'an existing user keeps its type');
      assert.notEqual(again.inviteRedeemUrl, first.inviteRedeemUrl, 'a fresh ticket replaces the old one');
      const n = await ts.server.store.db.selectFrom('users').select('id')
        .where('tenant_no', '=', tenantKeyOf(b.tenantId)).where('mail_lc', '=', annieMail().toLowerCase()).execute();
      assert.equal(n.length, 1);
      // An internal user holding the address in otherMails (or as UPN) is returned, status Completed.
      const carol = await ts.user(b.tenantId, { otherMails: ['carol.private@mail.example.org'] });
      for (const email of ['Carol.Private@mail.example.org', carol.userPrincipalName]) {
        const inv = await invite({ invitedUserEmailAddress: email });
        assert.equal(inv.invitedUser.id, carol.id);
        assert.equal(inv.status, 'Completed');
      }
    });

    test('Member invitations, addresses of tenants not hosted here, display names', async () => {
      const inv = await invite({ invitedUserEmailAddress: 'max.muster@partner.example.com', invitedUserType: 'Member', invitedUserDisplayName: 'Max Muster' });
      assert.equal(inv.status, 'PendingAcceptance');
      assert.equal(inv.invitedUserType, 'Member');
      const u = await gb.api(`/users/${inv.invitedUser.id}`).select('userType,showInAddressList,displayName,userPrincipalName').get();
      assert.deepEqual([u.userType, u.showInAddressList, u.displayName], ['Member', true, 'Max Muster']);
      assert.equal(u.userPrincipalName, `max.muster_partner.example.com#EXT#@${b.domain}`);
    });

    test('invalid input is a 400 Request_BadRequest', async () => {
      for (const email of ['a#b@example.com', '.dot@example.com', 'dash-@example.com', 'x@example', 'no-at.example.com', 'a@-x.example.com',
        'two@@example.com', 'sp ace@example.com', 'paren(s)@example.com', 'a,b@example.com']) {
        const m = await fails(invite({ invitedUserEmailAddress: email }), 400, 'Request_BadRequest');
        assert.match(m, /invited user email address .* is not valid/);
      }
      await fails(gb.api('/invitations').post({ invitedUserEmailAddress: 'ok@example.com' }), 400, 'Request_BadRequest');
      for (const inviteRedirectUrl of ['/relative', 'javascript:alert(1)', 'not a url']) {
        await fails(invite({ invitedUserEmailAddress: 'ok@example.com', inviteRedirectUrl }), 400, 'Request_BadRequest');
      }
      const cc = (address: string) => ({ emailAddress: { address } });
      await fails(invite({ invitedUserEmailAddress: 'ok@example.com', invitedUserMessageInfo: { ccRecipients: [cc('a@x.com'), cc('b@x.com')] } }), 400, 'Request_BadRequest');
      await fails(invite({ invitedUserEmailAddress: 'ok@example.com', invitedUserType: 'Owner' }), 400, 'Request_BadRequest');
      await fails(invite({ invitedUserEmailAddress: 'ok@example.com', surprise: 1 }), 400, 'Request_BadRequest');
      await fails(invite({ invitedUserEmailAddress: 'ok@example.com', resetRedemption: true }), 400, 'Request_BadRequest');
      const own = await fails(invite({ invitedUserEmailAddress: `nobody@${b.domain}` }), 400, 'Request_BadRequest');
      assert.match(own, /domain of this tenant/);
      const none = await ts.server.store.db.selectFrom('users').select('id').where('tenant_no', '=', tenantKeyOf(b.tenantId)).where('mail_lc', '=', 'ok@example.com').execute();
      assert.equal(none.length, 0);
    });

    test('who may invite follows the permission and allowInvitesFrom', async () => {
      const noPerm = graphClient(ts, await ts.appToken(b.tenantId, ['User.Read.All']));
      await fails(invite({ invitedUserEmailAddress: 'p1@example.com' }, noPerm), 403, 'Authorization_RequestDenied');
      for (const perm of ['User.Invite.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All']) {
        const app = graphClient(ts, await ts.appToken(b.tenantId, [perm]));
        assert.equal((await invite({ invitedUserEmailAddress: `p-${perm}@example.com` }, app)).status, 'PendingAcceptance');
      }
      const inviterApp = graphClient(ts, await ts.appToken(b.tenantId, ['User.Invite.All']));
      const member = graphClient(ts, await ts.userToken(b.tenantId, await ts.user(b.tenantId)));
      const guestInviter = graphClient(ts, await ts.userToken(b.tenantId, await ts.user(b.tenantId, { roles: ['Guest Inviter'] })));
      const admin = graphClient(ts, await ts.userToken(b.tenantId, await ts.user(b.tenantId, { roles: ['User Administrator'] })));
      const guest = graphClient(ts, await ts.userToken(b.tenantId, await ts.user(b.tenantId, { userType: 'Guest' })));
      const expect: Record<string, Record<string, boolean>> = {
        none: { inviterApp: false, admin: false, guestInviter: false, member: false, guest: false },
        adminsAndGuestInviters: { inviterApp: false, admin: true, guestInviter: true, member: false, guest: false },
        adminsGuestInvitersAndAllMembers: { inviterApp: true, admin: true, guestInviter: true, member: true, guest: false },
        everyone: { inviterApp: true, admin: true, guestInviter: true, member: true, guest: true },
      };
      const callers: Record<string, Client> = { inviterApp, admin, guestInviter, member, guest };
      let n = 0;
      for (const [setting, row] of Object.entries(expect)) {
        await patchAuthz(setting);
        for (const [who, allowed] of Object.entries(row)) {
          const call = invite({ invitedUserEmailAddress: `w${n++}@example.com` }, callers[who]);
          if (allowed) assert.equal((await call).status, 'PendingAcceptance', `${setting}/${who}`);
          else assert.match(await fails(call, 403, 'Authorization_RequestDenied'), /allowInvitesFrom|not allowed for your company/, `${setting}/${who}`);
        }
      }
      await fails(invite({ invitedUserEmailAddress: 'm@example.com', invitedUserType: 'Member' }, guestInviter), 403, 'Authorization_RequestDenied');
      assert.equal((await invite({ invitedUserEmailAddress: 'm@example.com', invitedUserType: 'Member' }, admin)).invitedUserType, 'Member');
    });

    test('the partner policy b2bCollaborationInbound can block a home tenant, or let only some of its users in', async () => {
      await gb.api(`${CTAP}/partners`).post({ tenantId: a.tenantId, b2bCollaborationInbound: {
        usersAndGroups: { accessType: 'blocked', targets: [{ target: 'AllUsers', targetType: 'user' }] },
        applications: { accessType: 'allowed', targets: [{ target: 'AllApplications', targetType: 'application' }] },
      } });
      const m = await fails(invite({ invitedUserEmailAddress: bob.userPrincipalName }), 403, 'Authorization_RequestDenied');
      assert.match(m, /b2bCollaborationInbound/);
      assert.ok(m.includes(a.tenantId));
      await gb.api(`${CTAP}/partners/${a.tenantId}`).patch({ b2bCollaborationInbound: {
        usersAndGroups: { accessType: 'allowed', targets: [{ target: annie.id, targetType: 'user' }] },
        applications: { accessType: 'allowed', targets: [{ target: 'AllApplications', targetType: 'application' }] },
      } });
      await fails(invite({ invitedUserEmailAddress: bob.userPrincipalName }), 403, 'Authorization_RequestDenied');
      assert.ok((await invite({ invitedUserEmailAddress: annieMail() })).invitedUser.id);
      await gb.api(`${CTAP}/partners/${a.tenantId}`).patch({ b2bCollaborationInbound: null });
      // Addresses of tenants not hosted here fall under the default policy.
      const blockAll = { usersAndGroups: { accessType: 'blocked', targets: [{ target: 'AllUsers', targetType: 'user' }] },
        applications: { accessType: 'blocked', targets: [{ target: 'AllApplications', targetType: 'application' }] } };
      await gb.api(`${CTAP}/default`).patch({ b2bCollaborationInbound: blockAll });
      assert.match(await fails(invite({ invitedUserEmailAddress: 'someone@elsewhere.example' }), 403, 'Authorization_RequestDenied'), /default configuration/);
      await gb.api(`${CTAP}/default/resetToDefaultSettings`).post({});
      assert.equal((await invite({ invitedUserEmailAddress: bob.userPrincipalName })).status, 'PendingAcceptance');
    });

    test('a failure in the middle of the transaction leaves no user and no change log entry', async () => {
      const db = ts.server.store.db;
      if (dialect === 'sqlite') {
        await sql.raw(`CREATE TRIGGER refuse_invitation BEFORE INSERT ON tenant_documents WHEN NEW.kind = '${invitationKind}'
          BEGIN SELECT RAISE(ABORT, 'test: invitation record refused'); END`).execute(db);
      } else {
        await sql.raw(`CREATE FUNCTION refuse_invitation() RETURNS trigger AS $$ BEGIN
          IF NEW.kind = '${invitationKind}' THEN RAISE EXCEPTION 'test: invitation record refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`).execute(db);
        await sql.raw('CREATE TRIGGER refuse_invitation BEFORE INSERT ON tenant_documents FOR EACH ROW EXECUTE FUNCTION refuse_invitation()').execute(db);
      }
      try {
        const head = await changesRepo.head(db, b.tenantId);
        const email = 'atomic@example.com';
        const res = await ts.request('POST', '/v1.0/invitations', { token: b.adminToken, body: { invitedUserEmailAddress: email, inviteRedirectUrl: REDIRECT } });
        assert.equal(res.status, 500);
        const rows = await db.selectFrom('users').select('id').where('tenant_no', '=', tenantKeyOf(b.tenantId)).where('mail_lc', '=', email).execute();
        assert.equal(rows.length, 0, 'no orphan user');
        const values = await db.selectFrom('user_values').select('user_id').where('tenant_no', '=', tenantKeyOf(b.tenantId)).where('v1', '=', email).execute();
        assert.equal(values.length, 0);
        assert.equal(await changesRepo.head(db, b.tenantId), head);
      } finally {
        await sql.raw('DROP TRIGGER refuse_invitation' + (dialect === 'postgres' ? ' ON tenant_documents' : '')).execute(db);
        if (dialect === 'postgres') await sql.raw('DROP FUNCTION refuse_invitation()').execute(db);
      }
    });

    test('automatic redemption, the B2B password grant, reset redemption and the MTO refusal', async () => {
      const ga = graphClient(ts, a.adminToken);
      const dave = await ts.user(a.tenantId, { displayName: 'Dave Doe' });
      await ga.api(`${CTAP}/partners`).post({ tenantId: b.tenantId, automaticUserConsentSettings: { outboundAllowed: true } });
      await gb.api(`${CTAP}/partners/${a.tenantId}`).patch({ automaticUserConsentSettings: { inboundAllowed: true } });
      const inv = await invite({ invitedUserEmailAddress: dave.userPrincipalName, invitedUserType: 'Member' });
      assert.equal(inv.status, 'Completed');
      const rec = (await usersRepo.get(ts.server.store.db, b.tenantId, inv.invitedUser.id))!;
      assert.equal(rec.user.externalUserState, 'Accepted');
      assert.deepEqual(rec.user.identities, [{ signInType: 'federated', issuer: 'ExternalAzureAD', issuerAssignedId: null }]);
      assert.deepEqual([rec.homeTenantId, rec.homeUserId], [a.tenantId, dave.id]);
      const open = await fetch(inv.inviteRedeemUrl, { redirect: 'manual' });
      assert.equal(open.status, 302);
      assert.equal(open.headers.get('location'), REDIRECT);

      // Dave signs in to B with his home password, by his home address or by his B2B UPN.
      for (const username of [dave.userPrincipalName, rec.user.userPrincipalName]) {
        const token = await ts.userToken(b.tenantId, { ...dave, userPrincipalName: username });
        const me = await graphClient(ts, token).api('/me').select('id,userPrincipalName').get();
        assert.equal(me.id, inv.invitedUser.id);
      }
      await assert.rejects(ts.userToken(b.tenantId, { ...dave, password: 'wrong-Passw0rd' }), /invalid username or password/);

      // Reset keeps object id, UPN and groups; the home link is cleared until the next redemption.
      const group = await gb.api('/groups').post({ displayName: 'Partners', mailEnabled: false, mailNickname: 'partners', securityEnabled: true });
      await gb.api(`/groups/${group.id}/members/$ref`).post({ '@odata.id': `${ts.url}/v1.0/directoryObjects/${inv.invitedUser.id}` });
      await gb.api(`${CTAP}/partners/${a.tenantId}`).patch({ automaticUserConsentSettings: { inboundAllowed: false } });
      const reset = await invite({ invitedUserEmailAddress: dave.userPrincipalName, resetRedemption: true, invitedUser: { id: inv.invitedUser.id } });
      assert.deepEqual([reset.status, reset.resetRedemption, reset.invitedUser.id], ['PendingAcceptance', true, inv.invitedUser.id]);
      const after = (await usersRepo.get(ts.server.store.db, b.tenantId, inv.invitedUser.id))!;
      assert.equal(after.user.userPrincipalName, rec.user.userPrincipalName);
      assert.equal(after.user.externalUserState, 'PendingAcceptance');
      assert.deepEqual([after.homeTenantId, after.homeUserId], [null, null]);
      const memberOf = await gb.api(`/users/${inv.invitedUser.id}/memberOf`).get();
      assert.deepEqual(memberOf.value.map((g: { id: string }) => g.id), [group.id]);
      await assert.rejects(ts.userToken(b.tenantId, dave), /invalid username or password/, 'a pending user cannot sign in');

      await fails(invite({ invitedUserEmailAddress: 'other@example.com', resetRedemption: true, invitedUser: { id: inv.invitedUser.id } }), 400, 'Request_BadRequest');
      await fails(invite({ invitedUserEmailAddress: dave.userPrincipalName, resetRedemption: true, invitedUser: { id: bob.id } }), 404, 'Request_ResourceNotFound');
      const internal = await ts.user(b.tenantId, { mail: 'int@example.com' });
      await fails(invite({ invitedUserEmailAddress: 'int@example.com', resetRedemption: true, invitedUser: { id: internal.id } }), 400, 'Request_BadRequest');

      // Redeemed again (automatically), then the tenants join one MTO: reset is refused.
      await gb.api(`${CTAP}/partners/${a.tenantId}`).patch({ automaticUserConsentSettings: { inboundAllowed: true } });
      assert.equal((await invite({ invitedUserEmailAddress: dave.userPrincipalName })).status, 'Completed');
      await ts.server.store.transaction((db) => setInMultiTenantOrganization(db, b.tenantId, a.tenantId, true, new Date().toISOString()));
      const m = await fails(invite({ invitedUserEmailAddress: dave.userPrincipalName, resetRedemption: true, invitedUser: { id: inv.invitedUser.id } }), 400, 'Request_BadRequest');
      assert.match(m, /multi-tenant organization/);
      await ts.server.store.transaction((db) => setInMultiTenantOrganization(db, b.tenantId, a.tenantId, false, new Date().toISOString()));
      await gb.api(`${CTAP}/partners/${a.tenantId}`).patch({ automaticUserConsentSettings: { inboundAllowed: null } });
    });

    test('userType conversion keeps a B2B user distinguishable and moves it in or out of the address list', async () => {
      const inv = await invite({ invitedUserEmailAddress: 'eve@conv.example.com' });
      const props = 'userType,creationType,identities,externalUserState,showInAddressList,mail';
      const before = await gb.api(`/users/${inv.invitedUser.id}`).select(props).get();
      await gb.api(`/users/${inv.invitedUser.id}`).patch({ userType: 'Member' });
      const member = await gb.api(`/users/${inv.invitedUser.id}`).select(props).get();
      assert.deepEqual(member, { ...before, userType: 'Member', showInAddressList: true });
      await gb.api(`/users/${inv.invitedUser.id}`).patch({ userType: 'Guest' });
      assert.equal((await gb.api(`/users/${inv.invitedUser.id}`).select(props).get()).showInAddressList, false);
      // A value given with the conversion wins.
      await gb.api(`/users/${inv.invitedUser.id}`).patch({ userType: 'Member', showInAddressList: false });
      const explicit = await gb.api(`/users/${inv.invitedUser.id}`).select(props).get();
      assert.deepEqual([explicit.userType, explicit.showInAddressList, explicit.creationType], ['Member', false, 'Invitation']);
      // Internal users are untouched by the rule.
      const internal = await ts.user(b.tenantId);
      await gb.api(`/users/${internal.id}`).patch({ userType: 'Guest' });
      assert.equal((await gb.api(`/users/${internal.id}`).select('showInAddressList').get()).showInAddressList, null);
    });
  });
}

// The CLI opens the store itself; one SQLite data directory is enough here, since the use case it
// calls is the one the API tests above run on both dialects.
describe('openmto invite', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'openmto-invite-'));
  const root = new URL('../..', import.meta.url).pathname;
  const env = { ...process.env };
  delete env.OPENMTO_DATABASE_URL;
  const cli = (...args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['bin/openmto.mjs', ...args, '--data', dataDir], { cwd: root, env, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test('invites, re-invites without a duplicate, resets, and refuses bad input with exit status 1', async () => {
    assert.equal((await cli('tenant', 'create', '--name', 'Fabrikam', '--domain', 'fabrikam.example')).code, 0);
    const first = await cli('invite', '--tenant', 'fabrikam.example', '--email', 'ann@partner.example', '--type', 'Member', '--json', '--origin', 'https://ids.example.net');
    assert.equal(first.code, 0, first.stderr);
    const inv = JSON.parse(first.stdout);
    assert.deepEqual([inv.status, inv.invitedUserType], ['PendingAcceptance', 'Member']);
    assert.ok(inv.inviteRedeemUrl.startsWith('https://ids.example.net/redeem?'));
    assert.equal(inv.inviteRedirectUrl, 'https://ids.example.net/redeem/welcome');
    const again = JSON.parse((await cli('invite', '--tenant', 'fabrikam.example', '--email', 'ANN@partner.example', '--json')).stdout);
    assert.equal(again.invitedUser.id, inv.invitedUser.id);
    const reset = await cli('invite', 'reset', '--tenant', 'fabrikam.example', '--user', inv.invitedUser.id);
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout, /PendingAcceptance\)\nredeem URL: https:\/\/localhost:\d+\/redeem\?/);
    const bad = await cli('invite', '--tenant', 'fabrikam.example', '--email', 'a!b@partner.example');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Request_BadRequest: .*'!' is not allowed/);
  });
});

test('B2B names: @ becomes _, unsafe characters become _, long addresses are cut to 64 with the marker', () => {
  assert.equal(b2bUserPrincipalName("o'neil_x@sub.example.com", 'fab.example'), "o'neil_x_sub.example.com#EXT#@fab.example");
  assert.equal(b2bMailNickname('j`ürgen@example.de'), 'j__rgen_example.de#EXT#');
  const long = `${'a'.repeat(60)}@example.com`;
  validateInviteEmail(long);
  assert.equal(b2bMailNickname(long).length, 64);
  assert.ok(b2bMailNickname(long).endsWith('a#EXT#'));
  assert.ok(b2bMailNickname(long, 1).endsWith('a2#EXT#'));
  assert.equal(b2bMailNickname(long, 1).length, 64);
});
