// `openmto readiness`: the organization's collaborating user set against its tenants, as a table (or JSON,
// or CSV), and why one user does not find another; the same use cases as /operator/v1/organizations/{id}/readiness.
import type { Command } from 'commander';
import { explainReadiness, type ReadinessReport, readinessCsv, readinessReport } from '../collaboration/index.js';
import { dataOption, out, usageError, withStore } from './common.js';

type Options = { tenant: string; json?: boolean; csv?: boolean; explain?: string[]; data: string };

const SHORT: Record<string, string> = {
  home: 'home', b2bMember: 'member', b2bMemberPendingRedemption: 'pending', b2bGuest: 'GUEST', hiddenFromAddressList: 'HIDDEN',
  disabled: 'DISABLED', softDeleted: 'DELETED', missing: 'MISSING',
};

const pad = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));

/** People down, tenants across; lower-case cells are found by people search, upper-case ones are not. */
export function readinessTable(r: ReadinessReport): string {
  const width = 12;
  const nameWidth = Math.min(40, Math.max(8, ...r.people.map((p) => (p.displayName ?? p.userPrincipalName).length)) + 2);
  const cell = new Map(r.cells.map((c) => [`${c.personId}/${c.tenantId}`, c]));
  const lines = [`${r.displayName} (${r.mtoId}): ${r.people.length} people, ${r.tenants.length} tenants`, ''];
  lines.push(pad('person', nameWidth) + r.tenants.map((t) => pad(t.displayName, width)).join(' '));
  for (const p of r.people) {
    lines.push(pad(p.displayName ?? p.userPrincipalName, nameWidth) + r.tenants.map((t) => {
      const c = cell.get(`${p.id}/${t.tenantId}`);
      return pad(c ? `${SHORT[c.state] ?? c.state}${c.findable ? '' : ' ✗'}` : '-', width);
    }).join(' '));
  }
  lines.push(pad('coverage', nameWidth) + r.tenants.map((t) => pad(`${(t.coverage * 100).toFixed(0)}% ${t.findable}/${t.people}`, width)).join(' '));
  lines.push('', '✗: not found by people search in that tenant. Explain one: openmto readiness --tenant <tenant> --explain <searcher> <person>');
  return lines.join('\n');
}

export function registerReadinessCommands(program: Command): void {
  program.command('readiness').description("the organization's collaborating user set in every tenant: represented, findable by people search, and why not")
    .requiredOption('--tenant <tenant>', 'any member tenant (id or domain), or the organization id')
    .option('--json', 'JSON output').option('--csv', 'CSV output (one row per person and tenant)')
    .option('--explain <users...>', 'why SEARCHER (user id or UPN) does not find PERSON (user id or UPN)')
    .addOption(dataOption())
    .addHelpText('after', `
Examples:
  openmto readiness --tenant tenanta.openmto.test
  openmto readiness --tenant tenanta.openmto.test --csv > readiness.csv
  openmto readiness --tenant tenanta.openmto.test --explain annie@tenanta.openmto.test bob@tenantb.openmto.test`)
    .action(async (o: Options) => {
      if (o.explain && o.explain.length !== 2) throw usageError('--explain takes two users: SEARCHER PERSON');
      if (o.explain) {
        const [searcher, person] = o.explain as [string, string];
        const e = await withStore(o.data, (store) => explainReadiness(store.db, o.tenant, searcher, person));
        out(o.json, e, () => [`${e.searcher.userPrincipalName} ${e.canFind ? 'finds' : 'does not find'} ${e.person.displayName ?? e.person.userPrincipalName} `
          + `in ${e.searcher.tenant} (${e.state})`, ...e.reasons.map((r) => `  - ${r}`)].join('\n'));
        return;
      }
      const r = await withStore(o.data, (store) => readinessReport(store.db, o.tenant));
      if (o.csv) {
        process.stdout.write(readinessCsv(r));
        return;
      }
      out(o.json, r, () => readinessTable(r));
    });
}
