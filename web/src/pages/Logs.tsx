import { useState } from 'react';
import { graph } from '../api';
import type { Session } from '../auth';
import { Alert, Field, Page, Status, useLoad, when } from '../ui';

interface Entry {
  id: string;
  activityDateTime: string;
  provisioningAction: string;
  jobId: string;
  sourceIdentity: { id: string; displayName: string | null };
  targetIdentity: { id: string | null; displayName: string | null };
  targetSystem?: { displayName: string | null };
  provisioningStatusInfo: { status: string; errorInformation: { errorCode: string; reason: string; recommendedAction?: string | null } | null };
  provisioningSteps: { name: string; provisioningStepType: string; status: string; description: string }[];
  modifiedProperties: { displayName: string; oldValue: string | null; newValue: string | null }[];
}

const ACTIONS = ['', 'create', 'update', 'delete', 'disable', 'stagedDelete', 'other'];
const STATUSES = ['', 'success', 'failure', 'skipped', 'warning'];

export function LogsPage(_: { session: Session }) {
  const [user, setUser] = useState('');
  const [action, setAction] = useState('');
  const [status, setStatus] = useState('');
  const [applied, setApplied] = useState({ user: '', action: '', status: '' });
  const data = useLoad(async () => {
    const clauses: string[] = [];
    let userId = applied.user.trim();
    if (userId.includes('@')) userId = (await graph<{ id: string }>('GET', `/users/${encodeURIComponent(userId)}?$select=id`)).id;
    if (userId) clauses.push(`sourceIdentity/id eq '${userId.replace(/'/g, "''")}'`);
    if (applied.action) clauses.push(`provisioningAction eq '${applied.action}'`);
    if (applied.status) clauses.push(`provisioningStatusInfo/status eq '${applied.status}'`);
    const q = new URLSearchParams({ $top: '50' });
    if (clauses.length) q.set('$filter', clauses.join(' and '));
    return (await graph<{ value: Entry[] }>('GET', `/auditLogs/provisioning?${q}`)).value;
  }, JSON.stringify(applied));
  return (
    <Page title="Provisioning logs" intro="What the sync jobs did, newest first: one entry per user and cycle, with its steps and changed properties.">
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ user, action, status });
        }}
      >
        <Field label="Source user (UPN or id)">{(id) => <input id={id} value={user} onChange={(e) => setUser(e.target.value)} />}</Field>
        <Field label="Action">
          {(id) => (
            <select id={id} value={action} onChange={(e) => setAction(e.target.value)}>
              {ACTIONS.map((a) => (
                <option key={a} value={a}>{a || 'any'}</option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Status">
          {(id) => (
            <select id={id} value={status} onChange={(e) => setStatus(e.target.value)}>
              {STATUSES.map((a) => (
                <option key={a} value={a}>{a || 'any'}</option>
              ))}
            </select>
          )}
        </Field>
        <button type="submit">Filter</button>
      </form>
      <Alert message={data.error} />
      <Status message={data.loading ? 'Loading…' : `${data.data?.length ?? 0} entries`} />
      <ul className="log">
        {(data.data ?? []).map((e) => (
          <li key={e.id}>
            <details>
              <summary>
                <span className={`badge status-${e.provisioningStatusInfo.status}`}>{e.provisioningStatusInfo.status}</span> {e.provisioningAction}{' '}
                <strong>{e.sourceIdentity.displayName ?? e.sourceIdentity.id}</strong> → {e.targetSystem?.displayName ?? 'target'} · {when(e.activityDateTime)}
              </summary>
              {e.provisioningStatusInfo.errorInformation ? (
                <p className="warn">
                  {e.provisioningStatusInfo.errorInformation.errorCode}: {e.provisioningStatusInfo.errorInformation.reason}{' '}
                  {e.provisioningStatusInfo.errorInformation.recommendedAction ?? ''}
                </p>
              ) : null}
              <ol className="steps">
                {e.provisioningSteps.map((s, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: steps are fixed per entry
                  <li key={i}>
                    <strong>{s.name}</strong> ({s.status}): {s.description}
                  </li>
                ))}
              </ol>
              {e.modifiedProperties.length ? (
                <table>
                  <caption>Modified properties</caption>
                  <thead>
                    <tr>
                      <th scope="col">Property</th>
                      <th scope="col">Old value</th>
                      <th scope="col">New value</th>
                    </tr>
                  </thead>
                  <tbody>
                    {e.modifiedProperties.map((m) => (
                      <tr key={m.displayName}>
                        <th scope="row">{m.displayName}</th>
                        <td>{m.oldValue ?? '—'}</td>
                        <td>{m.newValue ?? '—'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : null}
            </details>
          </li>
        ))}
      </ul>
    </Page>
  );
}
