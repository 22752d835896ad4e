import { useEffect, useRef, useState } from 'react';
import { ApiError, adviceOf, explain, graph, listAll } from '../api';
import type { Session } from '../auth';
import { Alert, Field, Page, Status, useAction, useLoad, when } from '../ui';

interface Job {
  id: string;
  templateId: string;
  schedule: { state: string; interval: string };
  status: {
    code: string;
    progress: { completedUnits: number; totalUnits: number; units: string }[];
    quarantine: { reason: string; currentBegan: string; nextAttempt: string | null; error: { code: string; message: string } | null } | null;
    lastExecution: { state: string; timeEnded: string; error: { code: string; message: string } | null } | null;
    lastSuccessfulExecution: { timeEnded: string } | null;
    synchronizedEntryCountByType: { key: string; value: number }[];
    steadyStateLastAchievedTime: string;
  };
}
interface Config {
  sp: { id: string; displayName: string };
  job: Job;
}

const base = (c: Config) => `/servicePrincipals/${c.sp.id}/synchronization/jobs/${encodeURIComponent(c.job.id)}`;

async function loadConfigs(): Promise<Config[]> {
  const sps = await listAll<{ id: string; displayName: string }>('/servicePrincipals?$select=id,displayName&$top=999');
  const out: Config[] = [];
  await Promise.all(
    sps.map(async (sp) => {
      // Only service principals with sync jobs answer with jobs; the others answer with none or refuse.
      const jobs = await graph<{ value: Job[] }>('GET', `/servicePrincipals/${sp.id}/synchronization/jobs`).catch(() => ({ value: [] }));
      for (const job of jobs.value) out.push({ sp, job });
    }),
  );
  return out.sort((a, b) => a.sp.displayName.localeCompare(b.sp.displayName));
}

function quarantineSentence(q: NonNullable<Job['status']['quarantine']>): string {
  const code = q.error?.code || q.reason;
  return `Quarantined since ${when(q.currentBegan)} (${q.reason}). ${explain(400, code, q.error?.message ?? '')}${q.nextAttempt ? ` Next automatic attempt: ${when(q.nextAttempt)}.` : ''}`;
}

function JobCard({ c, onChanged }: { c: Config; onChanged: () => Promise<void> }) {
  const act = useAction();
  const [subject, setSubject] = useState('');
  const [dry, setDry] = useState<{ counts: Record<string, number>; truncated: boolean } | null>(null);
  const s = c.job.status;
  const p = s.progress[0];
  const synced = s.synchronizedEntryCountByType.reduce((n, e) => n + e.value, 0);
  const headingId = `job-${c.job.id.replace(/[^a-z0-9]/gi, '')}`;
  const op = (label: string, path: string, body: unknown, done: string) => (
    <button
      type="button"
      disabled={act.busy}
      onClick={() =>
        act.run(async () => {
          await graph('POST', `${base(c)}${path}`, body);
          await onChanged();
          return done;
        })
      }
    >
      {label}
    </button>
  );
  return (
    <article className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>{c.sp.displayName}</h2>
      <dl className="facts">
        <dt>Status</dt>
        <dd>
          <span className={`badge status-${s.code}`}>{s.code}</span> (schedule {c.job.schedule.state})
        </dd>
        <dt>Users in sync</dt>
        <dd>{synced}</dd>
        <dt>Last cycle</dt>
        <dd>
          {s.lastExecution ? `${s.lastExecution.state}, ${when(s.lastExecution.timeEnded)}` : 'never ran'}
        </dd>
        <dt>Steady state reached</dt>
        <dd>{when(s.steadyStateLastAchievedTime)}</dd>
      </dl>
      {p ? (
        <div className="progress">
          <label htmlFor={`${headingId}-progress`}>
            Initial cycle: {p.completedUnits} of {p.totalUnits} {p.units.toLowerCase()}
          </label>
          <progress id={`${headingId}-progress`} max={Math.max(1, p.totalUnits)} value={p.completedUnits} />
        </div>
      ) : null}
      {s.quarantine ? <Alert message={quarantineSentence(s.quarantine)} /> : null}
      {s.lastExecution?.error && !s.quarantine ? <p className="warn">Last error: {explain(400, s.lastExecution.error.code, s.lastExecution.error.message)}</p> : null}
      <fieldset className="actions">
        <legend className="sr-only">Actions for {c.sp.displayName}</legend>
        {op('Start', '/start', undefined, 'Job started.')}
        {op('Pause', '/pause', undefined, 'Job paused.')}
        {op('Restart', '/restart', { criteria: { resetScope: '' } }, 'Job restarted: the next cycle reads everything again.')}
        {s.quarantine?.reason === 'TooManyDeletes'
          ? op('Allow deletes', '/restart', { criteria: { resetScope: 'ForceDeletes' } }, 'Deletions allowed once; the job goes on.')
          : null}
        <button
          type="button"
          disabled={act.busy}
          onClick={() =>
            act.run(async () => {
              const r = await graph<{ counts: Record<string, number>; truncated: boolean }>('POST', `${base(c)}/dryRun`);
              setDry(r);
              return 'Dry run finished; nothing was changed.';
            })
          }
        >
          Dry run
        </button>
      </fieldset>
      {dry ? (
        <table>
          <caption>What a cycle would do now (dry run)</caption>
          <thead>
            <tr>
              {Object.keys(dry.counts).map((k) => (
                <th scope="col" key={k}>{k}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            <tr>
              {Object.entries(dry.counts).map(([k, v]) => (
                <td key={k}>{v}</td>
              ))}
            </tr>
          </tbody>
        </table>
      ) : null}
      <form
        className="inline"
        onSubmit={(e) => {
          e.preventDefault();
          void act.run(async () => {
            let id = subject.trim();
            if (!id) throw new Error('Type the user principal name or id of a user of this tenant.');
            if (id.includes('@')) id = (await graph<{ id: string }>('GET', `/users/${encodeURIComponent(id)}?$select=id`)).id;
            const r = await graph<{ value: { key: string; value: string }[] | { key: string; value: string } }>('POST', `${base(c)}/provisionOnDemand`, {
              parameters: [{ ruleId: 'USER_INBOUND_USER', subjects: [{ objectId: id, objectTypeName: 'User' }] }],
            });
            const item = Array.isArray(r.value) ? r.value[0] : r.value;
            const v = JSON.parse(item?.value ?? '{}') as { result?: string; action?: string; details?: { errorMessage?: string } };
            if (v.result === 'Failure') throw new Error(`Provisioning ${subject} failed: ${v.details?.errorMessage ?? 'no reason given'}`);
            await onChanged();
            return `Provision on demand: ${v.result ?? 'done'} (${v.action ?? 'no action'}).`;
          });
        }}
      >
        <Field label="Provision one user now (UPN or id)">
          {(id) => <input id={id} value={subject} onChange={(e) => setSubject(e.target.value)} />}
        </Field>
        <button type="submit" disabled={act.busy}>Provision on demand</button>
      </form>
      <Alert message={act.error} />
      <Status message={act.status} />
    </article>
  );
}

function ExpressionTester({ c }: { c: Config | undefined }) {
  const [expression, setExpression] = useState('Join("@", [mailNickname], "contoso.com")');
  const [input, setInput] = useState('mailNickname=annie');
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (!c) return null;
  return (
    <section aria-labelledby="expr-title">
      <h2 id="expr-title">Test an expression</h2>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          setResult(null);
          try {
            const properties = input.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
              const i = l.indexOf('=');
              return { key: i < 0 ? l : l.slice(0, i).trim(), value: i < 0 ? '' : l.slice(i + 1) };
            });
            const r = await graph<{ parsingSucceeded: boolean; evaluationSucceeded: boolean; evaluationResult: string[]; error: { message: string } | null }>(
              'POST', `${base(c)}/schema/parseExpression`, { expression, testInputObject: { definition: null, properties }, targetAttributeDefinition: null });
            if (!r.parsingSucceeded || !r.evaluationSucceeded) setError(`The expression ${r.parsingSucceeded ? 'could not be evaluated' : 'does not parse'}: ${r.error?.message ?? 'no detail'}. Correct it and test again.`);
            else setResult(r.evaluationResult.length ? r.evaluationResult.join(', ') : '(no value: the attribute would be left empty)');
          } catch (err) {
            setError(err instanceof ApiError ? err.advice : adviceOf(err));
          }
        }}
      >
        <Field label="Expression">{(id) => <input id={id} className="mono wide" value={expression} onChange={(e) => setExpression(e.target.value)} />}</Field>
        <Field label="Test input, one attribute=value per line">
          {(id) => <textarea id={id} className="mono" rows={3} value={input} onChange={(e) => setInput(e.target.value)} />}
        </Field>
        <button type="submit">Test expression</button>
      </form>
      <Alert message={error} />
      <Status message={result ? `Result: ${result}` : null} />
    </section>
  );
}

/** Every 10th poll lists the service principals again (new or deleted jobs); the others read the known jobs. */
const FULL_EVERY = 10;

export function SyncPage(_: { session: Session }) {
  const last = useRef<Config[] | null>(null);
  const polls = useRef(0);
  const data = useLoad(async () => {
    const prev = last.current;
    let next: Config[];
    if (!prev?.length || polls.current++ % FULL_EVERY === 0) next = await loadConfigs();
    else {
      try {
        next = await Promise.all(prev.map(async (c) => ({ sp: c.sp, job: await graph<Job>('GET', base(c)) })));
      } catch {
        next = await loadConfigs(); // a job went away: list again
      }
    }
    last.current = next;
    return next;
  });
  // Poll while the page is open so progress and quarantine show without a reload; 1.5 s keeps a cycle's
  // progress visible at one GET per job.
  useEffect(() => {
    const t = setInterval(() => {
      if (document.visibilityState === 'visible') void data.reload();
    }, 1500);
    return () => clearInterval(t);
  }, [data.reload]);
  const configs = data.data ?? [];
  return (
    <Page title="Sync jobs" intro="Cross-tenant synchronization jobs of this tenant: status, progress, quarantine, and what you can do about them.">
      <Alert message={data.error} />
      <Status message={data.data === null && data.loading ? 'Loading…' : `${configs.length} job${configs.length === 1 ? '' : 's'}`} />
      {data.data && !configs.length ? <p>This tenant has no sync jobs. Share people (Sharing page) to create them.</p> : null}
      {configs.map((c) => (
        <JobCard key={c.job.id} c={c} onChanged={data.reload} />
      ))}
      <ExpressionTester c={configs[0]} />
    </Page>
  );
}
