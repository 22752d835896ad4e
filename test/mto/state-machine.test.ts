// The multi-tenant organization state machine as a table: every (target state × operation × caller
// standing) cell with its outcome, then the invariant edges (owners, creator, limit, other MTO).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errors } from '../../src/domain/errors.js';
import {
  type ActorStanding, type DecisionInput, decide, MAX_ACTIVE_TENANTS, mtoErrors, type Operation, type TargetState,
} from '../../src/domain/mto.js';

const OWNER = '11111111-1111-1111-1111-111111111111';
const expectedErrors = {
  denied: errors.denied(),
  noOrganization: mtoErrors.noOrganization(),
  alreadyAdding: mtoErrors.alreadyAdding(),
  beingRemoved: mtoErrors.beingRemoved(),
  companyNotFound: mtoErrors.companyNotFound(),
  notAddedByOwner: mtoErrors.notAddedByOwner(OWNER),
  alreadyMember: mtoErrors.alreadyMember(),
  lastOwner: mtoErrors.lastOwner(),
  creatorCannotBeRemoved: mtoErrors.creatorCannotBeRemoved(),
  ownerMustBeDemoted: mtoErrors.ownerMustBeDemoted(),
  inAnotherOrganization: mtoErrors.inAnotherOrganization(),
  limitReached: mtoErrors.limitReached(3),
  noFailedJoin: mtoErrors.noFailedJoin(),
};
type Expected = string; // an outcome, or `error:<key of expectedErrors>`

// A healthy organization: 3 active tenants, 2 of them owners; the target is a member added by an owner.
const base = (op: Operation, target: TargetState, actor: ActorStanding): DecisionInput => ({
  op, target, actor, targetRole: 'member', role: op === 'changeRole' ? 'owner' : 'member', activeOwners: 2, activeTenants: 3,
  addedByTenantId: OWNER, addedByIsOwner: true, joinerInOtherOrganization: false, joinFailed: true, targetIsCreator: false,
});

const states: TargetState[] = ['absent', 'pending', 'active', 'removed'];
const actors: ActorStanding[] = ['owner', 'member', 'nonMember'];
const ownerOnly = (owner: Record<TargetState, Expected>) => ({
  owner, member: { absent: 'error:denied', pending: 'error:denied', active: 'error:denied', removed: 'error:denied' },
  nonMember: { absent: 'error:noOrganization', pending: 'error:noOrganization', active: 'error:noOrganization', removed: 'error:noOrganization' },
});
const same = (row: Record<TargetState, Expected>) => ({ owner: row, member: row, nonMember: row });

const table: Record<Operation, Record<ActorStanding, Record<TargetState, Expected>>> = {
  add: ownerOnly({ absent: 'addPending', pending: 'error:alreadyAdding', active: 'error:alreadyAdding', removed: 'error:beingRemoved' }),
  join: same({ absent: 'error:notAddedByOwner', pending: 'activate', active: 'error:alreadyMember', removed: 'error:beingRemoved' }),
  changeRole: ownerOnly({ absent: 'error:companyNotFound', pending: 'setDesiredRole', active: 'setRole', removed: 'error:beingRemoved' }),
  removeSelf: {
    owner: { absent: 'error:noOrganization', pending: 'error:noOrganization', active: 'remove', removed: 'error:beingRemoved' },
    member: { absent: 'error:noOrganization', pending: 'error:noOrganization', active: 'remove', removed: 'error:beingRemoved' },
    nonMember: { absent: 'error:noOrganization', pending: 'error:noOrganization', active: 'error:noOrganization', removed: 'error:beingRemoved' },
  },
  removeOther: ownerOnly({ absent: 'error:companyNotFound', pending: 'remove', active: 'remove', removed: 'error:beingRemoved' }),
  reset: same({ absent: 'resetJoin', pending: 'resetJoin', active: 'resetJoin', removed: 'resetJoin' }),
};

function check(input: DecisionInput, expected: Expected) {
  const d = decide(input);
  if (expected.startsWith('error:')) {
    assert.equal(d.outcome, 'error', `expected ${expected}, got ${d.outcome}`);
    const want = expectedErrors[expected.slice(6) as keyof typeof expectedErrors];
    assert.ok(d.outcome === 'error');
    assert.equal(d.error.code, want.code);
    assert.equal(d.error.message, want.message);
    assert.equal(d.error.kind, want.kind);
  } else {
    assert.equal(d.outcome, expected);
  }
  return d;
}

describe('MTO state machine: every cell', () => {
  for (const op of Object.keys(table) as Operation[]) {
    for (const actor of actors) {
      for (const state of states) {
        const expected = table[op][actor][state];
        test(`${op} × target ${state} × caller ${actor} → ${expected}`, () => {
          check(base(op, state, actor), expected);
        });
      }
    }
  }
  test('the table covers 4 states × 6 operations × 3 standings', () => {
    assert.equal(Object.values(table).flatMap((a) => Object.values(a).flatMap((s) => Object.keys(s))).length, 72);
  });
});

describe('MTO state machine: invariants', () => {
  const cases: [string, Partial<DecisionInput> & Pick<DecisionInput, 'op' | 'target' | 'actor'>, Expected][] = [
    ['add as owner keeps the stored role member and wants owner', { op: 'add', target: 'absent', actor: 'owner', role: 'owner' }, 'addPending'],
    ['demoting the last active owner', { op: 'changeRole', target: 'active', actor: 'owner', targetRole: 'owner', role: 'member', activeOwners: 1 }, 'error:lastOwner'],
    ['demoting one of two owners', { op: 'changeRole', target: 'active', actor: 'owner', targetRole: 'owner', role: 'member', activeOwners: 2 }, 'setRole'],
    ['same role is a no-op', { op: 'changeRole', target: 'active', actor: 'owner', targetRole: 'owner', role: 'owner' }, 'noop'],
    ['last owner leaving while others remain', { op: 'removeSelf', target: 'active', actor: 'owner', activeOwners: 1 }, 'error:lastOwner'],
    ['last tenant leaving deletes the organization', { op: 'removeSelf', target: 'active', actor: 'owner', activeOwners: 1, activeTenants: 1 }, 'remove'],
    ['creator leaving while others remain', { op: 'removeSelf', target: 'active', actor: 'owner', targetIsCreator: true }, 'error:creatorCannotBeRemoved'],
    ['creator demoted to member still cannot be removed', { op: 'removeOther', target: 'active', actor: 'owner', targetIsCreator: true }, 'error:creatorCannotBeRemoved'],
    ['creator alone may leave', { op: 'removeSelf', target: 'active', actor: 'owner', targetIsCreator: true, activeTenants: 1 }, 'remove'],
    ['an owner is demoted before a peer removes it', { op: 'removeOther', target: 'active', actor: 'owner', targetRole: 'owner' }, 'error:ownerMustBeDemoted'],
    ['a pending owner-to-be can be removed', { op: 'removeOther', target: 'pending', actor: 'owner', targetRole: 'member' }, 'remove'],
    ['join named a tenant that is not an active owner', { op: 'join', target: 'pending', actor: 'nonMember', addedByIsOwner: false }, 'error:notAddedByOwner'],
    ['join while in another organization', { op: 'join', target: 'pending', actor: 'nonMember', joinerInOtherOrganization: true }, 'error:inAnotherOrganization'],
    ['join at the active-tenant limit', { op: 'join', target: 'pending', actor: 'nonMember', activeTenants: 3, maxActiveTenants: 3 }, 'error:limitReached'],
    ['join just under the limit', { op: 'join', target: 'pending', actor: 'nonMember', activeTenants: 2, maxActiveTenants: 3 }, 'activate'],
    ['reset with no failed join', { op: 'reset', target: 'pending', actor: 'nonMember', joinFailed: false }, 'error:noFailedJoin'],
  ];
  for (const [name, input, expected] of cases) {
    test(`${name} → ${expected}`, () => {
      check({ ...base(input.op, input.target, input.actor), ...input }, expected);
    });
  }

  test('removal outcomes say whether the organization goes', () => {
    const alone = decide({ ...base('removeSelf', 'active', 'owner'), activeTenants: 1, activeOwners: 1 });
    assert.deepEqual(alone, { outcome: 'remove', deletesOrganization: true });
    assert.deepEqual(decide(base('removeOther', 'active', 'owner')), { outcome: 'remove', deletesOrganization: false });
  });

  test('a join applies the desired role; an add records it in transitionDetails', () => {
    assert.deepEqual(decide({ ...base('join', 'pending', 'nonMember'), role: 'owner' }), { outcome: 'activate', role: 'owner' });
    const add = decide({ ...base('add', 'absent', 'owner'), role: 'owner' });
    assert.deepEqual(add, { outcome: 'addPending', transition: { desiredRole: 'owner', desiredState: 'active', status: 'notStarted', details: null } });
  });

  test('the default cap is Entra\'s 100 active tenants', () => {
    assert.equal(MAX_ACTIVE_TENANTS, 100);
    const { maxActiveTenants: _m, ...input } = { ...base('join', 'pending', 'nonMember'), activeTenants: 100 };
    const d = decide(input);
    assert.ok(d.outcome === 'error');
    assert.equal(d.error.message, mtoErrors.limitReached(100).message);
    assert.equal(decide({ ...input, activeTenants: 99 }).outcome, 'activate');
  });
});
