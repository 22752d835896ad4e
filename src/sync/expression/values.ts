// Value model: everything is string-like, functions coerce. Booleans print .NET style ("True"/"False"),
// multi-valued attributes are arrays, null is "absent". Internal flow sentinels never leave the evaluator.
import { type ExprNode, type ExprValue, evalError } from './ast.js';

/** IgnoreAttributeFlow / IgnoreFlowIfNullOrEmpty: the target attribute is left out of this flow. */
export const DROP: unique symbol = Symbol('IgnoreAttributeFlow');
/** IgnoreObjectFlow: the whole object is skipped. */
export const SKIP: unique symbol = Symbol('IgnoreObjectFlow');
export type Val = ExprValue | typeof DROP | typeof SKIP;
export const isSentinel = (v: Val | undefined): v is typeof DROP | typeof SKIP => v === DROP || v === SKIP;

export interface EvalContext {
  /** Clock of Now(); nothing in the language reads the system clock. */
  now: Date;
  /** Uniform [0,1) source for Guid() and RandomString(); defaults to crypto. Inject for tests. */
  random?: () => number;
  /** Uniqueness oracle of SelectUniqueValue: true when no target object holds `value` yet. Without it
   *  the first rule with a value wins. Synchronous: the engine looks the candidates up beforehand. */
  isUnique?: (value: string) => boolean;
  /** Answer of DefaultDomain(): the target tenant's default verified domain. */
  defaultDomain?: string;
}

export type AttributeReader = (name: string) => ExprValue | undefined;

export interface Env {
  readonly read: AttributeReader;
  readonly ctx: EvalContext;
  eval(n: ExprNode | null): Val;
}

export const isNullish = (v: Val | undefined): v is null | undefined => v === null || v === undefined;
export const isEmpty = (v: Val | undefined) =>
  v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0);

/** One value as text; null stays null. A multi-valued input to a single-valued parameter is an
 *  evaluation error (Entra's functions take one value), except a one-element array. */
export function str(v: Val | undefined, fn: string): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (Array.isArray(v)) {
    if (v.length === 0) return null;
    if (v.length === 1) return str(v[0] as ExprValue, fn);
    throw evalError(`${fn} expects a single value but got ${v.length} values.`);
  }
  throw evalError(`${fn} cannot use this value here.`);
}

/** Text, with null read as "" (functions whose documented null rule is an empty string). */
export const text = (v: Val | undefined, fn: string) => str(v, fn) ?? '';

/** An integer parameter: decimal, `&H` hex, or their text. */
export function int(v: Val | undefined, fn: string, param: string): number {
  const s = str(v, fn);
  if (s !== null) {
    const t = s.trim();
    if (/^[+-]?\d{1,15}$/.test(t)) return Number(t);
    if (/^&[hH][0-9a-fA-F]{1,13}$/.test(t)) return Number.parseInt(t.slice(2), 16);
    if (/^[+-]?\d{1,15}\.0*$/.test(t)) return Number.parseInt(t, 10);
  }
  throw evalError(`${fn}: parameter '${param}' must be an integer, got ${s === null ? 'null' : `'${s}'`}.`);
}

export const intOr = (v: Val | undefined, fn: string, param: string, dflt: number) =>
  isNullish(v) || v === '' ? dflt : int(v, fn, param);

/** CBool's rule: true, "True" (any case) and non-zero numbers are true. */
export function truthy(v: Val | undefined): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') {
    const t = v.trim();
    if (t.toLowerCase() === 'true') return true;
    const n = Number(t);
    return t !== '' && !Number.isNaN(n) && n !== 0;
  }
  if (Array.isArray(v) && v.length === 1) return truthy(v[0] as ExprValue);
  return false;
}

/** Values of a possibly multi-valued input, nulls left out. */
export function many(v: Val | undefined): ExprValue[] {
  if (v === null || v === undefined || isSentinel(v)) return [];
  if (Array.isArray(v)) return (v as ExprValue[]).flatMap((x) => many(x));
  return [v as ExprValue];
}

/** Strings of every value of a list of Join-like inputs. */
export const manyText = (vals: readonly Val[], fn: string) =>
  vals.flatMap((v) => many(v)).map((x) => text(x, fn));

/** Values as Graph's parseExpression shows them: one string per value. */
export function toStrings(v: ExprValue): string[] {
  return many(v).map((x) => str(x, 'result') ?? '');
}
