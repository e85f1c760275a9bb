import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfigText, parseComponentId } from '../../src/config/load.js';
import { formatProblem } from '../../src/config/problems.js';
import { FAKE_FACTORIES } from '../helpers/fake-components.js';

const load = (text: string, env: Record<string, string> = {}) => loadConfigText(text, 'test.yaml', { env, factories: FAKE_FACTORIES });
const problems = (text: string, env: Record<string, string> = {}): string[] => {
  try {
    load(text, env);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.problems.map(formatProblem);
  }
  assert.fail('expected the config to be rejected');
};

const GOOD = `
receivers:
  scripted:
    count: 5
  scripted/two: {}
processors:
  tag:
exporters:
  record:
  record/b: { flush_delay_ms: 3 }
service:
  pipelines:
    logs:
      receivers: [scripted, scripted/two]
      processors: [tag]
      exporters: [record, record/b]
    traces/ci:
      receivers: [scripted]
      exporters: [record]
`;

describe('config loader', () => {
  test('loads a valid config with defaults overlaid', () => {
    const cfg = load(GOOD);
    assert.deepEqual(cfg.receivers.get('scripted')!.config, { count: 5, finite: true, fail_after: -1, interval_ms: 0 });
    assert.deepEqual(cfg.receivers.get('scripted/two')!.config, { count: 3, finite: true, fail_after: -1, interval_ms: 0 });
    assert.equal(cfg.receivers.get('scripted/two')!.name, 'two');
    assert.deepEqual(cfg.exporters.get('record/b')!.config, { throw_on_consume: false, flush_delay_ms: 3 });
    assert.deepEqual(cfg.pipelines.map((p) => [p.id, p.signal]), [['logs', 'logs'], ['traces/ci', 'traces']]);
    assert.equal(cfg.service.shutdown.timeout_ms, 15000);
    assert.equal(cfg.service.telemetry.logs.level, 'info');
  });

  test('reports a typo with its path, line and a suggestion', () => {
    const p = problems(GOOD.replace('count: 5', 'cuont: 5'));
    assert.deepEqual(p, ['receivers::scripted::cuont: unknown key (did you mean "count"?) (line 4)']);
  });

  test('reports every problem at once', () => {
    const text = `
receivers:
  scripted: { count: "many" }
  nosuch: {}
exporters:
  record:
service:
  pipelines:
    logs:
      receivers: [scripted, ghost]
      exporters: [record, missing]
    metrics:
      receivers: [scripted]
      exporters: [record]
  bogus: 1
`;
    const p = problems(text);
    assert.equal(p.length, 6, p.join('\n'));
    assert.match(p[0], /^receivers::scripted::count: Invalid input: expected number, received string \(line 3\)$/);
    assert.match(p[1], /^receivers::nosuch: unknown receiver type "nosuch"; known types: scripted \(line 4\)$/);
    assert.ok(p.includes('service::bogus: unknown key (known keys: extensions, pipelines, telemetry, shutdown) (line 15)'), p.join('\n'));
    assert.ok(p.some((x) => x === 'service::pipelines::logs::receivers::1: pipeline "logs" references receiver "ghost" which is not configured in receivers (line 10)'), p.join('\n'));
    assert.ok(p.some((x) => x.startsWith('service::pipelines::logs::exporters::1: pipeline "logs" references exporter "missing"')), p.join('\n'));
    assert.ok(p.some((x) => x.startsWith('service::pipelines::metrics: metrics pipelines are not supported')), p.join('\n'));
  });

  test('malformed YAML names the line', () => {
    const p = problems('receivers:\n  scripted: {count: 1\nexporters: [\n');
    assert.ok(p.length >= 1);
    assert.match(p[0], /^YAML: .+\(line \d+\)$/);
  });

  test('duplicate keys are a YAML problem', () => {
    const p = problems('receivers:\n  scripted: {}\n  scripted: {}\n');
    assert.match(p[0], /YAML: .*[Mm]ap keys must be unique/);
  });

  test('env expansion: ${env:X}, ${X}, defaults, $$, bare $X, typed whole references', () => {
    const cfg = load(GOOD.replace('count: 5', 'count: ${env:N}').replace('record/b: { flush_delay_ms: 3 }', 'record/b:\n    flush_delay_ms: ${D:-7}').replace('processors:\n  tag:\n', 'processors:\n  tag: { value: "$$HOME-${env:NAME}-$USER" }\n'), { N: '42', NAME: 'pw' });
    assert.equal((cfg.receivers.get('scripted')!.config as { count: number }).count, 42);
    assert.equal((cfg.exporters.get('record/b')!.config as { flush_delay_ms: number }).flush_delay_ms, 7);
    assert.equal((cfg.processors.get('tag')!.config as { value: string }).value, '$HOME-pw-$USER');
  });

  test('a missing env var with no default is an error naming the key', () => {
    const p = problems(GOOD.replace('count: 5', 'count: ${env:NOPE_NOT_SET}'));
    assert.deepEqual(p, ['receivers::scripted::count: environment variable NOPE_NOT_SET is not set and the reference has no default (${env:NOPE_NOT_SET:-default}) (line 4)']);
  });

  test('an unsupported provider is an error', () => {
    const p = problems(GOOD.replace('count: 5', 'count: ${file:/etc/x}'));
    assert.match(p[0], /config provider "file" is not supported/);
  });

  test('pipelines need a receiver and an exporter; a processor twice is an error', () => {
    const p = problems(`receivers: {scripted: {}}\nprocessors: {tag: {}}\nexporters: {record: {}}\nservice:\n  pipelines:\n    logs:\n      processors: [tag, tag]\n`);
    assert.ok(p.some((x) => x.startsWith('service::pipelines::logs::receivers: a pipeline needs at least one receiver')), p.join('\n'));
    assert.ok(p.some((x) => x.startsWith('service::pipelines::logs::exporters: a pipeline needs at least one exporter')), p.join('\n'));
    assert.ok(p.some((x) => x.startsWith('service::pipelines::logs::processors::1: processor "tag" is listed twice')), p.join('\n'));
  });

  test('no pipelines at all is an error; unknown top-level key suggests', () => {
    const p = problems('recievers: {}\nservice: {}\n');
    assert.ok(p.includes('recievers: unknown top-level key (did you mean "receivers"?) (line 1)'), p.join('\n'));
    assert.ok(p.some((x) => x.startsWith('service::pipelines: at least one pipeline is required')));
  });

  test('component ids', () => {
    assert.deepEqual(parseComponentId('pcap_file/ci'), { type: 'pcap_file', name: 'ci' });
    assert.deepEqual(parseComponentId('jsonl'), { type: 'jsonl', name: undefined });
    assert.ok('error' in parseComponentId('9bad'));
    assert.ok('error' in parseComponentId('x/'));
  });
});

test('regression: a YAML alias bomb is a ConfigError', () => {
  // Found by the fuzz suite: yaml's alias-count guard threw a plain ReferenceError out of loadConfigText.
  const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 0; i < 12; i++) {
    const prev = String.fromCharCode(97 + i);
    lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${prev}, *${prev}, *${prev}, *${prev}]`);
  }
  assert.throws(() => load(lines.join('\n')), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /^test\.yaml: 1 problem:\n {2}- .*YAML: Excessive alias count/);
    return true;
  });
});
