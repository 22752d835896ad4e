// The apps room's front door: applications, service principals and app role assignments, the objects
// a cross-tenant sync configuration stands on. Other rooms and the API import from here only.
export { requireAppsRead } from './access.js';
export {
  type ApplicationServicePrincipal, deleteApplication, getApplication, getApplicationTemplate, instantiateTemplate, listApplications,
  updateApplication,
} from './applications.js';
export { type AppRoleAssignment, createAssignment, deleteAssignment, listAssignedTo, listAssignmentsOf } from './assignments.js';
export type { AppsContext } from './context.js';
export {
  deleteServicePrincipal, getServicePrincipal, type ListInput, type ListPage, listServicePrincipals, updateServicePrincipal,
} from './servicePrincipals.js';
export {
  AZURE2AZURE_TEMPLATE_ID, allApplicationProperties, allServicePrincipalProperties, azure2AzureTemplate, DEFAULT_ACCESS_ROLE_ID,
  defaultApplicationSelect, defaultServicePrincipalSelect,
} from './template.js';
