/** The commands that talk to a deployed stack (issue 7); each file holds one. */
export { cancelCommand } from './cancel-command.js';
export { jobsCommand } from './jobs-command.js';
export { resultsCommand } from './results-command.js';
export { retryCommand } from './retry-command.js';
export { statusCommand } from './status-command.js';
export { submitCommand } from './submit-command.js';
