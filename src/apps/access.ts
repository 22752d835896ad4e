// Who may read and change applications, service principals and their assignments. Apps need Graph's
// application permissions; signed-in users need an application admin role to write, and the member
// read level (not a guest's) to read.
import { type Actor, requireAppPermission } from '../directory/access.js';
import { errors } from '../domain/errors.js';
import { appAdminRoles } from '../identity/permissions.js';

const isAppAdmin = (actor: Actor) => actor.user?.roles.some((r) => appAdminRoles.has(r)) ?? false;

/** Reading applications and service principals. */
export function requireAppsRead(actor: Actor): void {
  requireAppPermission(actor, 'Application.Read.All', 'Directory.Read.All');
  if (actor.principal.kind === 'user' && actor.readLevel !== 'all' && !isAppAdmin(actor)) throw errors.denied();
}

/** Creating, changing and deleting applications and service principals. */
export function requireAppsWrite(actor: Actor): void {
  if (actor.principal.kind === 'app') requireAppPermission(actor, 'Application.ReadWrite.All', 'Directory.ReadWrite.All');
  else if (!isAppAdmin(actor)) throw errors.denied();
}

/** Assigning users and groups to a service principal, and removing them. */
export function requireAssignmentWrite(actor: Actor): void {
  if (actor.principal.kind === 'app') requireAppPermission(actor, 'AppRoleAssignment.ReadWrite.All', 'Application.ReadWrite.All', 'Directory.ReadWrite.All');
  else if (!isAppAdmin(actor)) throw errors.denied();
}

/** Listing assignments: of a service principal, or of a user or group (`also`: User.Read.All / Group.Read.All). */
export function requireAssignmentRead(actor: Actor, also?: string, self = false): void {
  requireAppPermission(actor, 'Application.Read.All', 'AppRoleAssignment.ReadWrite.All', 'Directory.Read.All', ...(also ? [also] : []));
  if (actor.principal.kind === 'user' && !self && actor.readLevel !== 'all' && !isAppAdmin(actor)) throw errors.denied();
}
