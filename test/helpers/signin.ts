// The authorize page driven the way a browser drives it: fetch the page (keeping its cookie), read the
// form's hidden fields, post them with a user name and password, and read the 302's Location without
// following it.
import { createHash, randomBytes } from 'node:crypto';

export interface SignInPage {
  status: number;
  headers: Headers;
  html: string;
  cookie?: string;
  fields: Record<string, string>;
  action?: string;
}

export async function openPage(url: string, cookie?: string): Promise<SignInPage> {
  const res = await fetch(url, { redirect: 'manual', ...(cookie ? { headers: { cookie } } : {}) });
  const html = await res.text();
  const set = res.headers.get('set-cookie');
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[m[1]!] = unescapeHtml(m[2]!);
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  const page: SignInPage = { status: res.status, headers: res.headers, html, fields };
  const c = set?.split(';')[0] ?? cookie;
  if (c) page.cookie = c;
  if (action) page.action = unescapeHtml(action);
  return page;
}

const unescapeHtml = (s: string) =>
  s.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!);

/** Posts the page's form; returns the status, the Location (a 302) and the body (a page again). */
export async function postPage(origin: string, page: SignInPage, fields: Record<string, string>, opts: { cookie?: string | null } = {}) {
  const cookie = opts.cookie === null ? undefined : (opts.cookie ?? page.cookie);
  const res = await fetch(`${origin}${page.action}`, {
    method: 'POST', redirect: 'manual', body: new URLSearchParams({ ...page.fields, ...fields }),
    headers: { ...(cookie ? { cookie } : {}) },
  });
  return { status: res.status, location: res.headers.get('location'), html: await res.text(), headers: res.headers };
}

/** The whole sign-in: page, post, and the Location it answered with. */
export async function signIn(origin: string, authorizeUrl: string, username: string, password: string) {
  const page = await openPage(authorizeUrl);
  if (page.status !== 200) throw new Error(`authorize page ${page.status}: ${page.html.slice(0, 300)}`);
  return postPage(origin, page, { username, password });
}

export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function authorizeUrl(origin: string, tenantId: string, params: Record<string, string>): string {
  return `${origin}/${tenantId}/oauth2/v2.0/authorize?${new URLSearchParams({ response_type: 'code', scope: 'openid profile offline_access User.Read', ...params })}`;
}
