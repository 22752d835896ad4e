// The collaboration room's front door: share users (MTO_Sync_* configurations), people search, readiness.
export { editSharing, getSharing, type ScopeEdit, type SharingView } from './share.js';
export {
  configurationName, MTO_SYNC_PREFIX, reconcileAllSharing, reconcileOrganizationSharing, reconcileSharing, type ShareConfiguration, type ShareContext,
} from './shareReconcile.js';
export { DEFAULT_PEOPLE_TOP, MAX_PEOPLE_TOP, MAX_PEOPLE_WINDOW, personProperties, personPropertySet, searchPeople, type Person, type PeopleQuery } from './people.js';
export { cellStates, type CellState, readinessCsv, readinessReport, type ReadinessReport, resolveOrganization } from './readiness.js';
export { type Explanation, explainReadiness } from './readinessExplain.js';
