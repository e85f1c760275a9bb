// Fuzz: the config loader with mutated YAML (every file in pipelines/ and otel-config.yaml, mutated as text
// and as structure) returns a config or throws ConfigError / PastewatchError, nothing else; and
// redactCommandLine stays linear on long hostile command lines built from the tokens its patterns look for.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { loadConfigText, ConfigError } from '../../src/config/load.js';
import { FACTORIES } from '../../src/components.js';
import { PastewatchError } from '../../src/util/errors.js';
import { redactCommandLine, REDACTED } from '../../src/util/redact.js';
import { mutationOf, runs, timed } from './budget.js';
import { jsonMutationOf } from './json-mutate.js';

const ROOT = join(import.meta.dirname, '..', '..');
const yamlTexts = [join(ROOT, 'otel-config.yaml'), ...readdirSync(join(ROOT, 'pipelines')).filter((f) => f.endsWith('.yaml')).sort().map((f) => join(ROOT, 'pipelines', f))]
  .map((p) => readFileSync(p, 'utf8'));
const yamlDocs = yamlTexts.map((t) => parse(t) as unknown);
const ENV = { HOME: '/tmp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };

function load(text: string): void {
  try {
    const cfg = loadConfigText(text, 'fuzz.yaml', { env: ENV, factories: FACTORIES });
    assert.ok(cfg.pipelines.length > 0, 'a loaded config without pipelines');
  } catch (err) {
    if (err instanceof ConfigError) {
      assert.ok(err.problems.length > 0, 'a ConfigError without problems');
      assert.match(err.message, /fuzz\.yaml/);
      return;
    }
    assert.ok(err instanceof PastewatchError, `not a PastewatchError: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  }
}

describe('fuzz: config loader', () => {
  test('fixtures load as they are', () => {
    assert.ok(yamlTexts.length >= 5);
    for (const t of yamlTexts) loadConfigText(t, 'fixture.yaml', { env: ENV, factories: FACTORIES });
  });
  test('YAML mutated as text', () => {
    fc.assert(fc.property(mutationOf(yamlTexts.map((t) => Buffer.from(t)), 6), (b) => {
      timed('loadConfigText', () => load(b.toString('utf8')), 250);
    }), runs(1));
  });
  test('YAML mutated as structure (wrong types, hostile keys, huge numbers)', () => {
    fc.assert(fc.property(jsonMutationOf(yamlDocs, 4), (doc) => {
      timed('loadConfigText', () => load(stringify(doc)), 250);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    }), runs(1));
  });
  test('YAML bombs: alias expansion and deep nesting are refused, not expanded', () => {
    const aliases = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 12; i++) aliases.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`);
    timed('alias bomb', () => load(aliases.join('\n')), 1000);
    timed('deep nesting', () => load('receivers: ' + '['.repeat(5000) + ']'.repeat(5000)), 1000);
  });
});

describe('fuzz: redaction stays linear', () => {
  const tokens = ['x', '-', '_', ' ', 'a', '0', 'A', ':', '/', '=', '@', '"', "'", '.', 'token', 'mysql', '--', '://', 'authorization', '-p', '-u', 'secret', 'key', 'Bearer ', '|', 'ab12'];
  test('64 KiB command lines repeating 1-4 hostile tokens', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom(...tokens), { minLength: 1, maxLength: 4 }), (pat) => {
      const unit = pat.join('');
      const s = unit.repeat(Math.ceil(65536 / unit.length));
      const out = timed('redactCommandLine', () => redactCommandLine(s), 150);
      assert.ok(out.length <= s.length + REDACTED.length * (s.length / 2 + 1));
    }), runs(0.2));
  });
});
