import { useState } from 'react';
import { graph } from '../api';
import type { Session } from '../auth';
import { Alert, Field, Page, Status, useAction } from '../ui';

interface Person {
  id: string;
  displayName: string | null;
  userPrincipalName: string | null;
  jobTitle: string | null;
  department: string | null;
  scoredEmailAddresses: { address: string }[];
  personType: { class: string; subclass: string };
}

export function PeoplePage({ session }: { session: Session }) {
  const [q, setQ] = useState('');
  const [people, setPeople] = useState<Person[] | null>(null);
  const act = useAction();
  return (
    <Page title="People search" intro={`Search people as ${session.name || session.upn} finds them in this tenant, B2B members from the other tenants included.`}>
      <form
        aria-label="Search people"
        onSubmit={(e) => {
          e.preventDefault();
          void act.run(async () => {
            if (!q.trim()) throw new Error('Type part of a name or an address to search for.');
            const r = await graph<{ value: Person[] }>('GET', `/me/people?$search=${encodeURIComponent(q.trim())}&$top=25`);
            setPeople(r.value);
            return `${r.value.length} ${r.value.length === 1 ? 'person' : 'people'} found for “${q.trim()}”.`;
          });
        }}
      >
        <Field label="Name or address">{(id) => <input id={id} type="search" value={q} onChange={(e) => setQ(e.target.value)} />}</Field>
        <button type="submit" disabled={act.busy}>Search</button>
      </form>
      <Alert message={act.error} />
      <Status message={act.status} />
      {people?.length ? (
        <table>
          <caption>People found</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Address</th>
              <th scope="col">Kind</th>
              <th scope="col">Job title</th>
            </tr>
          </thead>
          <tbody>
            {people.map((p) => (
              <tr key={p.id}>
                <th scope="row">{p.displayName}</th>
                <td>{p.scoredEmailAddresses[0]?.address ?? p.userPrincipalName}</td>
                <td>{p.personType.subclass === 'ExternalMember' ? 'B2B member (other tenant)' : p.personType.subclass === 'OrganizationUser' ? 'this tenant' : p.personType.subclass}</td>
                <td>{p.jobTitle ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : people ? (
        <p>Nobody found. People shared from other tenants appear once their sync job has provisioned them (Sync jobs page).</p>
      ) : null}
    </Page>
  );
}
