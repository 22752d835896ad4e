// `Examples:` for every command's --help, in one place so they stay consistent (and a test walks the
// command tree to check that no command lacks them). Domains are the demo tenants'.
import type { Command } from 'commander';

const A = 'tenanta.openmto.test';
const B = 'tenantb.openmto.test';

export const EXAMPLES: Record<string, string[]> = {
  version: ['openmto version'],
  serve: ['openmto serve', 'openmto serve --port 8443 --host 0.0.0.0 --no-demo', 'OPENMTO_DATABASE_URL=postgres://… openmto serve'],
  'tenant create': ['openmto tenant create --name Fabrikam --domain fabrikam.example', 'openmto tenant create --name Fabrikam --json | jq -r .adminApp.clientSecret'],
  'tenant list': ['openmto tenant list', 'openmto tenant list --json'],
  'tenant delete': ['openmto tenant delete fabrikam.example'],
  'app create': [`openmto app create --tenant ${A} --name reporting --permission User.Read.All AuditLog.Read.All`, `openmto app create --tenant ${A} --name console --public`],
  'users list': [`openmto users list --tenant ${A}`, `openmto users list --tenant ${B} --type guest --json`],
  'users show': [`openmto users show annie@${A} --tenant ${A}`],
  'users convert': [`openmto users convert 'annie_tenanta.openmto.test#EXT#@${B}' --tenant ${B} --to Member`],
  'users import': [`openmto users import --tenant ${A} --file users.jsonl`],
  'groups list': [`openmto groups list --tenant ${A}`],
  'groups show': [`openmto groups show <group id> --tenant ${A}`],
  'groups members': [`openmto groups members <group id> --tenant ${A} --json`],
  'people search': [`openmto people search --tenant ${B} --as bob@${B} ann`, `openmto people search --tenant ${B} --as bob@${B} "" --top 50`],
  import: [
    `openmto import users.csv --tenant ${A} --dry-run`,
    `openmto import users.csv --tenant ${A} --passwords-out passwords.csv`,
    `openmto import users.csv --tenant ${A} --continue-on-error --json`,
  ],
  export: [`openmto export --tenant ${A} --out users.csv`, `openmto export --tenant ${B} --type guest --format json > guests.json`],
  'policy partner add': [`openmto policy partner add ${B} --tenant ${A}`],
  'policy partner show': [`openmto policy partner show ${B} --tenant ${A} --json`],
  'policy partner set': [`openmto policy partner set ${A} --tenant ${B} --auto-redeem-inbound true`, `openmto policy partner set ${B} --tenant ${A} --body @partner.json`],
  'policy partner remove': [`openmto policy partner remove ${B} --tenant ${A}`],
  'policy sync allow': [`openmto policy sync allow ${A} --tenant ${B}`],
  'policy sync deny': [`openmto policy sync deny ${A} --tenant ${B}`, `openmto policy sync deny ${A} --tenant ${B} --remove`],
  'policy sync show': [`openmto policy sync show ${A} --tenant ${B}`],
  'policy authorization show': [`openmto policy authorization show --tenant ${A}`],
  'policy authorization set': [`openmto policy authorization set --tenant ${A} --guest-role restricted`, `openmto policy authorization set --tenant ${A} --invites-from none`],
  'mto create': [`openmto mto create --tenant ${A} --name Contoso`],
  'mto add': [`openmto mto add --tenant ${A} --member ${B}`, `openmto mto add --tenant ${A} --member ${B} --role owner`],
  'mto join': [`openmto mto join --tenant ${B} --owner ${A}`],
  'mto leave': [`openmto mto leave --tenant ${B}`],
  'mto show': [`openmto mto show --tenant ${A}`, `openmto mto show --tenant ${A} --json`],
  'mto pending': [`openmto mto pending --tenant ${A}`],
  'mto set-role': [`openmto mto set-role --tenant ${A} --member ${B} --role owner`],
  'mto remove': [`openmto mto remove --tenant ${A} --member ${B}`],
  invite: [`openmto invite --tenant ${A} --email someone@partner.example`, `openmto invite --tenant ${A} --email someone@partner.example --type Member --name "Some One"`],
  'invite reset': [`openmto invite reset --tenant ${A} --user 'someone_partner.example#EXT#@${A}'`],
  backup: ['openmto backup openmto-backup.db'],
  restore: ['openmto restore openmto-backup.db --data ./restored', 'openmto restore openmto-backup.db --force'],
  'sync create': [`openmto sync create --tenant ${A} --target ${B} --name "A to B"`, `openmto sync create --tenant ${A} --target ${B} --sync-all --delete-threshold 50`],
  'sync assign': [`openmto sync assign --tenant ${A} --config "A to B" --user annie@${A}`, `openmto sync assign --tenant ${A} --config "A to B" --group <group id>`],
  'sync start': [`openmto sync start --tenant ${A} --config "A to B"`, `openmto sync start --tenant ${A} --config "A to B" --wait --timeout 300`],
  'sync pause': [`openmto sync pause --tenant ${A} --config "A to B"`],
  'sync restart': [`openmto sync restart --tenant ${A} --config "A to B"`, `openmto sync restart --tenant ${A} --config "A to B" --scope Full --wait`],
  'sync allow-deletes': [`openmto sync allow-deletes --tenant ${A} --config "A to B" --wait`],
  'sync on-demand': [`openmto sync on-demand --tenant ${A} --config "A to B" --user annie@${A}`],
  'sync validate': [`openmto sync validate --tenant ${A} --config "A to B"`],
  'sync dry-run': [`openmto sync dry-run --tenant ${A} --config "A to B"`],
  'sync status': [`openmto sync status --tenant ${A}`, `openmto sync status --tenant ${A} --config "A to B" --watch`],
  'sync logs': [`openmto sync logs --tenant ${A} --config "A to B" --status failure --details`, `openmto sync logs --tenant ${A} --config "A to B" --user annie@${A} --action create --json`],
  'sync log': [`openmto sync log <entry id> --tenant ${A} --config "A to B"`],
  'sync test-expression': [`openmto sync test-expression --expression 'Join("@", [mailNickname], "contoso.com")' --input mailNickname=annie`],
  worker: ['OPENMTO_DATABASE_URL=postgres://… openmto worker'],
  'share show': [`openmto share show --tenant ${A}`],
  'share set': [`openmto share set --tenant ${A} --user annie@${A} --group <group id>`],
  'share add': [`openmto share add --tenant ${A} --user bob@${A}`],
  'share remove': [`openmto share remove --tenant ${A} --user bob@${A}`],
  readiness: [],
};

export const pathOf = (c: Command): string => {
  const names: string[] = [];
  for (let x: Command | null = c; x?.parent; x = x.parent) names.unshift(x.name());
  return names.join(' ');
};

/** Adds the examples to every command that runs something (readiness writes its own). */
export function addExamples(program: Command): void {
  const walk = (c: Command) => {
    const lines = EXAMPLES[pathOf(c)];
    if (lines?.length) c.addHelpText('after', `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}`);
    c.commands.forEach(walk);
  };
  program.commands.forEach(walk);
}
