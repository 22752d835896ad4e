// The Microsoft Entra bulk-create CSV: an optional `version:v1.0` line, a header row whose columns name
// their property in brackets (`Name [displayName] Required`), then one user per row.

export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (cell || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows.filter((r) => r.some((c) => c.trim()));
}

export interface BulkRow {
  line: number;
  body: Record<string, unknown>;
  problem: string | null;
}

export function bulkUsers(text: string): BulkRow[] {
  const rows = parseCsv(text.replace(/^\uFEFF/, ''));
  if (rows[0]?.[0]?.trim().toLowerCase().startsWith('version:')) rows.shift();
  const header = rows.shift() ?? [];
  const props = header.map((h) => /\[([A-Za-z]+)\]/.exec(h)?.[1] ?? h.trim());
  return rows.map((cells, i) => {
    const body: Record<string, unknown> = {};
    props.forEach((p, j) => {
      const v = (cells[j] ?? '').trim();
      if (!v) return;
      if (p === 'passwordProfile') body.passwordProfile = { password: v, forceChangePasswordNextSignIn: false };
      else if (p === 'accountEnabled') body.accountEnabled = !/^(yes|true)$/i.test(v); // the column is "Block sign in"
      else body[p] = v;
    });
    if (body.accountEnabled === undefined) body.accountEnabled = true;
    if (!body.mailNickname && typeof body.userPrincipalName === 'string') body.mailNickname = body.userPrincipalName.split('@')[0];
    const missing = ['displayName', 'userPrincipalName', 'passwordProfile'].filter((k) => !body[k]);
    return { line: i + 3, body, problem: missing.length ? `missing ${missing.join(', ')}` : null };
  });
}
