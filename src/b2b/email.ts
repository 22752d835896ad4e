// Invitation email addresses: the validation Graph's invitation manager applies, and the UPN and
// mailNickname a B2B user gets from its address (`alias_domain#EXT#`). Pure: no I/O, no clock.
import { DomainError } from '../domain/errors.js';

// Characters the invitation manager refuses anywhere in the address.
const DISALLOWED = new Set([...'~!#$%^&*()+=[]{}\\/|;:"<>?,']);
// RFC 5321 bounds: 64 for the local part, 255 for the domain; Graph's `mail` holds at most 256.
const MAX_LOCAL = 64;
const MAX_DOMAIN = 255;
const MAX_ADDRESS = 256;
// A domain label: letters (any script, for IDNs) and digits, inner hyphens, 1–63 characters.
const LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u;

const invalid = (email: string, reason: string) =>
  new DomainError('badRequest', 'Request_BadRequest', `The invited user email address '${email}' is not valid: ${reason}.`);

/** Throws Request_BadRequest naming the first rule the address breaks. */
export function validateInviteEmail(email: string): void {
  if (email.length === 0) throw invalid(email, 'it is empty');
  if (email.length > MAX_ADDRESS) throw invalid(email, `it is longer than ${MAX_ADDRESS} characters`);
  if (/\s/u.test(email)) throw invalid(email, 'it contains white space');
  const bad = [...email].find((c) => DISALLOWED.has(c));
  if (bad) throw invalid(email, `the character '${bad}' is not allowed`);
  const at = email.indexOf('@');
  if (at < 0 || at !== email.lastIndexOf('@')) throw invalid(email, "it must contain exactly one '@'");
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (!local) throw invalid(email, "nothing comes before the '@'");
  if (local.length > MAX_LOCAL) throw invalid(email, `the part before '@' is longer than ${MAX_LOCAL} characters`);
  if (/^[.-]|[.-]$/.test(local)) throw invalid(email, "the part before '@' must not start or end with '.' or '-'");
  if (local.includes('..')) throw invalid(email, "the part before '@' must not contain '..'");
  if (!domain || domain.length > MAX_DOMAIN) throw invalid(email, 'the domain is missing or too long');
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) {
    throw invalid(email, "the domain must be dot-separated labels of letters, digits and inner '-'");
  }
  if (/^\d+$/.test(labels.at(-1)!)) throw invalid(email, 'the top-level domain must not be numeric');
}

/** The domain of a (validated) address, lowercased. */
export const emailDomain = (email: string): string => email.slice(email.indexOf('@') + 1).toLowerCase();

// UPN local parts allow A-Z a-z 0-9 ' . - _ ! # ^ ~ (domain/user.ts); anything else an address may
// hold (a backtick, a non-ASCII letter) becomes '_', as Entra does for mail-derived names.
const UPN_UNSAFE = /[^A-Za-z0-9'._!^~-]/g;
const EXT = '#EXT#';
// A UPN local part and a mailNickname both hold at most 64 characters; the '#EXT#' marker takes 5.
const MAX_PREFIX = 64 - EXT.length;

/**
 * `alias_domain#EXT#` for an address: '@' becomes '_', unsafe characters become '_', and a long
 * address is cut to fit 64 characters. `attempt` > 0 appends a number before the marker, for when
 * the first form is taken (a cut-off collision, or a soft-deleted user still holding the UPN).
 */
export function b2bMailNickname(email: string, attempt = 0): string {
  const base = email.replace('@', '_').replace(UPN_UNSAFE, '_');
  const suffix = attempt > 0 ? String(attempt + 1) : '';
  return `${base.slice(0, MAX_PREFIX - suffix.length)}${suffix}${EXT}`;
}

/** The B2B UPN in the resource tenant: `alias_domain#EXT#@<tenant initial domain>`. */
export const b2bUserPrincipalName = (email: string, tenantDomain: string, attempt = 0): string =>
  `${b2bMailNickname(email, attempt)}@${tenantDomain}`;
