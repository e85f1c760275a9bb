/**
 * Implications and recommended actions by environment and activity (restated from the detection's source
 * guidance): a short form for the body, the full list for pastewatch.recommendation.
 */
import type { Activity, Environment } from '../../model/detection.js';

/** Next steps per environment (the full list; the first items are the short form). */
export const ENVIRONMENT_ACTIONS: Readonly<Record<Environment, readonly string[]>> = {
  ci: [
    'examine the recent changes and build logs for unexpected scripts or dependencies',
    'tighten egress so builds cannot reach paste services',
    'audit the dependencies used by the build (dependency poisoning, tainted artifacts)',
  ],
  staging: [
    'check that staging is isolated from production and sensitive networks',
    'test for the weakness that allowed the access',
    'review how data is handled in staging',
  ],
  production: [
    'start incident response and isolate the affected hosts',
    'hunt for persistence and lateral movement',
    'rotate any credentials that may have been exposed and require multi-factor authentication',
  ],
  development: [
    'find the tool, script or dependency that made the request',
    'check the workstation for unexpected scripts or dependencies',
    'report it to security if it is not explained',
  ],
  unknown: [
    'start incident response and isolate the affected hosts',
    'hunt for persistence and lateral movement',
    'rotate any credentials that may have been exposed and require multi-factor authentication',
  ],
};

/** One-line short actions for the body. */
export const SHORT_ACTIONS: Readonly<Record<Environment, string>> = {
  ci: 'examine recent changes and build logs; tighten egress',
  staging: 'check staging isolation; review data handling',
  production: 'start incident response; isolate the host; rotate exposed credentials',
  development: 'find the tool or dependency responsible; report it if unexplained',
  unknown: 'start incident response; isolate the host; rotate exposed credentials',
};

/** Activity-specific first step. */
export const ACTIVITY_ACTIONS: Readonly<Record<Activity, string>> = {
  upload: 'find out what was uploaded: the process, its command line and the files and secrets it could read',
  download: 'find out what was fetched and whether it was executed: new files, new processes, changed scripts',
  connect: 'find out whether data was sent or fetched: the process, its command line and any flow byte counts',
  lookup: 'find the process that resolved the name and whether a connection followed',
};

/** What the activity may mean, for the body. */
export function implication(activity: Activity, env: Environment): string {
  switch (activity) {
    case 'upload':
      return env === 'ci' ? 'possible secret exfiltration' : 'possible data exfiltration';
    case 'download':
      return 'possible command and control or code injection';
    case 'lookup':
      return 'early warning of exfiltration, command and control or code injection';
    default:
      return 'possible exfiltration, command and control or code injection';
  }
}

/** The full recommendation list: the activity step, then the environment's steps. */
export function recommendations(activity: Activity, env: Environment): string[] {
  return [ACTIVITY_ACTIONS[activity], ...ENVIRONMENT_ACTIONS[env]];
}

/** Verb phrase of the body. */
export const ACTIVITY_VERB: Readonly<Record<Activity, string>> = {
  upload: 'uploaded to',
  download: 'downloaded from',
  connect: 'connected to',
  lookup: 'looked up',
};
