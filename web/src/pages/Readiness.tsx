import { useState } from 'react';
import { call } from '../api';
import type { Session } from '../auth';
import { Alert, Field, Page, Status, useAction, useLoad } from '../ui';

interface Report {
  mtoId: string;
  displayName: string;
  people: { id: string; homeTenantId: string; displayName: string | null; userPrincipalName: string }[];
  tenants: { tenantId: string; displayName: string; domain: string; people: number; findable: number; coverage: number }[];
  cells: { personId: string; tenantId: string; state: string; findable: boolean }[];
}
interface Explanation {
  state: string;
  canFind: boolean;
  reasons: string[];
}

const STATE_TEXT: Record<string, string> = {
  home: 'home',
  b2bMember: 'B2B member',
  b2bMemberPendingRedemption: 'B2B member, not redeemed',
  b2bGuest: 'B2B guest',
  hiddenFromAddressList: 'hidden from address list',
  disabled: 'disabled',
  softDeleted: 'deleted',
  missing: 'missing',
};

/** Five bands, each with its own colour and its number printed in the cell: never colour alone. */
const band = (ratio: number) => (ratio >= 1 ? 'full' : ratio >= 0.75 ? 'high' : ratio >= 0.5 ? 'mid' : ratio > 0 ? 'low' : 'none');
const pct = (ratio: number) => `${Math.round(ratio * 100)}%`;

export function ReadinessPage({ session }: { session: Session }) {
  const data = useLoad(() => call<Report>('GET', '/openmto/v1/readiness'));
  const act = useAction();
  const [searcher, setSearcher] = useState(session.upn);
  const [person, setPerson] = useState('');
  const [why, setWhy] = useState<Explanation | null>(null);
  const r = data.data;
  const cellOf = new Map((r?.cells ?? []).map((c) => [`${c.personId}|${c.tenantId}`, c]));
  const explainFor = (s: string, p: string) =>
    act.run(async () => {
      setWhy(null);
      const q = new URLSearchParams({ searcher: s, person: p });
      const e = await call<Explanation>('GET', `/openmto/v1/readiness/explain?${q}`);
      setWhy(e);
      return `Explained: ${e.canFind ? 'can find' : 'cannot find'} (${STATE_TEXT[e.state] ?? e.state}).`;
    });

  return (
    <Page title="Readiness" intro="How far the organization is from “everyone finds everyone”: for each pair of tenants, the share of one tenant's shared people that people search in the other finds.">
      <Alert message={data.error} />
      <Status message={data.loading ? 'Loading…' : null} />
      {r ? (
        <>
          <div className="heatmap-wrap">
            <table className="heatmap">
              <caption>Coverage: people from the row's tenant findable in the column's tenant</caption>
              <thead>
                <tr>
                  <th scope="col">Home tenant ↓ / searched in →</th>
                  {r.tenants.map((t) => (
                    <th scope="col" key={t.tenantId}>{t.displayName}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {r.tenants.map((home) => {
                  const mine = r.people.filter((p) => p.homeTenantId === home.tenantId);
                  return (
                    <tr key={home.tenantId}>
                      <th scope="row">
                        {home.displayName} <small>({mine.length} shared)</small>
                      </th>
                      {r.tenants.map((t) => {
                        const found = mine.filter((p) => cellOf.get(`${p.id}|${t.tenantId}`)?.findable).length;
                        const ratio = mine.length ? found / mine.length : 1;
                        return (
                          <td key={t.tenantId} className={`heat heat-${band(ratio)}`}>
                            <strong>{pct(ratio)}</strong> <small>{found}/{mine.length}</small>
                          </td>
                        );
                      })}
                    </tr>
                  );
                })}
              </tbody>
              <tfoot>
                <tr>
                  <th scope="row">All shared people</th>
                  {r.tenants.map((t) => (
                    <td key={t.tenantId} className={`heat heat-${band(t.coverage)}`}>
                      <strong>{pct(t.coverage)}</strong> <small>{t.findable}/{t.people}</small>
                    </td>
                  ))}
                </tr>
              </tfoot>
            </table>
          </div>
          <table>
            <caption>Each shared person in each tenant</caption>
            <thead>
              <tr>
                <th scope="col">Person</th>
                {r.tenants.map((t) => (
                  <th scope="col" key={t.tenantId}>{t.displayName}</th>
                ))}
                <th scope="col">
                  <span className="sr-only">Explain</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {r.people.map((p) => (
                <tr key={p.id}>
                  <th scope="row">
                    {p.displayName ?? p.userPrincipalName} <small>{p.userPrincipalName}</small>
                  </th>
                  {r.tenants.map((t) => {
                    const c = cellOf.get(`${p.id}|${t.tenantId}`);
                    return (
                      <td key={t.tenantId} className={c?.findable ? 'ok' : 'bad'}>
                        {c?.findable ? '✓ ' : '✗ '}
                        {STATE_TEXT[c?.state ?? 'missing'] ?? c?.state}
                      </td>
                    );
                  })}
                  <td>
                    <button
                      type="button"
                      className="link"
                      onClick={() => {
                        setPerson(p.userPrincipalName);
                        void explainFor(searcher, p.userPrincipalName);
                      }}
                    >
                      Why? <span className="sr-only">({p.displayName ?? p.userPrincipalName})</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Explain</h2>
          <form
            className="filters"
            onSubmit={(e) => {
              e.preventDefault();
              void explainFor(searcher, person);
            }}
          >
            <Field label="Searcher (UPN or id)">{(id) => <input id={id} value={searcher} onChange={(e) => setSearcher(e.target.value)} />}</Field>
            <Field label="Person (UPN or id)">{(id) => <input id={id} value={person} onChange={(e) => setPerson(e.target.value)} />}</Field>
            <button type="submit" disabled={act.busy}>Explain</button>
          </form>
          <Alert message={act.error} />
          <Status message={act.status} />
          {why ? (
            <ul className="reasons">
              {why.reasons.map((x) => (
                <li key={x}>{x}</li>
              ))}
            </ul>
          ) : null}
        </>
      ) : null}
    </Page>
  );
}
