// `openmto invite …`: the invitation manager from the command line, as the server operator. The same
// use case as POST /invitations; only allowInvitesFrom 'none' stops the operator. The redeem URL points
// at --origin, the address invitees reach this server at.
import { type Command, Option } from 'commander';
import { DEFAULT_PORT } from '../config.js';
import { dataOption, notFoundError, usageError, withTenant } from './common.js';
import { createInvitation, type Invitation } from '../b2b/invitations.js';
import { systemClock } from '../domain/clock.js';
import { usersRepo } from '../store/repos/users.js';
import type { Store } from '../store/store.js';

interface Common {
  tenant: string;
  redirect?: string;
  origin: string;
  json?: boolean;
  data: string;
}

const common = (cmd: Command) =>
  cmd
    .requiredOption('--tenant <tenant>', 'inviting (resource) tenant: id or domain')
    .option('--redirect <url>', 'where the invitee lands after redeeming (default: a page of this server)')
    .option('--origin <url>', 'public origin of this server, for the redeem URL', `https://localhost:${process.env.OPENMTO_PORT ?? DEFAULT_PORT}`)
    .option('--json', 'JSON output')
    .addOption(dataOption());

const inTenant = <T>(o: Common, fn: (store: Store, tenantId: string) => Promise<T>): Promise<T> =>
  withTenant(o.data, o.tenant, (store, t) => fn(store, t.id));

const print = (o: Common, inv: Invitation) => {
  const text = `${inv.invitedUserEmailAddress} → user ${inv.invitedUser.id} (${inv.invitedUserType}, ${inv.status})\nredeem URL: ${inv.inviteRedeemUrl}`;
  process.stdout.write(o.json ? `${JSON.stringify(inv, null, 2)}\n` : `${text}\n`);
};

const redirectFor = (o: Common) => o.redirect ?? new URL('/redeem/welcome', o.origin).toString();

export function registerInviteCommands(program: Command): void {
  const invite = common(program.command('invite').description('invite a user of another organization (B2B); no email is sent'))
    .option('--email <address>', 'address to invite')
    .addOption(new Option('--type <type>', 'userType of the B2B user').choices(['Guest', 'Member']).default('Guest'))
    .option('--name <displayName>', 'display name of the B2B user')
    .action(async (o: Common & { email?: string; type: string; name?: string }) => {
      if (!o.email) throw usageError("required option '--email <address>' not specified");
      const body = {
        invitedUserEmailAddress: o.email, inviteRedirectUrl: redirectFor(o), invitedUserType: o.type,
        ...(o.name ? { invitedUserDisplayName: o.name } : {}),
      };
      print(o, await inTenant(o, (store, tenantId) => createInvitation({ store, clock: systemClock }, tenantId, 'operator', body, o.origin)));
    });

  // Options given to `invite reset` are parsed by `invite` (commander reads parent options anywhere);
  // the subcommand adds only --user and reads the rest through optsWithGlobals.
  invite.command('reset').description("reset a B2B user's redemption: pending again, with a new redeem URL; --email defaults to the user's mail")
    .requiredOption('--user <user>', 'the B2B user: object id or UPN')
    .action(async (_o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<Common & { user: string; email?: string }>();
      const inv = await inTenant(o, async (store, tenantId) => {
        const user = await usersRepo.get(store.db, tenantId, o.user);
        if (!user) throw notFoundError(`user '${o.user}' does not exist in tenant '${o.tenant}'`);
        const email = o.email ?? (typeof user.user.mail === 'string' ? user.user.mail : undefined);
        if (!email) throw usageError('the user has no mail; pass --email');
        const body = { invitedUserEmailAddress: email, inviteRedirectUrl: redirectFor(o), resetRedemption: true, invitedUser: { id: user.user.id } };
        return createInvitation({ store, clock: systemClock }, tenantId, 'operator', body, o.origin);
      });
      print(o, inv);
    });
}
