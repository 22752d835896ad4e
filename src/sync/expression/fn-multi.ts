// Multi-valued, role and cross-tenant functions. They work on what the attribute reader returns:
// the engine hands `appRoleAssignments` as an array (strings, or JSON texts of {id, value, displayName}).
import { evalError } from './ast.js';
import { type FunctionSpec, p } from './spec.js';
import { int, many, str } from './values.js';

const roles = (name: string, note: string): FunctionSpec => ({
  name,
  params: [p('source')],
  min: 1,
  max: 1,
  strict: ([v]) => {
    const all = many(v);
    return all.length ? all : null;
  },
  note,
});

export const multiFunctions: FunctionSpec[] = [
  {
    name: 'Count',
    params: [p('attribute')],
    min: 1,
    max: 1,
    strict: ([v]) => many(v).length,
    note: 'A null attribute counts 0; a single value counts 1.',
  },
  {
    name: 'Item',
    params: [p('attribute'), p('index', { type: 'Integer' })],
    min: 2,
    max: 2,
    strict: ([v, i]) => {
      const k = int(i, 'Item', 'index');
      if (k < 1) throw evalError('Item: index is 1-based; 0 and negative indexes are not allowed.');
      return many(v)[k - 1] ?? null;
    },
    note: 'index is 1-based; out of range gives null.',
  },
  {
    name: 'RemoveDuplicates',
    params: [p('attribute')],
    min: 1,
    max: 1,
    strict: ([v]) => {
      const seen = new Set<string>();
      const out = many(v).filter((x) => {
        const k = str(x, 'RemoveDuplicates') ?? '';
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
      return out.length ? out : null;
    },
    note: 'Ordinal (case-sensitive) comparison; the first occurrence stays.',
  },
  {
    name: 'SingleAppRoleAssignment',
    params: [p('appRoleAssignments')],
    min: 1,
    max: 1,
    strict: ([v]) => many(v)[0] ?? null,
    note: 'The first assignment the reader returns (Entra: undefined which one when there are several).',
  },
  roles(
    'AppRoleAssignmentsComplex',
    'All assignments as read; the engine shapes them into roles[] and never removes roles on update.',
  ),
  roles(
    'AssertiveAppRoleAssignmentsComplex',
    'All assignments as read; the engine replaces roles[] on update (removes roles not assigned).',
  ),
  roles('AppRoleAssignments', 'All assignments as read (listed by Graph, undocumented).'),
  {
    name: 'DefaultDomain',
    params: [],
    min: 0,
    max: 0,
    strict: (_, env) => env.ctx.defaultDomain ?? null,
    note: "The target tenant's default domain from EvalContext.defaultDomain; null when the engine gives none.",
  },
  {
    name: 'AltSecIdFromNetId',
    params: [p('netId')],
    min: 1,
    max: 1,
    strict: ([v]) => {
      const s = str(v, 'AltSecIdFromNetId')?.trim().toLowerCase();
      return s ? s : null;
    },
    note:
      "Cross-tenant sync's fixed matching mapping. Evaluates to the source user's netId trimmed and lower-cased (netIds are hexadecimal PUIDs or GUIDs, so case carries no meaning); the engine stores and matches it as the B2B user's alternativeSecurityId key. Null when the user has no netId.",
  },
];
