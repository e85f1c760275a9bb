import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { observation } from '../../../src/model/observation.js';
import type { Observation } from '../../../src/model/observation.js';
import { LateProcessQueue, flowKeyOf } from '../../../src/receivers/pcap/late-process.js';

const obs = (kind: 'dns' | 'connection', sport: number, dport: number, tag: string): Observation =>
  observation({ kind, timeUnixNano: 1n, receiver: 'pcap', transport: kind === 'dns' ? 'udp' : 'tcp', source: { address: '10.0.0.2', port: sport }, destination: { address: '10.0.0.1', port: dport }, attributes: { tag } });
const key = (kind: 'dns' | 'connection', sport: number, dport: number): string => flowKeyOf(kind === 'dns' ? 'udp' : 'tcp', '10.0.0.2', sport, '10.0.0.1', dport);
const proc = { pid: 42, executableName: 'daemon' };

describe('LateProcessQueue', () => {
  test('passes observations straight through while no lookup is open', () => {
    const out: string[] = [];
    const q = new LateProcessQueue((o) => out.push(String(o.attributes.tag)));
    q.push(obs('connection', 1000, 443, 'a'));
    q.push(obs('dns', 2000, 53, 'b'));
    assert.deepEqual(out, ['a', 'b']);
    assert.equal(q.heldCount(), 0);
  });

  test('holds everything behind an open lookup, in order, and gives the settled flow its process', () => {
    const out: Observation[] = [];
    const q = new LateProcessQueue((o) => out.push(o));
    q.expect(key('dns', 2000, 53));
    q.push(obs('dns', 2000, 53, 'query'));
    q.push(obs('connection', 1000, 443, 'other flow'));
    q.push(obs('dns', 2000, 53, 'response'));
    assert.equal(out.length, 0);
    assert.equal(q.heldCount(), 3);
    q.settle(key('dns', 2000, 53), proc);
    assert.deepEqual(out.map((o) => o.attributes.tag), ['query', 'other flow', 'response']);
    assert.deepEqual(out.map((o) => o.process?.pid), [42, undefined, 42]);
    // a later observation of the settled flow (its report at FIN) gets the process too
    q.push(obs('dns', 2000, 53, 'late response'));
    assert.equal(out[3].process?.pid, 42);
    // a new flow reusing the 5-tuple forgets it
    q.begin(() => key('dns', 2000, 53));
    q.push(obs('dns', 2000, 53, 'new flow'));
    assert.equal(out[4].process, undefined);
  });

  test('releases up to the next open lookup only; an unattributed answer releases without a process', () => {
    const out: string[] = [];
    const q = new LateProcessQueue((o) => out.push(`${String(o.attributes.tag)}:${o.process?.pid ?? '-'}`));
    q.expect(key('connection', 1000, 443));
    q.push(obs('connection', 3000, 80, 'x'));
    assert.deepEqual(out, ['x:-'], 'nothing is held before it: it goes at once');
    q.expect(key('connection', 1001, 443));
    q.push(obs('connection', 1001, 443, 'y'));
    q.push(obs('connection', 1000, 443, 'z'));
    q.push(obs('connection', 3001, 80, 'w'));
    assert.deepEqual(out, ['x:-']);
    q.settle(key('connection', 1000, 443), undefined);
    assert.deepEqual(out, ['x:-'], 'y still blocks');
    q.settle(key('connection', 1001, 443), proc);
    assert.deepEqual(out, ['x:-', 'y:42', 'z:-', 'w:-']);
    q.settle('tcp nobody', proc); // unknown key: ignored
    assert.equal(q.heldCount(), 0);
  });

  test('flush() releases everything held (shutdown) and the hold is bounded', () => {
    const out: string[] = [];
    const q = new LateProcessQueue((o) => out.push(String(o.attributes.tag)), 3);
    q.expect(key('connection', 1, 443));
    q.push(obs('connection', 1, 443, 'o0'));
    for (let i = 1; i < 3; i++) q.push(obs('connection', 100 + i, 443, `o${i}`));
    assert.equal(q.heldCount(), 3);
    assert.deepEqual(out, []);
    q.push(obs('connection', 200, 443, 'over the cap'));
    assert.deepEqual(out, ['o0', 'o1', 'o2', 'over the cap'], 'past the cap the oldest lookup is given up');
    q.expect(key('connection', 2, 443));
    q.push(obs('connection', 2, 443, 'held'));
    assert.equal(q.heldCount(), 1);
    q.flush();
    assert.deepEqual(out.slice(4), ['held']);
    assert.equal(q.heldCount(), 0);
  });
});
