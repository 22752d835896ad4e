// $filter on applications and service principals: the subset Graph's default queries allow on the
// properties this server indexes. `id` and `appId` by eq/in, `displayName` by eq/in/startsWith, joined
// with and/or. Anything else is Graph's Request_UnsupportedQuery, naming the property.
import { errors } from '../domain/errors.js';
import type { FilterNode, Literal, Path } from '../domain/odata.js';
import type { ObjectFilter } from '../store/repos/applications.js';

const fields = new Set(['id', 'appId', 'displayName']);

export function toObjectFilter(node: FilterNode, resource: 'Application' | 'ServicePrincipal'): ObjectFilter {
  const unsupported = (path: Path) =>
    errors.unsupportedQuery(`Unsupported or invalid query filter clause specified for property '${path.join('/')}' of resource '${resource}'.`);
  const field = (path: Path) => {
    const name = path.length === 1 ? path[0]! : '';
    if (!fields.has(name)) throw unsupported(path);
    return name as 'id' | 'appId' | 'displayName';
  };
  const text = (path: Path, v: Literal) => {
    if (v.kind === 'string' || v.kind === 'guid') return v.value;
    throw unsupported(path);
  };
  switch (node.kind) {
    case 'and':
    case 'or':
      return { kind: node.kind, parts: [toObjectFilter(node.left, resource), toObjectFilter(node.right, resource)] };
    case 'compare':
      if (node.op !== 'eq') throw unsupported(node.path);
      return { kind: 'match', field: field(node.path), op: 'eq', values: [text(node.path, node.value)] };
    case 'in':
      if (!node.values.length) throw unsupported(node.path);
      return { kind: 'match', field: field(node.path), op: 'eq', values: node.values.map((v) => text(node.path, v)) };
    case 'call':
      if (node.fn !== 'startsWith' || field(node.path) !== 'displayName') throw unsupported(node.path);
      return { kind: 'match', field: 'displayName', op: 'startsWith', values: [text(node.path, node.value)] };
    case 'not':
      throw errors.unsupportedQuery(`The 'not' operator is not supported in a filter on resource '${resource}'.`);
    case 'lambda':
      throw unsupported(node.collection);
  }
}
