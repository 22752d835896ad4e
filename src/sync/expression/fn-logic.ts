// Logic, null and type functions. IIF, Switch, Coalesce and SelectUniqueValue are lazy: only the
// chosen branch is evaluated.
import { evalError } from './ast.js';
import { type FunctionSpec, opt, p } from './spec.js';
import { DROP, int, isEmpty, isNullish, isSentinel, str, truthy, type Val } from './values.js';

export const logicFunctions: FunctionSpec[] = [
  {
    name: 'IIF',
    params: [p('condition', { type: 'Boolean' }), p('valueIfTrue'), p('valueIfFalse')],
    min: 3,
    max: 3,
    lazy: ([c, t, f], env) => {
      const cond = env.eval(c!);
      if (isSentinel(cond)) return cond;
      return env.eval(truthy(cond) ? t! : f!);
    },
    note:
      'A comparison whose operand is null or empty fails the evaluation (Entra: "the condition check fails"); the attribute is then not flowed.',
  },
  {
    name: 'Switch',
    params: [p('source'), opt('defaultValue'), p('key', { multiple: true }), p('value', { multiple: true })],
    min: 4,
    max: Number.POSITIVE_INFINITY,
    check: (args) => (args.length % 2 === 0 ? undefined : 'Switch needs its keys and values in pairs'),
    lazy: (args, env) => {
      const src = env.eval(args[0]!);
      if (isSentinel(src)) return src;
      const s = str(src, 'Switch') ?? '';
      for (let i = 2; i + 1 < args.length; i += 2) {
        const k = env.eval(args[i] ?? null);
        if (isSentinel(k)) return k;
        if ((str(k, 'Switch') ?? '') === s) return env.eval(args[i + 1] ?? null);
      }
      return env.eval(args[1] ?? null);
    },
    note: 'Case-sensitive; a null source matches the key "". An omitted default yields null.',
  },
  {
    name: 'Coalesce',
    params: [p('source', { multiple: true })],
    min: 1,
    max: Number.POSITIVE_INFINITY,
    lazy: (args, env) => {
      for (const a of args) {
        const v = env.eval(a);
        if (isSentinel(v) || !isNullish(v)) return v;
      }
      return null;
    },
    note: 'The first non-null value; "" counts as a value. The last argument acts as the default.',
  },
  { name: 'IsNull', params: [p('Expression')], min: 1, max: 1, strict: ([v]) => isNullish(v) },
  { name: 'IsNullOrEmpty', params: [p('Expression')], min: 1, max: 1, strict: ([v]) => isEmpty(v) },
  { name: 'IsPresent', params: [p('Expression')], min: 1, max: 1, strict: ([v]) => !isEmpty(v) },
  {
    name: 'IsString',
    params: [p('Expression')],
    min: 1,
    max: 1,
    strict: ([v]) => !isNullish(v) && (!Array.isArray(v) || v.length === 1),
  },
  {
    name: 'Not',
    params: [p('source', { type: 'Boolean' })],
    min: 1,
    max: 1,
    strict: ([v]) => !(v === true || (typeof v === 'string' && v.trim().toLowerCase() === 'true')),
    note: 'True when the input is not True (so a null input gives True).',
  },
  { name: 'CBool', params: [p('Expression')], min: 1, max: 1, strict: ([v]) => truthy(v) },
  { name: 'CStr', params: [p('value')], min: 1, max: 1, strict: ([v]) => str(v, 'CStr') },
  {
    name: 'BitAnd',
    params: [p('value1', { type: 'Integer' }), p('value2', { type: 'Integer' })],
    min: 2,
    max: 2,
    strict: ([a, b]) => Number(BigInt(int(a, 'BitAnd', 'value1')) & BigInt(int(b, 'BitAnd', 'value2'))),
  },
  {
    name: 'IgnoreFlowIfNullOrEmpty',
    params: [p('expression')],
    min: 1,
    max: 1,
    strict: ([v]) => (isEmpty(v) ? DROP : (v as Val)),
    note: 'A null or empty result leaves the target attribute out of the flow.',
  },
  {
    name: 'SelectUniqueValue',
    params: [p('uniqueValueRule', { multiple: true })],
    min: 2,
    max: Number.POSITIVE_INFINITY,
    lazy: (args, env) => {
      for (const a of args) {
        const v = env.eval(a);
        if (isSentinel(v)) return v;
        const s = str(v, 'SelectUniqueValue');
        if (s === null || s === '') continue;
        if (!env.ctx.isUnique || env.ctx.isUnique(s)) return s;
      }
      throw evalError('SelectUniqueValue: every rule gave a value that is already taken (or none).');
    },
    note: 'Top level only. Uniqueness comes from EvalContext.isUnique; without it the first rule with a value wins.',
  },
];
