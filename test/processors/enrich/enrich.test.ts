import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, from, toArray } from 'rxjs';
import { createDefaultConfig } from '../../../src/component/types.js';
import { enrichFactory } from '../../../src/processors/enrich/factory.js';
import { parseLabelsFile } from '../../../src/processors/enrich/labels.js';
import type { PipelineItem } from '../../../src/model/detection.js';
import { observation } from '../../../src/model/observation.js';
import type { Observation } from '../../../src/model/observation.js';
import { makeDetection } from '../../helpers/detections.js';
import { testSettings } from '../../helpers/exporter-settings.js';

async function run(cfg: Record<string, unknown>, env: Record<string, string>, items: PipelineItem[]): Promise<{ out: PipelineItem[]; lines: string[] }> {
  const s = testSettings('enrich', env, 'processor');
  const p = enrichFactory.create(s, enrichFactory.schema.parse(cfg));
  await p.start();
  const out = await firstValueFrom(from(items).pipe(p.operator(), toArray()));
  await p.shutdown();
  return { out, lines: s.lines };
}

const obs = (attrs: Record<string, string> = {}): Observation => observation({ kind: 'dns', timeUnixNano: 1n, receiver: 'pcap', attributes: attrs });

describe('enrich processor', () => {
  test('defaults parse; GitHub Actions env -> cicd/vcs attributes and the derived trace parent; detections pass through', async () => {
    assert.equal(createDefaultConfig(enrichFactory).ci, 'auto');
    const d = makeDetection();
    const input = obs({ 'k8s.pod.name': 'from-receiver' });
    const { out } = await run({ kubernetes: { labels_file: '' } }, { GITHUB_ACTIONS: 'true', GITHUB_RUN_ID: '12345678', GITHUB_RUN_ATTEMPT: '1', GITHUB_WORKFLOW: 'build', POD_NAME: 'sidecar-pod', POD_NAMESPACE: 'ci' }, [input, d]);
    const o = out[0] as Observation;
    assert.equal(o.attributes['cicd.pipeline.name'], 'build');
    assert.equal(o.attributes['k8s.namespace.name'], 'ci');
    assert.equal(o.attributes['k8s.pod.name'], 'from-receiver', 'the receiver\'s own attribute wins');
    assert.deepEqual(o.traceParent, { traceId: '102128e136191777dcee779b6da2db2d', spanId: 'b7fc8a284591fd61', traceFlags: 1 });
    assert.equal(input.traceParent, undefined, 'the shared input observation is not mutated');
    assert.equal(out[1], d);
  });

  test('TRACEPARENT sets the parent; static attributes, host name, configurable k8s variables and the labels file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-enrich-'));
    const labels = join(dir, 'labels');
    writeFileSync(labels, 'app="payments"\ntekton.dev/taskRun="tr-9"\nbroken line\nquote="a\\"b"\n');
    const { out } = await run(
      { ci: 'tekton', host_name: 'node-a', attributes: { team: 'sec', tier: 2 }, kubernetes: { pod_name_env: 'MY_POD', cluster_name_env: 'CLUSTER', labels_file: labels } },
      { TRACEPARENT: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00', MY_POD: 'p-1', CLUSTER: 'prod-eu', POD_NAME: 'ignored' },
      [obs()],
    );
    const o = out[0] as Observation;
    assert.deepEqual(o.traceParent, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 0 });
    assert.equal(o.attributes['k8s.pod.name'], 'p-1');
    assert.equal(o.attributes['k8s.cluster.name'], 'prod-eu');
    assert.equal(o.attributes['k8s.pod.label.app'], 'payments');
    assert.equal(o.attributes['k8s.pod.label.quote'], 'a"b');
    assert.equal(o.attributes['cicd.pipeline.task.run.id'], 'tr-9');
    assert.equal(o.attributes['host.name'], 'node-a');
    assert.equal(o.attributes.team, 'sec');
    assert.equal(o.attributes.tier, 2);
  });

  test('ci: off and trace_context: off add neither CI attributes nor a parent; bad TRACEPARENT warns', async () => {
    const { out } = await run({ ci: 'off', trace_context: 'off', kubernetes: { enabled: false } }, { GITHUB_ACTIONS: 'true', GITHUB_RUN_ID: '1', GITHUB_RUN_ATTEMPT: '1', POD_NAME: 'x', TRACEPARENT: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }, [obs()]);
    assert.deepEqual((out[0] as Observation).attributes, {});
    assert.equal((out[0] as Observation).traceParent, undefined);
    const bad = await run({ kubernetes: { labels_file: join(tmpdir(), 'no-such-labels') } }, { TRACEPARENT: 'nope' }, [obs()]);
    assert.equal((bad.out[0] as Observation).traceParent, undefined);
    assert.ok(bad.lines.some((l) => l.includes('not a valid W3C traceparent')));
    assert.ok(bad.lines.some((l) => l.includes('WARN') && l.includes('no-such-labels')), 'a chosen labels file that is missing is a warning');
  });

  test('labels file parsing', () => {
    assert.deepEqual(parseLabelsFile('a="1"\nb="x=y"\n\nc=unquoted\n'), { a: '1', b: 'x=y' });
  });
});
