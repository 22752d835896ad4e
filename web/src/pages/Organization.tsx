import { useState } from 'react';
import { graph } from '../api';
import type { Session } from '../auth';
import { Alert, Field, Page, Status, useAction, useLoad, when } from '../ui';

const MTO = '/tenantRelationships/multiTenantOrganization';

interface Mto {
  id: string | null;
  displayName: string | null;
  description: string | null;
  state: string;
  createdDateTime: string | null;
}
interface Member {
  tenantId: string;
  displayName: string;
  role: string;
  state: string;
  joinedDateTime: string | null;
  transitionDetails: { desiredState?: string; desiredRole?: string; status?: string; details?: string | null } | null;
}
interface JoinRequest {
  addedByTenantId: string | null;
  memberState: string | null;
  role: string | null;
  transitionDetails: { desiredMemberState?: string; status?: string; details?: string | null } | null;
}

export function OrganizationPage({ session }: { session: Session }) {
  const data = useLoad(async () => {
    const mto = await graph<Mto>('GET', MTO);
    const join = await graph<JoinRequest>('GET', `${MTO}/joinRequest`).catch(() => null);
    const tenants = mto.state === 'active' ? (await graph<{ value: Member[] }>('GET', `${MTO}/tenants`)).value : [];
    return { mto, join, tenants };
  });
  const act = useAction();
  const [name, setName] = useState('');
  const [addId, setAddId] = useState('');
  const [addName, setAddName] = useState('');
  const [joinId, setJoinId] = useState('');
  const d = data.data;
  const inOrg = d?.mto.state === 'active';
  const me = d?.tenants.find((t) => t.tenantId === session.tenantId);
  const pending = d?.tenants.filter((t) => t.state === 'pending') ?? [];

  return (
    <Page title="Organization" intro="The multi-tenant organization this tenant belongs to: its tenants, their roles and states, and joins in progress.">
      <Alert message={data.error} />
      <Alert message={act.error} />
      <Status message={act.status ?? (data.loading ? 'Loading…' : null)} />
      {d && !inOrg ? (
        <>
          <p>This tenant is not in a multi-tenant organization.</p>
          <h2>Create an organization</h2>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void act.run(async () => {
                if (!name.trim()) throw new Error('Give the organization a name, for example your company name.');
                await graph('PUT', MTO, { displayName: name.trim() });
                await data.reload();
                return `Organization “${name.trim()}” created; this tenant is its owner.`;
              });
            }}
          >
            <Field label="Organization name">{(id) => <input id={id} value={name} onChange={(e) => setName(e.target.value)} />}</Field>
            <button type="submit" disabled={act.busy}>Create organization</button>
          </form>
        </>
      ) : null}
      {d && inOrg ? (
        <>
          <h2>{d.mto.displayName}</h2>
          <p>
            Created {when(d.mto.createdDateTime)}. This tenant is <strong>{me ? `${me.role} (${me.state})` : 'a member'}</strong>.
          </p>
          <table>
            <caption>Tenants of the organization</caption>
            <thead>
              <tr>
                <th scope="col">Tenant</th>
                <th scope="col">Tenant id</th>
                <th scope="col">Role</th>
                <th scope="col">State</th>
                <th scope="col">Joined</th>
                <th scope="col">Transition</th>
              </tr>
            </thead>
            <tbody>
              {d.tenants.map((t) => (
                <tr key={t.tenantId}>
                  <th scope="row">{t.displayName}{t.tenantId === session.tenantId ? ' (this tenant)' : ''}</th>
                  <td className="mono">{t.tenantId}</td>
                  <td>{t.role}</td>
                  <td>
                    <span className={`badge state-${t.state}`}>{t.state}</span>
                  </td>
                  <td>{t.joinedDateTime ? when(t.joinedDateTime) : '—'}</td>
                  <td>
                    {t.transitionDetails?.status && t.transitionDetails.status !== 'succeeded'
                      ? `${t.transitionDetails.desiredState ?? ''} ${t.transitionDetails.status}${t.transitionDetails.details ? `: ${t.transitionDetails.details}` : ''}`
                      : '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {pending.length ? (
            <p>
              {pending.length} tenant{pending.length > 1 ? 's are' : ' is'} added but not joined yet: their admin must join from their own console (Organization → Join),
              naming this tenant's id <span className="mono">{session.tenantId}</span>.
            </p>
          ) : null}
          {me?.role === 'owner' ? (
            <>
              <h2>Add a tenant</h2>
              <form
                onSubmit={(e) => {
                  e.preventDefault();
                  void act.run(async () => {
                    if (!/^[0-9a-f-]{36}$/i.test(addId.trim())) throw new Error('Type the tenant id (a GUID) of the tenant to add; its admin finds it at the top of their Organization page.');
                    await graph('POST', `${MTO}/tenants`, { tenantId: addId.trim(), displayName: addName.trim() || addId.trim() });
                    await data.reload();
                    setAddId('');
                    setAddName('');
                    return 'Tenant added. It joins once its admin joins from their console.';
                  });
                }}
              >
                <Field label="Tenant id">{(id) => <input id={id} className="mono" value={addId} onChange={(e) => setAddId(e.target.value)} />}</Field>
                <Field label="Display name">{(id) => <input id={id} value={addName} onChange={(e) => setAddName(e.target.value)} />}</Field>
                <button type="submit" disabled={act.busy}>Add tenant</button>
              </form>
            </>
          ) : null}
          <h2>Leave the organization</h2>
          <p>Leaving pauses this tenant's sharing in both directions; users already provisioned stay where they are.</p>
          <button
            type="button"
            className="danger"
            disabled={act.busy}
            onClick={() => {
              if (!confirm(`Leave “${d.mto.displayName}”? Sharing with its other tenants stops.`)) return;
              void act.run(async () => {
                await graph('DELETE', `${MTO}/tenants/${session.tenantId}`);
                await data.reload();
                return 'This tenant left the organization.';
              });
            }}
          >
            Leave organization
          </button>
        </>
      ) : null}
      {d && !inOrg ? (
        <>
          <h2>Join an organization</h2>
          <p>
            An owner of the organization must first add this tenant (id <span className="mono">{session.tenantId}</span>). Then type the owner tenant's id.
          </p>
          {d.join?.transitionDetails?.status && d.join.transitionDetails.status !== 'notStarted' ? (
            <p>
              Join request: {d.join.transitionDetails.desiredMemberState ?? ''} {d.join.transitionDetails.status}
              {d.join.transitionDetails.details ? ` — ${d.join.transitionDetails.details}` : ''}
            </p>
          ) : null}
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void act.run(async () => {
                if (!/^[0-9a-f-]{36}$/i.test(joinId.trim())) throw new Error("Type the owner tenant's id (a GUID).");
                await graph('PATCH', `${MTO}/joinRequest`, { addedByTenantId: joinId.trim() });
                // The join is decided in the background within a second or two: look again until it settles.
                for (let i = 0; i < 20; i++) {
                  const j = await graph<JoinRequest>('GET', `${MTO}/joinRequest`);
                  const s = j.transitionDetails?.status;
                  if (s === 'failed') throw new Error(`The join failed: ${j.transitionDetails?.details ?? 'no reason given'}. Check that the owner added this tenant, then try again.`);
                  if (j.memberState === 'active' || s === 'succeeded') break;
                  await new Promise((r) => setTimeout(r, 500));
                }
                await data.reload();
                return 'Join requested; this page shows the organization once the join completes.';
              });
            }}
          >
            <Field label="Owner tenant id">{(id) => <input id={id} className="mono" value={joinId} onChange={(e) => setJoinId(e.target.value)} />}</Field>
            <button type="submit" disabled={act.busy}>Join organization</button>
          </form>
        </>
      ) : null}
    </Page>
  );
}
