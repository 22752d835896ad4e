// Scope decision: groups OR-ed, clauses inside a group AND-ed; no groups = everyone in scope.
import { DomainError } from '../../domain/errors.js';
import type { AttributeReader, ExprValue } from '../expression/index.js';
import { type OperatorSpec, operatorOf } from './operators.js';
import type { FilterClause, FilterGroup, ScopingFilter } from './types.js';

const text = (v: ExprValue): string | null => {
  if (v === null) return null;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return v;
  return null;
};

/** One clause against one attribute value. Null or empty ⇒ false, except IS_NULL (true). */
function clauseResult(op: OperatorSpec, v: ExprValue | undefined, value: string): boolean {
  const values = v === undefined || v === null ? [] : Array.isArray(v) ? (v as ExprValue[]) : [v as ExprValue];
  const texts = values.map(text).filter((t): t is string => t !== null && t !== '');
  if (op.name === 'IS_NULL') return texts.length === 0;
  if (texts.length === 0) return false;
  return texts.every((t) => op.test(t, value));
}

/** Entra's ScopeEvaluationResult key: "<group>.<attribute> <OPERATOR> '<value>'" (unary: no value). */
export const clauseKey = (group: FilterGroup, c: FilterClause, op: OperatorSpec | undefined) =>
  `${group.name}.${c.sourceOperandName} ${op?.name ?? c.operatorName}${
    op?.arity === 'Unary' ? '' : ` '${c.targetOperand.values[0] ?? ''}'`
  }`;

export function evaluateScope(
  f: ScopingFilter | null,
  read: AttributeReader,
): { inScope: boolean; results: Record<string, boolean> } {
  const results: Record<string, boolean> = {};
  if (!f || f.groups.length === 0) return { inScope: true, results };
  let inScope = false;
  for (const g of f.groups) {
    let all = true;
    for (const c of g.clauses) {
      const op = operatorOf(c.operatorName);
      if (!op) throw new DomainError('badRequest', 'ScopingFilter_UnknownOperator', `Unknown scoping operator '${c.operatorName}'.`);
      const ok = clauseResult(op, read(c.sourceOperandName), c.targetOperand.values[0] ?? '');
      results[clauseKey(g, c, op)] = ok;
      if (!ok) all = false;
    }
    if (all) inScope = true;
  }
  return { inScope, results };
}
