// The local-tenant connector: the target is a tenant of this server, written through the directory's
// system writes in the engine's own transaction.
import { b2bMailNickname, b2bUserPrincipalName } from '../../b2b/email.js';
import { newB2bUser } from '../../b2b/factory.js';
import { acceptedIdentities } from '../../b2b/redemption.js';
import { proxyAddressesFor, type UserRecord } from '../../domain/user.js';
import { type SystemUpdate, systemWrites } from '../../directory/system.js';
import { syncRepo } from '../../store/repos/sync.js';
import { syncReads } from '../../store/repos/syncReads.js';
import type { Db } from '../../store/store.js';
import type { TargetUser } from '../plan.js';
import type { ExportResult, TargetConnector, TargetState } from './connector.js';

// A derived UPN collides only with a cut-off long address or a soft-deleted namesake; ten numbered forms
// are far more than either needs (the invitation manager uses the same bound).
const UPN_ATTEMPTS = 10;

export function localConnector(target: { id: string; domain: string; displayName: string }): TargetConnector {
  /** Picks free UPNs for each wanted source UPN, one query per attempt round across the whole batch. */
  async function freeUpns(db: Db, wanted: Map<string, string>): Promise<Map<string, string>> {
    const chosen = new Map<string, string>();
    const used = new Set<string>();
    let pending = [...wanted.keys()];
    for (let attempt = 0; attempt < UPN_ATTEMPTS && pending.length; attempt++) {
      const forms = new Map(pending.map((k) => [k, b2bUserPrincipalName(wanted.get(k)!, target.domain, attempt)]));
      const taken = await syncReads.upnsTaken(db, target.id, [...forms.values()].map((u) => u.toLowerCase()));
      const next: string[] = [];
      for (const k of pending) {
        const upn = forms.get(k)!;
        if (taken.has(upn.toLowerCase()) || used.has(upn.toLowerCase())) next.push(k);
        else {
          chosen.set(k, upn);
          used.add(upn.toLowerCase());
        }
      }
      pending = next;
    }
    return chosen;
  }

  return {
    tenantId: target.id,
    domain: target.domain,
    displayName: target.displayName,

    async lookup(db, sourceTenantId, sourceIds, addresses): Promise<TargetState> {
      const linked = await syncReads.linked(db, target.id, sourceTenantId, sourceIds);
      const byAddress = new Map<string, TargetUser[]>();
      if (addresses.length) {
        const wanted = new Set(addresses);
        for (const record of await syncReads.byAddresses(db, target.id, addresses)) {
          const u = record.user;
          const held = [u.userPrincipalName, u.mail, ...((u.otherMails as string[] | undefined) ?? []),
            ...((u.proxyAddresses as string[] | undefined) ?? []).map((p) => p.replace(/^smtp:/i, ''))];
          for (const a of new Set(held.filter((x): x is string => typeof x === 'string').map((x) => x.toLowerCase()))) {
            if (!wanted.has(a)) continue;
            byAddress.set(a, [...(byAddress.get(a) ?? []), { record, deleted: false }]);
          }
        }
      }
      return { linked, byAddress };
    },

    async export(db, sourceTenantId, items, now): Promise<Map<string, ExportResult>> {
      const results = new Map<string, ExportResult>();
      const upnWanted = new Map<string, string>();
      for (const it of items) {
        if (it.write.kind === 'create') upnWanted.set(it.sourceId, it.write.upnSource);
        else if (it.write.kind === 'update' && it.write.upnSource) upnWanted.set(it.sourceId, it.write.upnSource);
      }
      const upns = upnWanted.size ? await freeUpns(db, upnWanted) : new Map<string, string>();
      const creates: UserRecord[] = [];
      const updates: SystemUpdate[] = [];
      for (const it of items) {
        const w = it.write;
        if (w.kind !== 'softDelete' && upnWanted.has(it.sourceId) && !upns.has(it.sourceId)) {
          results.set(it.sourceId, { ok: false, code: 'AzureActiveDirectoryConflictingUserPrincipalName',
            message: `Every form of ${b2bUserPrincipalName(upnWanted.get(it.sourceId)!, target.domain)} is taken in the target.` });
          continue;
        }
        if (w.kind === 'create') {
          const { userType, mailNickname, showInAddressList, accountEnabled, ...props } = w.props as Record<string, unknown>;
          const record = newB2bUser({
            tenantId: target.id, tenantDomain: target.domain, email: w.email, upn: upns.get(it.sourceId)!,
            mailNickname: typeof mailNickname === 'string' ? mailNickname : b2bMailNickname(w.email),
            displayName: (props.displayName as string | undefined) ?? null, userType: w.userType, now,
            home: { tenantId: sourceTenantId, userId: it.sourceId }, props,
            ...(typeof showInAddressList === 'boolean' ? { showInAddressList } : {}),
            ...(typeof accountEnabled === 'boolean' ? { accountEnabled } : {}),
          });
          record.syncJobs = [w.claim];
          void userType;
          creates.push(record);
          results.set(it.sourceId, { ok: true, targetId: record.user.id, upn: record.user.userPrincipalName });
          continue;
        }
        const cur = it.current!.record;
        if (w.kind === 'softDelete') {
          updates.push({ record: { ...cur, user: { ...cur.user, deletedDateTime: now } }, props: [], change: 'softDeleted' });
          results.set(it.sourceId, { ok: true, targetId: cur.user.id, upn: cur.user.userPrincipalName });
          continue;
        }
        const user = { ...cur.user, ...w.props };
        const changed = Object.keys(w.props);
        if ('mail' in w.props && w.props.mail !== cur.user.mail) {
          user.proxyAddresses = proxyAddressesFor(w.props.mail as string | null, (cur.user.proxyAddresses as string[] | undefined) ?? []);
          changed.push('proxyAddresses');
        }
        const upn = upns.get(it.sourceId);
        if (upn) {
          user.userPrincipalName = upn;
          changed.push('userPrincipalName');
        }
        let record: UserRecord = { ...cur, user };
        if (w.adopt) {
          Object.assign(user, { externalUserState: 'Accepted', externalUserStateChangeDateTime: now, identities: acceptedIdentities() });
          record = { ...record, homeTenantId: sourceTenantId, homeUserId: it.sourceId };
          changed.push('externalUserState', 'externalUserStateChangeDateTime', 'identities');
        }
        if (w.restore) user.deletedDateTime = null;
        if (w.claim && !record.syncJobs?.includes(w.claim)) record = { ...record, syncJobs: [...(record.syncJobs ?? []), w.claim] };
        updates.push({ record, props: changed, change: w.restore ? 'restored' : 'updated' });
        results.set(it.sourceId, { ok: true, targetId: cur.user.id, upn: user.userPrincipalName });
      }
      const created = await systemWrites.createUsers(db, target.id, creates, now);
      const updated = await systemWrites.updateUsers(db, target.id, updates, now);
      // These rows are B2B users, which the target's own outbound jobs would only read and skip: a job that had
      // read everything before them moves past them now (otherwise a mesh's every export would be read N−1 times).
      const from = created?.from ?? updated?.from;
      const to = updated?.to ?? created?.to;
      if (from !== undefined && to !== undefined) await syncRepo.skipExports(db, target.id, from, to);
      return results;
    },
  };
}
