// The peers' people (gen-users.mjs, seed 42, 20 tenants' worth) as Graph user bodies for one openmto tenant.
//
// All generated people go into ONE tenant. The UPN is built from the generated uid and the tenant's
// own domain (`u0000042@<tenant domain>`), so no extra verified domains are needed; `mail` stays as
// generated (`given.surname.N@tNNN.example.com`), which is what the mail-prefix queries match, exactly as
// the OpenLDAP and SQLite peers see it.
import { type GenUser, loadGenerator } from './env.js';

export type UserBody = Record<string, unknown>;

export function graphBody(u: GenUser, domain: string, password?: string): UserBody {
  return {
    accountEnabled: u.extra.accountEnabled,
    displayName: u.displayName,
    givenName: u.given,
    surname: u.sn,
    mail: u.mail,
    mailNickname: u.uid,
    userPrincipalName: `${u.uid}@${domain}`,
    jobTitle: u.extra.jobTitle,
    department: u.extra.department,
    ...(password ? { passwordProfile: { password, forceChangePasswordNextSignIn: false } } : {}),
  };
}

/** Users `from`..`from+n-1` of the shared generator, 20 tenants as the peers use it. */
export async function makeBodies(from: number, n: number, domain: string, password?: string): Promise<UserBody[]> {
  const { makeUser } = await loadGenerator();
  const out = new Array<UserBody>(n);
  for (let k = 0; k < n; k++) out[k] = graphBody(makeUser(from + k, 20), domain, password);
  return out;
}
