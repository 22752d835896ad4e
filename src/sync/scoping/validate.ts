// Checks a scoping filter an admin saves: known operator, the operator's arity, usable values
// (regexes compile on RE2, integer operators get integers). A 400 names the bad clause.
import { DomainError } from '../../domain/errors.js';
import { operatorOf } from './operators.js';
import type { FilterGroup, ScopingFilter } from './types.js';

const fail = (where: string, message: string) =>
  new DomainError('badRequest', 'ScopingFilter_Invalid', `Scoping filter ${where}: ${message}.`);

function validateGroups(kind: string, groups: FilterGroup[]) {
  groups.forEach((g, gi) => {
    if (g.clauses.length === 0) throw fail(`${kind}[${gi}] '${g.name}'`, 'a group needs at least one clause');
    g.clauses.forEach((c, ci) => {
      const where = `${kind}[${gi}] '${g.name}', clause ${ci + 1} (${c.sourceOperandName} ${c.operatorName})`;
      const op = operatorOf(c.operatorName);
      if (!op) throw fail(where, `unknown operator '${c.operatorName}'`);
      const values = c.targetOperand.values;
      if (op.arity === 'Unary') {
        if (values.length > 1 || (values.length === 1 && values[0] !== '')) {
          throw fail(where, `${op.name} takes no value`);
        }
        return;
      }
      if (values.length !== 1) throw fail(where, `${op.name} takes exactly one value, got ${values.length}`);
      const why = op.checkValue?.(values[0]!);
      if (why) throw fail(where, why.replace(/\.$/, ''));
    });
  });
}

export function validateScopingFilter(f: ScopingFilter): void {
  validateGroups('groups', f.groups);
  validateGroups('inputFilterGroups', f.inputFilterGroups);
  validateGroups('categoryFilterGroups', f.categoryFilterGroups);
}
