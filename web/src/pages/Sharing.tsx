import { useEffect, useState } from 'react';
import { call, graph, listAll } from '../api';
import type { Session } from '../auth';
import { Alert, Page, Status, useAction, useLoad } from '../ui';

const CTAP = '/policies/crossTenantAccessPolicy';

interface Sharing {
  users: string[];
  groups: string[];
  configurations: { targetTenantId: string; servicePrincipalId: string; jobId: string; state: string; status: string }[];
}
interface User {
  id: string;
  displayName: string | null;
  userPrincipalName: string;
  userType: string | null;
  externalUserState: string | null;
}
interface Group {
  id: string;
  displayName: string;
  securityEnabled: boolean;
}
interface Partner {
  tenantId: string;
  automaticUserConsentSettings?: { inboundAllowed: boolean | null; outboundAllowed: boolean | null };
  inboundSync?: boolean | null;
}

const yesNo = (v: boolean | null | undefined) => (v === true ? 'allowed' : v === false ? 'blocked' : 'not set (default)');

export function SharingPage(_: { session: Session }) {
  const data = useLoad(async () => {
    const [sharing, users, groups, mtoTenants, partners] = await Promise.all([
      call<Sharing>('GET', '/openmto/v1/sharing'),
      listAll<User>('/users?$select=id,displayName,userPrincipalName,userType,externalUserState&$top=999'),
      listAll<Group>('/groups?$select=id,displayName,securityEnabled&$top=999'),
      graph<{ value: { tenantId: string; displayName: string; state: string }[] }>('GET', '/tenantRelationships/multiTenantOrganization/tenants')
        .then((r) => r.value)
        .catch(() => []),
      listAll<Partner>(`${CTAP}/partners`),
    ]);
    for (const p of partners) {
      const sync = await graph<{ userSyncInbound?: { isSyncAllowed: boolean } | null }>('GET', `${CTAP}/partners/${p.tenantId}/identitySynchronization`).catch(() => null);
      p.inboundSync = sync?.userSyncInbound?.isSyncAllowed ?? null;
    }
    return { sharing, users: users.filter((u) => u.userType !== 'Guest' && !u.externalUserState), groups: groups.filter((g) => g.securityEnabled), mtoTenants, partners };
  });
  const act = useAction();
  const [users, setUsers] = useState<Set<string>>(new Set());
  const [groups, setGroups] = useState<Set<string>>(new Set());
  useEffect(() => {
    if (!data.data) return;
    setUsers(new Set(data.data.sharing.users));
    setGroups(new Set(data.data.sharing.groups));
  }, [data.data]);
  const d = data.data;
  const tenantName = (id: string) => d?.mtoTenants.find((t) => t.tenantId === id)?.displayName ?? id;
  const toggle = (set: Set<string>, id: string, on: boolean) => {
    const next = new Set(set);
    if (on) next.add(id);
    else next.delete(id);
    return next;
  };

  return (
    <Page title="Sharing" intro="Which of this tenant's people are shared with the other tenants of the organization, and what this tenant accepts from them.">
      <Alert message={data.error} />
      <Alert message={act.error} />
      <Status message={act.status ?? (data.loading ? 'Loading…' : null)} />
      {d ? (
        <>
          <h2>Shared with</h2>
          {d.sharing.configurations.length ? (
            <table>
              <caption>Sync configurations that carry the shared people to each tenant</caption>
              <thead>
                <tr>
                  <th scope="col">Target tenant</th>
                  <th scope="col">Job state</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {d.sharing.configurations.map((c) => (
                  <tr key={c.jobId}>
                    <th scope="row">{tenantName(c.targetTenantId)}</th>
                    <td>{c.state}</td>
                    <td>{c.status}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p>Nothing is shared yet, or this tenant has no partner in an organization. Choose people below and save.</p>
          )}
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void act.run(async () => {
                await call('PUT', '/openmto/v1/sharing', { users: [...users], groups: [...groups] });
                await data.reload();
                return `Saved: ${users.size} user${users.size === 1 ? '' : 's'} and ${groups.size} group${groups.size === 1 ? '' : 's'} shared. Sync starts at once.`;
              });
            }}
          >
            <fieldset>
              <legend>Shared users ({users.size} of {d.users.length})</legend>
              <div className="checks">
                {d.users.map((u) => (
                  <label key={u.id}>
                    <input type="checkbox" checked={users.has(u.id)} onChange={(e) => setUsers(toggle(users, u.id, e.target.checked))} />
                    {u.displayName ?? u.userPrincipalName} <small>{u.userPrincipalName}</small>
                  </label>
                ))}
              </div>
              <button type="button" className="link" onClick={() => setUsers(new Set(d.users.map((u) => u.id)))}>
                Select all users
              </button>
            </fieldset>
            <fieldset>
              <legend>Shared security groups ({groups.size})</legend>
              {d.groups.length ? (
                <div className="checks">
                  {d.groups.map((g) => (
                    <label key={g.id}>
                      <input type="checkbox" checked={groups.has(g.id)} onChange={(e) => setGroups(toggle(groups, g.id, e.target.checked))} />
                      {g.displayName}
                    </label>
                  ))}
                </div>
              ) : (
                <p>This tenant has no security groups.</p>
              )}
            </fieldset>
            <button type="submit" disabled={act.busy}>Save sharing</button>
          </form>
          <h2>Inbound policies</h2>
          <p>What this tenant accepts from each partner. Shared people arrive only where inbound sync and automatic redemption are allowed.</p>
          <table>
            <caption>Partner policies of this tenant</caption>
            <thead>
              <tr>
                <th scope="col">Partner</th>
                <th scope="col">Inbound user sync</th>
                <th scope="col">Inbound automatic redemption</th>
                <th scope="col">Outbound automatic redemption</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {d.partners.map((p) => {
                const ok = p.inboundSync === true && p.automaticUserConsentSettings?.inboundAllowed === true;
                return (
                  <tr key={p.tenantId}>
                    <th scope="row">{tenantName(p.tenantId)}</th>
                    <td>{yesNo(p.inboundSync)}</td>
                    <td>{yesNo(p.automaticUserConsentSettings?.inboundAllowed)}</td>
                    <td>{yesNo(p.automaticUserConsentSettings?.outboundAllowed)}</td>
                    <td>
                      {ok ? (
                        'accepting'
                      ) : (
                        <button
                          type="button"
                          disabled={act.busy}
                          onClick={() =>
                            act.run(async () => {
                              await graph('PUT', `${CTAP}/partners/${p.tenantId}/identitySynchronization`, { userSyncInbound: { isSyncAllowed: true } });
                              await graph('PATCH', `${CTAP}/partners/${p.tenantId}`, { automaticUserConsentSettings: { inboundAllowed: true } });
                              await data.reload();
                              return `This tenant now accepts people shared by ${tenantName(p.tenantId)}.`;
                            })
                          }
                        >
                          Accept people from {tenantName(p.tenantId)}
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
              {d.partners.length ? null : (
                <tr>
                  <td colSpan={5}>No partner policies. Joining an organization creates one per tenant.</td>
                </tr>
              )}
            </tbody>
          </table>
        </>
      ) : null}
    </Page>
  );
}
