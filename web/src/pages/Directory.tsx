import { useState } from 'react';
import { explain, graph, listAll } from '../api';
import type { Session } from '../auth';
import { Alert, Field, Page, Status, useAction, useLoad } from '../ui';
import { bulkUsers } from './csv';

interface User {
  id: string;
  displayName: string | null;
  userPrincipalName: string;
  mail: string | null;
  userType: string | null;
  externalUserState: string | null;
  accountEnabled: boolean | null;
}
interface Group {
  id: string;
  displayName: string;
  securityEnabled: boolean;
  mailEnabled: boolean;
}

const kindOf = (u: User) => (u.userType === 'Guest' ? 'B2B guest' : u.externalUserState ? 'B2B member' : 'internal');
/** $batch takes at most 20 requests, as in Graph. */
const BATCH = 20;

function BulkImport({ onDone }: { onDone: () => Promise<void> }) {
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [failures, setFailures] = useState<{ line: number; upn: string; why: string }[]>([]);
  const act = useAction();
  return (
    <section aria-labelledby="bulk-title">
      <h2 id="bulk-title">Bulk create users</h2>
      <p>Upload the Microsoft 365 / Entra bulk-create CSV (version:v1.0, then the header row with the property names in brackets).</p>
      <Field label="CSV file">
        {(id) => (
          <input
            id={id}
            type="file"
            accept=".csv,text/csv"
            disabled={act.busy}
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (!file) return;
              void act.run(async () => {
                const rows = bulkUsers(await file.text());
                const bad = rows.filter((r) => r.problem).map((r) => ({ line: r.line, upn: String(r.body.userPrincipalName ?? ''), why: r.problem! }));
                const good = rows.filter((r) => !r.problem);
                setFailures(bad);
                setProgress({ done: 0, total: good.length });
                let created = 0;
                for (let i = 0; i < good.length; i += BATCH) {
                  const chunk = good.slice(i, i + BATCH);
                  const r = await graph<{ responses: { id: string; status: number; body?: { error?: { code: string; message: string } } }[] }>('POST', '/$batch', {
                    requests: chunk.map((row) => ({ id: String(row.line), method: 'POST', url: '/users', headers: { 'content-type': 'application/json' }, body: row.body })),
                  });
                  for (const res of r.responses) {
                    if (res.status < 300) created++;
                    else {
                      const row = chunk.find((c) => String(c.line) === res.id);
                      bad.push({ line: Number(res.id), upn: String(row?.body.userPrincipalName ?? ''), why: explain(res.status, res.body?.error?.code ?? '', res.body?.error?.message ?? '') });
                    }
                  }
                  setFailures([...bad].sort((a, b) => a.line - b.line));
                  setProgress({ done: Math.min(good.length, i + BATCH), total: good.length });
                }
                e.target.value = '';
                await onDone();
                return `${created} user${created === 1 ? '' : 's'} created, ${bad.length} row${bad.length === 1 ? '' : 's'} failed.`;
              });
            }}
          />
        )}
      </Field>
      {progress ? (
        <div className="progress">
          <label htmlFor="bulk-progress">
            Created {progress.done} of {progress.total} rows
          </label>
          <progress id="bulk-progress" max={Math.max(1, progress.total)} value={progress.done} />
        </div>
      ) : null}
      <Alert message={act.error} />
      <Status message={act.status} />
      {failures.length ? (
        <table>
          <caption>Rows that were not created</caption>
          <thead>
            <tr>
              <th scope="col">Line</th>
              <th scope="col">User name</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {failures.map((f) => (
              <tr key={f.line}>
                <td>{f.line}</td>
                <td>{f.upn}</td>
                <td>{f.why}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

export function DirectoryPage(_: { session: Session }) {
  const data = useLoad(async () => {
    const [users, groups] = await Promise.all([
      listAll<User>('/users?$select=id,displayName,userPrincipalName,mail,userType,externalUserState,accountEnabled&$top=999'),
      listAll<Group>('/groups?$select=id,displayName,securityEnabled,mailEnabled&$top=999'),
    ]);
    return { users, groups };
  });
  const act = useAction();
  const [email, setEmail] = useState('');
  const [redeemUrl, setRedeemUrl] = useState<string | null>(null);
  const [filter, setFilter] = useState('');
  const users = (data.data?.users ?? []).filter((u) => !filter || kindOf(u) === filter);
  return (
    <Page title="Directory" intro="Users and groups of this tenant. B2B members and guests are people from other tenants.">
      <Alert message={data.error} />
      <Alert message={act.error} />
      <Status message={act.status ?? (data.loading && !data.data ? 'Loading…' : null)} />
      <h2>Users</h2>
      <Field label="Show">
        {(id) => (
          <select id={id} value={filter} onChange={(e) => setFilter(e.target.value)}>
            <option value="">everyone</option>
            <option value="internal">internal</option>
            <option value="B2B member">B2B members</option>
            <option value="B2B guest">B2B guests</option>
          </select>
        )}
      </Field>
      <table>
        <caption>Users ({users.length})</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">User name</th>
            <th scope="col">Kind</th>
            <th scope="col">Invitation</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.id}>
              <th scope="row">{u.displayName ?? '—'}</th>
              <td>{u.userPrincipalName}</td>
              <td>
                <span className={`badge kind-${kindOf(u).replace(/\s/g, '')}`}>{kindOf(u)}</span>
                {u.accountEnabled === false ? ' (sign-in blocked)' : ''}
              </td>
              <td>{u.externalUserState ?? '—'}</td>
              <td>
                {u.userType === 'Guest' ? (
                  <button
                    type="button"
                    disabled={act.busy}
                    onClick={() =>
                      act.run(async () => {
                        await graph('PATCH', `/users/${u.id}`, { userType: 'Member' });
                        await data.reload();
                        return `${u.displayName ?? u.userPrincipalName} is now a B2B member.`;
                      })
                    }
                  >
                    Make member <span className="sr-only">({u.displayName ?? u.userPrincipalName})</span>
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Invite a guest</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void act.run(async () => {
            if (!/^[^@\s]+@[^@\s]+$/.test(email.trim())) throw new Error('Type the email address of the person to invite, for example bob@fabrikam.com.');
            const r = await graph<{ inviteRedeemUrl: string }>('POST', '/invitations', {
              invitedUserEmailAddress: email.trim(), inviteRedirectUrl: `${location.origin}/`, sendInvitationMessage: false,
            });
            setRedeemUrl(r.inviteRedeemUrl);
            setEmail('');
            await data.reload();
            return 'Invitation created. Send the redemption link below to the person.';
          });
        }}
      >
        <Field label="Email address">{(id) => <input id={id} type="email" value={email} onChange={(e) => setEmail(e.target.value)} />}</Field>
        <button type="submit" disabled={act.busy}>Invite</button>
      </form>
      {redeemUrl ? (
        <p>
          Redemption link: <a href={redeemUrl}>{redeemUrl}</a>
        </p>
      ) : null}
      <BulkImport onDone={data.reload} />
      <h2>Groups</h2>
      <table>
        <caption>Groups ({data.data?.groups.length ?? 0})</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Kind</th>
          </tr>
        </thead>
        <tbody>
          {(data.data?.groups ?? []).map((g) => (
            <tr key={g.id}>
              <th scope="row">{g.displayName}</th>
              <td>{g.securityEnabled ? 'security' : g.mailEnabled ? 'Microsoft 365 / mail' : 'other'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Page>
  );
}
