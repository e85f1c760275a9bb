// Fuzz: the JSON / protobuf mappers fed with mutated fixtures. Hubble jsonpb lines (text- and structure-level
// mutations) through JSON.parse -> normalizeResponse -> mapFlow, Hubble protobuf responses (byte mutations)
// through decodeGetFlowsResponse -> mapFlow, Falco bodies through parseAlertBody -> mapAlert. Never a throw,
// bounded time, no prototype pollution, secrets in Falco command lines always redacted.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { normalizeResponse } from '../../src/hubble/normalize.js';
import { decodeGetFlowsResponse } from '../../src/hubble/wire.js';
import { RecentConnections, mapFlow } from '../../src/hubble/map.js';
import { loadObserverProto } from '../../src/hubble/proto.js';
import { parseAlertBody } from '../../src/receivers/falco/alert.js';
import { mapAlert } from '../../src/receivers/falco/map.js';
import type { Observation } from '../../src/model/observation.js';
import { toGrpcObject } from '../../scripts/fixtures/hubble-flows.js';
import { lengthBombOf, mutationOf, runs, timed } from './budget.js';
import { assertNoPollution, jsonMutationOf } from './json-mutate.js';

const FIX = join(import.meta.dirname, '..', 'fixtures');
const hubbleLines = ['egress-scenario.jsonl', 'events-mixed.jsonl']
  .flatMap((f) => readFileSync(join(FIX, 'hubble', f), 'utf8').split('\n').filter((l) => l.trim() !== ''));
const hubbleDocs = hubbleLines.map((l) => JSON.parse(l) as unknown);
const falcoTexts = readdirSync(join(FIX, 'falco')).sort().map((f) => readFileSync(join(FIX, 'falco', f), 'utf8'));
const falcoDocs = falcoTexts.map((t) => JSON.parse(t) as unknown);

function checkObservation(o: Observation): void {
  assert.equal(o.type, 'observation');
  assert.equal(typeof o.timeUnixNano, 'bigint');
  assert.ok(Array.isArray(o.names));
  for (const n of o.names) assert.equal(typeof n.name, 'string');
  assert.equal(Object.getPrototypeOf(o.attributes), Object.prototype);
}

/** JSON.parse (a SyntaxError is the receiver's counted invalid_json skip) -> normalize -> map. */
function hubbleLine(text: string, conns: RecentConnections): void {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    assert.ok(err instanceof SyntaxError);
    return;
  }
  hubbleValue(v, conns);
}

function hubbleValue(v: unknown, conns: RecentConnections): void {
  const ev = normalizeResponse(v);
  if (typeof ev === 'string') {
    assert.ok(['not_an_object', 'invalid_flow', 'unknown_record'].includes(ev));
    return;
  }
  if (ev.kind !== 'flow') return;
  const r = mapFlow(ev.flow, { receiver: 'hubble_file', connections: conns, fallbackTimeUnixNano: 1n });
  if (r.skipped) assert.equal(r.observations.length, 0);
  for (const o of r.observations) checkObservation(o);
}

describe('fuzz: hubble mappers', () => {
  const conns = new RecentConnections({ maxEntries: 64, idleTimeoutMs: 60_000 });
  test('jsonpb lines, mutated as text', () => {
    const texts = hubbleLines.map((l) => Buffer.from(l));
    fc.assert(fc.property(mutationOf(texts, 6), (b) => {
      timed('hubble jsonpb line', () => hubbleLine(b.toString('utf8'), conns));
      assertNoPollution();
    }), runs(2));
  });
  test('jsonpb lines, mutated as JSON (wrong types, hostile keys, missing fields)', () => {
    fc.assert(fc.property(jsonMutationOf(hubbleDocs), (v) => {
      timed('hubble jsonpb value', () => hubbleValue(v, conns));
      assertNoPollution();
    }), runs(3));
  });
  test('protobuf GetFlowsResponse bytes, mutated', () => {
    const { packageDefinition } = loadObserverProto();
    const respType = packageDefinition['observer.GetFlowsResponse'] as unknown as { serialize(v: unknown): Buffer };
    const wire = hubbleDocs.map((d) => respType.serialize(toGrpcObject(d)));
    fc.assert(fc.property(fc.oneof(mutationOf(wire, 6), lengthBombOf(wire)), (b) => {
      const ev = timed('decodeGetFlowsResponse', () => decodeGetFlowsResponse(b));
      if (typeof ev === 'string') assert.ok(['invalid_protobuf', 'not_an_object', 'invalid_flow', 'unknown_record'].includes(ev), ev);
      else if (ev.kind === 'flow') {
        const r = timed('mapFlow', () => mapFlow(ev.flow, { receiver: 'hubble', connections: conns, fallbackTimeUnixNano: 1n }));
        for (const o of r.observations) checkObservation(o);
      }
    }), runs(3));
  });
});

/**
 * Secrets of the Falco fixtures, each with the context that makes it recognisable: when every occurrence of
 * the secret in a (mutated) body still sits in that context, it must not appear in the observation.
 */
const SECRETS: [context: string, secret: string][] = [
  ['Authorization: Bearer ghp_0123456789abcdefghijABCDEFGHIJ012345', 'ghp_0123456789abcdefghijABCDEFGHIJ012345'],
  ['https://ci:hunter2@', 'hunter2'],
  [' --api-key=sk_live_0123456789abcdefABCDEF ', 'sk_live_0123456789abcdefABCDEF'],
];
const count = (s: string, sub: string): number => s.split(sub).length - 1;

function falcoBody(text: string, ndjson: boolean): void {
  const body = text;
  const r = parseAlertBody(text, ndjson);
  if (!r.ok) {
    assert.ok(['empty_body', 'invalid_json', 'schema_invalid'].includes(r.reason));
    assert.ok(r.message.length > 0 && r.message.length < 2000, 'message length');
    return;
  }
  for (const { alert, raw } of r.alerts) {
    const o = mapAlert(alert, raw, { receiverId: 'falco' });
    if (!o) continue;
    checkObservation(o);
    // The redaction contract covers the command line and the alert output (the fields that carry it).
    const text = `${o.process?.commandLine ?? ''}\n${String(o.attributes['falco.output'] ?? '')}`;
    for (const [ctx, secret] of SECRETS) {
      if (count(body, secret) > 0 && count(body, secret) === count(body, ctx)) assert.ok(!text.includes(secret), `secret ${secret} leaked into ${text.slice(0, 300)}`);
    }
  }
}

describe('fuzz: falco alert parser and mapper', () => {
  test('bodies mutated as text (single, array, ndjson)', () => {
    const bodies = [...falcoTexts, `[${falcoTexts.join(',')}]`, falcoTexts.map((t) => JSON.stringify(JSON.parse(t))).join('\n')].map((t) => Buffer.from(t));
    fc.assert(fc.property(mutationOf(bodies, 6), fc.boolean(), (b, nd) => {
      timed('falco body', () => falcoBody(b.toString('utf8'), nd));
      assertNoPollution();
    }), runs(2));
  });
  test('alerts mutated as JSON (wrong types, hostile keys, huge values)', () => {
    fc.assert(fc.property(jsonMutationOf(falcoDocs), fc.boolean(), (v, nd) => {
      timed('falco alert', () => falcoBody(JSON.stringify(v) ?? 'null', nd));
      assertNoPollution();
    }), runs(3));
  });
});
