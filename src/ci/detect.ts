/** Which CI provider runs us, judged from the environment (../shared/reference/ci-providers.md). */

/** CI providers pastewatch recognises. */
export type CiProvider = 'github_actions' | 'gitlab_ci' | 'jenkins' | 'buildkite' | 'circleci' | 'azure_pipelines' | 'tekton';

/** All providers, in detection order. */
export const CI_PROVIDERS: readonly CiProvider[] = ['github_actions', 'gitlab_ci', 'jenkins', 'buildkite', 'circleci', 'azure_pipelines', 'tekton'];

const truthy = (v: string | undefined): boolean => v !== undefined && /^(true|1|yes)$/i.test(v);

/**
 * The provider whose marker variable is set, or undefined. Tekton has no marker variable of its own: it is
 * recognised from TEKTON_PIPELINE_RUN / TEKTON_TASK_RUN, which a step sets from the tekton.dev labels through
 * the downward API (see docs).
 */
export function detectCiProvider(env: Record<string, string | undefined>): CiProvider | undefined {
  if (truthy(env.GITHUB_ACTIONS)) return 'github_actions';
  if (truthy(env.GITLAB_CI)) return 'gitlab_ci';
  if (env.JENKINS_URL) return 'jenkins';
  if (truthy(env.BUILDKITE)) return 'buildkite';
  if (truthy(env.CIRCLECI)) return 'circleci';
  if (truthy(env.TF_BUILD)) return 'azure_pipelines';
  if (env.TEKTON_PIPELINE_RUN || env.TEKTON_TASK_RUN) return 'tekton';
  return undefined;
}
