import type { JobSummary } from '../summary.js';
import { plural } from './format.js';

/**
 * What the summary screen and the report say when robots.txt disallowed URLs: how many,
 * and how a user lifts it for sites they own. null when it disallowed none.
 */
export function robotsNote(summary: JobSummary): string | null {
  const disallowed = summary.errors.ROBOTS_DISALLOWED ?? 0;
  if (disallowed === 0) return null;
  return `${plural(disallowed, 'URL')} disallowed by robots.txt, not fetched. For sites you own, fetch them anyway with --robots ignore (API: "robots": "ignore").`;
}
