/**
 * The unit project runs without Python, a browser or the built CLI (vitest.config.ts).
 * What needs one of them calls {@link requireIntegrationProject} first, so a test file
 * that the naming rule puts in the unit project fails at once, naming the rule, instead
 * of pulling a slow tool into the fast run.
 */
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The vitest project the test file runs in. */
    testProject: 'unit' | 'integration';
    /** The file-name patterns that put a test file in the integration project. */
    integrationFiles: string[];
  }
}

/** Throws when called from the unit project: `what` (moto, Chromium, the built CLI) needs the integration project. */
export function requireIntegrationProject(what: string): void {
  if (inject('testProject') !== 'unit') return;
  throw new Error(
    `${what} runs only in the integration project: name this test file ${inject('integrationFiles').join(' or ')} ` +
      '(see vitest.config.ts)',
  );
}
