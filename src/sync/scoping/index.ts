// Scoping filters' front door: what the sync engine and the Graph routes may use.
export { clauseKey, evaluateScope } from './evaluate.js';
export { type FilterOperatorSchema, filterOperators } from './operators.js';
export {
  type FilterClause,
  type FilterGroup,
  MAX_CLAUSES,
  MAX_GROUPS,
  MAX_VALUE_LENGTH,
  MAX_VALUES,
  type ScopingFilter,
  scopingFilterSchema,
} from './types.js';
export { validateScopingFilter } from './validate.js';
