import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ciAttributes, ciContextFromEnv, githubRunTraceParent, traceParentFromCarrierJson, traceParentFromEnv } from '../../src/ci/context.js';

const GH = {
  GITHUB_ACTIONS: 'true',
  GITHUB_RUN_ID: '12345678',
  GITHUB_RUN_ATTEMPT: '1',
  GITHUB_WORKFLOW: 'build',
  GITHUB_JOB: 'test',
  GITHUB_REPOSITORY: 'acme/widgets',
  GITHUB_REF_NAME: 'main',
  GITHUB_SHA: 'abc123',
  GITHUB_SERVER_URL: 'https://github.com',
  RUNNER_NAME: 'runner-7',
};

describe('CI context', () => {
  test('GitHub run ids: hand-computed sha256 vectors (printf 123456781t | sha256sum)', () => {
    // sha256("123456781t") = 102128e136191777dcee779b6da2db2d cb72...; sha256("123456781s") = 3eafd7d00cf747b1 b7fc8a284591fd61 0e...
    assert.deepEqual(githubRunTraceParent('12345678', '1'), { traceId: '102128e136191777dcee779b6da2db2d', spanId: 'b7fc8a284591fd61', traceFlags: 1 });
    // sha256("98765432102t") = 8a2c36946160dc1c6273465677d1ebe2 ...; sha256("98765432102s") = b1c9202224e3b937 a09471d4f6147eec ...
    assert.deepEqual(githubRunTraceParent('9876543210', '2'), { traceId: '8a2c36946160dc1c6273465677d1ebe2', spanId: 'a09471d4f6147eec', traceFlags: 1 });
  });

  test('GitHub Actions: attributes and the derived trace parent', () => {
    const c = ciContextFromEnv(GH);
    assert.equal(c.provider, 'github_actions');
    assert.equal(c.traceParentSource, 'github_run');
    assert.equal(c.traceParent?.traceId, '102128e136191777dcee779b6da2db2d');
    assert.deepEqual(c.attributes, {
      'cicd.pipeline.name': 'build',
      'cicd.pipeline.run.id': '12345678',
      'cicd.pipeline.run.url.full': 'https://github.com/acme/widgets/actions/runs/12345678/attempts/1',
      'cicd.pipeline.task.name': 'test',
      'cicd.worker.name': 'runner-7',
      'vcs.repository.url.full': 'https://github.com/acme/widgets',
      'vcs.repository.name': 'widgets',
      'vcs.ref.head.name': 'main',
      'vcs.ref.head.revision': 'abc123',
      'vcs.provider.name': 'github',
    });
  });

  test('TRACEPARENT wins over the GitHub-derived ids; TRACESTATE is kept; unsampled flags kept', () => {
    const c = ciContextFromEnv({ ...GH, TRACEPARENT: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00', TRACESTATE: 'rojo=00f067aa0ba902b7' });
    assert.deepEqual(c.traceParent, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 0, traceState: 'rojo=00f067aa0ba902b7' });
    assert.equal(c.traceParentSource, 'traceparent');
  });

  test('an invalid TRACEPARENT is a warning and is ignored', () => {
    for (const bad of ['00-00000000000000000000000000000000-00f067aa0ba902b7-01', 'garbage', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7']) {
      assert.equal(traceParentFromEnv({ TRACEPARENT: bad }), undefined, bad);
      const c = ciContextFromEnv({ TRACEPARENT: bad });
      assert.equal(c.traceParent, undefined);
      assert.match(c.warnings[0], /TRACEPARENT .* is not a valid W3C traceparent/);
    }
  });

  test('Tekton: span context from the JSON carrier, attributes from env and labels', () => {
    const carrier = JSON.stringify({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    const c = ciContextFromEnv({ TEKTON_TASKRUN_SPAN_CONTEXT: carrier }, undefined, { 'tekton.dev/pipelineRun': 'pr-1', 'tekton.dev/taskRun': 'tr-1', 'tekton.dev/pipeline': 'release', 'tekton.dev/pipelineTask': 'build' });
    assert.equal(c.provider, 'tekton');
    assert.deepEqual(c.traceParent, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 });
    assert.deepEqual(c.attributes, { 'cicd.pipeline.name': 'release', 'cicd.pipeline.run.id': 'pr-1', 'cicd.pipeline.task.name': 'build', 'cicd.pipeline.task.run.id': 'tr-1' });
    assert.equal(traceParentFromCarrierJson('{not json'), undefined);
    const bad = ciContextFromEnv({ TEKTON_TASK_RUN: 'x', TEKTON_TASKRUN_SPAN_CONTEXT: '[]' });
    assert.match(bad.warnings[0], /TEKTON_TASKRUN_SPAN_CONTEXT/);
  });

  test('other providers map their variables', () => {
    assert.deepEqual(ciAttributes('gitlab_ci', { CI_PROJECT_PATH: 'g/p', CI_PIPELINE_ID: '9', CI_PIPELINE_URL: 'https://gl/p/-/pipelines/9', CI_JOB_NAME: 'scan', CI_JOB_ID: '77', CI_PROJECT_URL: 'https://gl/g/p', CI_COMMIT_REF_NAME: 'dev', CI_COMMIT_SHA: 'ff' }), {
      'cicd.pipeline.name': 'g/p', 'cicd.pipeline.run.id': '9', 'cicd.pipeline.run.url.full': 'https://gl/p/-/pipelines/9', 'cicd.pipeline.task.name': 'scan', 'cicd.pipeline.task.run.id': '77', 'vcs.repository.url.full': 'https://gl/g/p', 'vcs.repository.name': 'p', 'vcs.ref.head.name': 'dev', 'vcs.ref.head.revision': 'ff', 'vcs.provider.name': 'gitlab',
    });
    const az = ciAttributes('azure_pipelines', { SYSTEM_COLLECTIONURI: 'https://dev.azure.com/org', SYSTEM_TEAMPROJECT: 'My Proj', BUILD_BUILDID: '42', BUILD_DEFINITIONNAME: 'ci' });
    assert.equal(az['cicd.pipeline.run.url.full'], 'https://dev.azure.com/org/My%20Proj/_build/results?buildId=42');
    assert.equal(ciAttributes('jenkins', { JOB_NAME: 'j', BUILD_NUMBER: '5', BUILD_URL: 'https://j/5/', GIT_URL: 'git@h:o/r.git' })['vcs.repository.name'], 'r');
    assert.equal(ciAttributes('buildkite', { BUILDKITE_BUILD_ID: 'b', BUILDKITE_LABEL: ':test:' })['cicd.pipeline.task.name'], ':test:');
    assert.equal(ciAttributes('circleci', { CIRCLE_WORKFLOW_ID: 'w', CIRCLE_BUILD_URL: 'u' })['cicd.pipeline.run.url.full'], 'u');
    assert.deepEqual(ciContextFromEnv({}).attributes, {});
    assert.equal(ciContextFromEnv({}).provider, undefined);
  });
});
