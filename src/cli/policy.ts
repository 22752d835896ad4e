// `openmto policy …`: cross-tenant access (partners, inbound user sync) and the authorization policy,
// thin over the same functions the Graph routes call. Each write is one transaction.
import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { type CommonOptions, dataOption, notFoundError, out, usageError, withTenant } from './common.js';
import { systemClock } from '../domain/clock.js';
import { isGuid } from '../domain/cross-tenant-policy.js';
import { getAuthorizationPolicy, patchAuthorizationPolicy } from '../policy/authorization.js';
import {
  deleteIdentitySync, deletePartner, effectivePartnerSettings, ensurePartner, getIdentitySync, getPartner, patchIdentitySync, patchPartner,
  putIdentitySync,
} from '../policy/partners.js';
import { tenantsRepo } from '../store/repos/tenants.js';
import type { Db, Store } from '../store/store.js';
import { guestRoles } from '../directory/access.js';

type Common = CommonOptions;

/** Opens the store, resolves --tenant (id or domain) and runs `fn` in one transaction. */
function inTenant<T>(o: Common, fn: (db: Db, tenantId: string, at: string, store: Store) => Promise<T>): Promise<T> {
  return withTenant(o.data, o.tenant, (store, t) => store.transaction((db) => fn(db, t.id, systemClock.now().toISOString(), store)));
}

/** A partner is named by tenant id, or by the domain of a tenant hosted here. */
async function partnerId(db: Db, ref: string): Promise<string> {
  if (isGuid(ref)) return ref.toLowerCase();
  const hosted = await tenantsRepo.find(db, ref);
  if (!hosted) throw notFoundError(`'${ref}' is neither a tenant id nor the domain of a tenant hosted here`);
  return hosted.id;
}

/** `--body` takes a JSON object, or @file for one in a file. */
async function readBody(body: string | undefined): Promise<Record<string, unknown>> {
  if (!body) return {};
  const text = body.startsWith('@') ? await readFile(body.slice(1), 'utf8') : body;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw usageError('--body is not valid JSON');
  }
}

const tristate = (v: string): boolean | null => {
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (v === 'inherit' || v === 'null') return null;
  throw usageError(`expected true, false or inherit, got '${v}'`);
};

const common = (c: Command) =>
  c.requiredOption('--tenant <tenant>', 'tenant id or domain').option('--json', 'JSON output').addOption(dataOption());

const onOff = (v: boolean | null) => (v === null ? 'inherit' : String(v));

export function registerPolicyCommands(program: Command): void {
  const policy = program.command('policy').description('cross-tenant access and authorization policies');

  const partner = policy.command('partner').description("partner configurations of a tenant's cross-tenant access policy");
  common(partner.command('add <partner>').description('add a partner (tenant id or hosted domain), unconfigured unless --body says more'))
    .option('--body <json>', 'settings as a Graph partner PATCH body (JSON or @file)')
    .action(async (ref: string, o: Common & { body?: string }) => {
      const body = await readBody(o.body);
      const result = await inTenant(o, async (db, t, at) => {
        const id = await partnerId(db, ref);
        const { partner: p, created } = await ensurePartner(db, t, id, at);
        return { partner: Object.keys(body).length ? await patchPartner(db, t, id, body, at) : p, created };
      });
      out(o.json, result, () => `${result.created ? 'added' : 'already a partner:'} ${result.partner.tenantId}`);
    });
  common(partner.command('show <partner>').description('the stored configuration and the settings in effect'))
    .action(async (ref: string, o: Common) => {
      const result = await inTenant(o, async (db, t) => {
        const id = await partnerId(db, ref);
        return {
          partner: (await getPartner(db, t, id)) ?? null,
          identitySynchronization: (await getIdentitySync(db, t, id)) ?? null,
          effective: await effectivePartnerSettings(db, t, id),
        };
      });
      const e = result.effective;
      out(o.json, result, () => [
        `partner ${e.partnerTenantId}${result.partner ? '' : ' (not configured: default applies)'}`,
        `  in multi-tenant organization: ${e.isInMultiTenantOrganization}`,
        `  automatic redemption: inbound ${e.automaticUserConsent.inboundAllowed}, outbound ${e.automaticUserConsent.outboundAllowed}`,
        `  user sync into this tenant: ${e.userSyncInbound}`,
        `  B2B collaboration: inbound ${e.b2bCollaborationInbound.usersAndGroups.accessType}, outbound ${e.b2bCollaborationOutbound.usersAndGroups.accessType}`,
      ].join('\n'));
    });
  common(partner.command('set <partner>').description('change settings (Graph PATCH semantics: a property given replaces the stored one)'))
    .option('--body <json>', 'a Graph partner PATCH body (JSON or @file)')
    .option('--auto-redeem-inbound <v>', 'automaticUserConsentSettings.inboundAllowed: true, false or inherit')
    .option('--auto-redeem-outbound <v>', 'automaticUserConsentSettings.outboundAllowed: true, false or inherit')
    .action(async (ref: string, o: Common & { body?: string; autoRedeemInbound?: string; autoRedeemOutbound?: string }) => {
      const body = await readBody(o.body);
      const result = await inTenant(o, async (db, t, at) => {
        const id = await partnerId(db, ref);
        if (o.autoRedeemInbound !== undefined || o.autoRedeemOutbound !== undefined) {
          // The flags change one direction each; the other keeps its stored value.
          const current = (await getPartner(db, t, id))?.automaticUserConsentSettings;
          body.automaticUserConsentSettings = {
            inboundAllowed: o.autoRedeemInbound !== undefined ? tristate(o.autoRedeemInbound) : (current?.inboundAllowed ?? null),
            outboundAllowed: o.autoRedeemOutbound !== undefined ? tristate(o.autoRedeemOutbound) : (current?.outboundAllowed ?? null),
          };
        }
        if (!Object.keys(body).length) throw usageError('nothing to set: give --body or an --auto-redeem-* option');
        return patchPartner(db, t, id, body, at);
      });
      const c = result.automaticUserConsentSettings;
      out(o.json, result, () => `updated ${result.tenantId} (automatic redemption: inbound ${onOff(c.inboundAllowed)}, outbound ${onOff(c.outboundAllowed)})`);
    });
  common(partner.command('remove <partner>').description('remove a partner configuration (its identity synchronization must go first)'))
    .action(async (ref: string, o: Common) => {
      const id = await inTenant(o, async (db, t) => {
        const pid = await partnerId(db, ref);
        await deletePartner(db, t, pid);
        return pid;
      });
      out(o.json, { deleted: id }, () => `removed ${id}`);
    });

  const sync = policy.command('sync').description('inbound user synchronization from a partner (identitySynchronization)');
  const setSync = (allowed: boolean) => async (ref: string, o: Common & { name?: string; remove?: boolean }) => {
    const result = await inTenant(o, async (db, t, at) => {
      const id = await partnerId(db, ref);
      if (o.remove) {
        if (await getIdentitySync(db, t, id)) await deleteIdentitySync(db, t, id);
        return { tenantId: id, displayName: null, userSyncInbound: { isSyncAllowed: false } };
      }
      const body = { userSyncInbound: { isSyncAllowed: allowed }, ...(o.name !== undefined ? { displayName: o.name } : {}) };
      if (await getIdentitySync(db, t, id)) return patchIdentitySync(db, t, id, body, at);
      // Denying what was never allowed needs no policy: no identitySynchronization already means "no sync".
      if (!allowed) return { tenantId: id, displayName: null, userSyncInbound: { isSyncAllowed: false } };
      await ensurePartner(db, t, id, at);
      return putIdentitySync(db, t, id, body, at);
    });
    out(o.json, result, () => `user sync from ${result.tenantId} into this tenant: ${allowed ? 'allowed' : 'denied'}`);
  };
  common(sync.command('allow <partner>').description('allow user sync from the partner into this tenant (adds the partner if needed)'))
    .option('--name <displayName>', 'display name of the policy').action(setSync(true));
  common(sync.command('deny <partner>').description('stop user sync from the partner; users already synced stay'))
    .option('--name <displayName>', 'display name of the policy')
    .option('--remove', 'delete the identitySynchronization policy (needed before the partner can be removed)')
    .action(setSync(false));
  common(sync.command('show <partner>')).action(async (ref: string, o: Common) => {
    const result = await inTenant(o, async (db, t) => {
      const id = await partnerId(db, ref);
      return { tenantId: id, identitySynchronization: (await getIdentitySync(db, t, id)) ?? null };
    });
    const allowed = result.identitySynchronization?.userSyncInbound.isSyncAllowed ?? false;
    out(o.json, result, () => `user sync from ${result.tenantId} into this tenant: ${allowed ? 'allowed' : 'not allowed'}`);
  });

  const authz = policy.command('authorization').description('the authorization policy (guest access, who may invite)');
  common(authz.command('show')).action(async (o: Common) => {
    const result = await inTenant(o, (db, t) => getAuthorizationPolicy(db, t));
    const role = Object.entries(guestRoles).find(([, id]) => id === result.guestUserRoleId)?.[0] ?? result.guestUserRoleId;
    out(o.json, result, () => `guest access: ${role}\ninvites from: ${result.allowInvitesFrom}`);
  });
  common(authz.command('set').description('change the authorization policy (Graph PATCH body and/or the options)'))
    .option('--body <json>', 'a Graph authorizationPolicy PATCH body (JSON or @file)')
    .addOption(new Option('--guest-role <role>', 'guest access level').choices(Object.keys(guestRoles)))
    .addOption(new Option('--invites-from <who>', 'allowInvitesFrom')
      .choices(['none', 'adminsAndGuestInviters', 'adminsGuestInvitersAndAllMembers', 'everyone']))
    .action(async (o: Common & { body?: string; guestRole?: keyof typeof guestRoles; invitesFrom?: string }) => {
      const body = await readBody(o.body);
      if (o.guestRole) body.guestUserRoleId = guestRoles[o.guestRole];
      if (o.invitesFrom) body.allowInvitesFrom = o.invitesFrom;
      if (!Object.keys(body).length) throw usageError('nothing to set: give --body, --guest-role or --invites-from');
      const result = await inTenant(o, (db, t, at) => patchAuthorizationPolicy(db, t, body, at));
      out(o.json, result, () => `updated: guestUserRoleId ${result.guestUserRoleId}, allowInvitesFrom ${result.allowInvitesFrom}`);
    });
}
