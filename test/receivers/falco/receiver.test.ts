import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { falcoConfigSchema } from '../../../src/receivers/falco/config.js';
import { FalcoReceiver } from '../../../src/receivers/falco/receiver.js';
import { PastewatchError } from '../../../src/util/errors.js';
import { alertBody, makeSettings, startReceiver } from './helpers.js';
import type { Harness } from './helpers.js';

const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'falco');
const fixture = (name: string): string => readFileSync(join(FIX, name), 'utf8');

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request with node's http client (keep-alive agent when given). */
function send(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; agent?: Agent; path?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request(
      { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: u.port, path: opts.path ?? u.pathname, method: opts.method ?? 'POST', headers: opts.headers ?? {}, agent: opts.agent },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const JSON_CT = { 'content-type': 'application/json' };

describe('falco receiver over HTTP', () => {
  let h: Harness;
  let agent: Agent;
  before(async () => {
    h = await startReceiver();
    agent = new Agent({ keepAlive: true, maxSockets: 1 });
  });
  after(async () => {
    agent.destroy();
    await h.receiver.shutdown();
  });

  test('Falco http_output: one alert per POST, application/json, User-Agent falcosecurity/falco', async () => {
    const before = h.emitted.length;
    const r = await send(h.url, { headers: { ...JSON_CT, 'user-agent': 'falcosecurity/falco' }, body: fixture('falco-paste-connect-ipv4.json'), agent });
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { accepted: 1, ignored: 0 });
    assert.equal(h.emitted.length, before + 1);
    const obs = h.emitted.at(-1);
    assert.equal(obs?.kind, 'falco');
    assert.equal(obs?.receiver, 'falco');
    assert.equal(obs?.timeUnixNano, 1764880993123456789n);
    assert.deepEqual(obs?.names, [{ name: 'pastebin.com', evidence: 'falco.fd.sip.name' }]);
    assert.equal(obs?.process?.commandLine?.includes('ghp_'), false);
  });

  test('falcosidekick webhook: PUT, charset, custom headers, uuid', async () => {
    const r = await send(h.url, {
      method: 'PUT',
      headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'Falcosidekick', 'x-custom-header': 'team-a' },
      body: fixture('falcosidekick-webhook-udp.json'),
      agent,
    });
    assert.equal(r.status, 200);
    assert.equal(h.emitted.at(-1)?.attributes['falco.uuid'], '0b1c7e9e-3f5a-4c62-9c1a-2d7f8e4b5a61');
  });

  test('ndjson body with several alerts (and unseen rules) emits each; query strings on the path are fine', async () => {
    const before = h.emitted.length;
    const body = [alertBody(1), fixture('falco-subnet-ipv6.json').trim(), alertBody(2)].join('\n') + '\n';
    const r = await send(h.url, { headers: { 'content-type': 'application/x-ndjson' }, body, agent, path: '/?source=test' });
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { accepted: 3, ignored: 0 });
    assert.deepEqual(h.emitted.slice(before).map((o) => o.destination?.address), ['192.0.2.1', '2606:4700::6810:8543', '192.0.2.2']);
  });

  test('a non-network alert is answered 200 and counted ignored{not_network}', async () => {
    const before = h.emitted.length;
    const r = await send(h.url, { headers: JSON_CT, body: fixture('falco-read-sensitive-file.json'), agent });
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { accepted: 0, ignored: 1 });
    assert.equal(h.emitted.length, before);
    assert.equal(h.registry.get('falco', 'ignored', { reason: 'not_network' }), 1);
  });

  test('every bad input gets its status and reason, is counted, and the next good alert is still served', async () => {
    const big = Buffer.alloc(1024 * 1024 + 1, 0x20); // just over the default 1 MiB cap
    const cases: { name: string; status: number; reason: string; send: () => Promise<Reply>; match: RegExp }[] = [
      { name: '413 content-length over cap', status: 413, reason: 'too_large', match: /over max_body_bytes 1048576/, send: () => send(h.url, { headers: JSON_CT, body: big }) },
      {
        name: '413 chunked over cap',
        status: 413,
        reason: 'too_large',
        match: /over max_body_bytes/,
        send: () => send(h.url, { headers: { ...JSON_CT, 'transfer-encoding': 'chunked' }, body: big }),
      },
      { name: '400 not JSON', status: 400, reason: 'invalid_json', match: /not valid JSON/, send: () => send(h.url, { headers: JSON_CT, body: '{"rule": nope', agent }) },
      { name: '400 schema', status: 400, reason: 'schema_invalid', match: /missing "output_fields"/, send: () => send(h.url, { headers: JSON_CT, body: '{"rule":"r","time":"2025-12-04T20:43:13Z"}', agent }) },
      { name: '400 empty', status: 400, reason: 'empty_body', match: /empty/, send: () => send(h.url, { headers: JSON_CT, body: '', agent }) },
      { name: '415 text/plain', status: 415, reason: 'unsupported_media_type', match: /json_output: true/, send: () => send(h.url, { headers: { 'content-type': 'text/plain' }, body: '20:43:13.1: Warning x', agent }) },
      { name: '415 xml', status: 415, reason: 'unsupported_media_type', match: /application\/xml is not supported/, send: () => send(h.url, { headers: { 'content-type': 'application/xml' }, body: '<a/>', agent }) },
      { name: '415 gzip', status: 415, reason: 'unsupported_media_type', match: /content-encoding gzip/, send: () => send(h.url, { headers: { ...JSON_CT, 'content-encoding': 'gzip' }, body: 'x', agent }) },
      { name: '404 path', status: 404, reason: 'not_found', match: /no alert endpoint at \/alerts/, send: () => send(h.url, { headers: JSON_CT, body: alertBody(9), agent, path: '/alerts' }) },
      { name: '405 GET', status: 405, reason: 'method_not_allowed', match: /method GET not allowed: use POST, PUT/, send: () => send(h.url, { method: 'GET', agent }) },
      { name: '405 DELETE', status: 405, reason: 'method_not_allowed', match: /method DELETE/, send: () => send(h.url, { method: 'DELETE', agent }) },
    ];
    let n = 10;
    for (const c of cases) {
      const droppedBefore = h.dropped(c.reason);
      const emittedBefore = h.emitted.length;
      const r = await c.send();
      assert.equal(r.status, c.status, `${c.name}: ${r.body}`);
      assert.match(String((JSON.parse(r.body) as { error: string }).error), c.match, c.name);
      if (c.status === 405) assert.equal(r.headers.allow, 'POST, PUT');
      assert.equal(h.dropped(c.reason), droppedBefore + 1, `${c.name} counted`);
      assert.equal(h.emitted.length, emittedBefore, `${c.name} emitted nothing`);
      n++;
      const ok = await send(h.url, { headers: JSON_CT, body: alertBody(n), agent });
      assert.equal(ok.status, 200, `good alert after ${c.name}`);
      assert.equal(h.emitted.length, emittedBefore + 1);
      assert.equal(h.emitted.at(-1)?.destination?.address, `192.0.2.${n}`);
    }
    // The log names the remote address of rejected requests.
    assert.ok(h.logger.lines.some((l) => l.includes('rejected request') && l.includes('remote=127.0.0.1:')));
    // Everything accepted so far is still there, in order.
    const addrs = h.emitted.map((o) => o.destination?.address).filter((a) => a?.startsWith('192.0.2.') && Number(a.split('.')[3]) > 10);
    assert.deepEqual(addrs, cases.map((_, i) => `192.0.2.${11 + i}`));
  });

  test('Expect: 100-continue with an oversize body is refused before the body is sent', async () => {
    const u = new URL(h.url);
    const result = await new Promise<{ status: number; continued: boolean }>((resolve, reject) => {
      let continued = false;
      const req = request({ host: u.hostname, port: u.port, method: 'POST', path: '/', headers: { ...JSON_CT, 'content-length': String(50 * 1024 * 1024), expect: '100-continue' } });
      req.on('continue', () => {
        continued = true;
      });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, continued }));
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    assert.deepEqual(result, { status: 413, continued: false });
  });

  test('Expect: 100-continue with a normal body is accepted', async () => {
    const before = h.emitted.length;
    const r = await send(h.url, { headers: { ...JSON_CT, expect: '100-continue' }, body: alertBody(77) });
    assert.equal(r.status, 200);
    assert.equal(h.emitted.length, before + 1);
  });

  test('/healthz answers GET with JSON, other methods 405', async () => {
    const r = await send(h.url, { method: 'GET', path: '/healthz', agent });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(r.body), { status: 'ok', receiver: 'falco' });
    const p = await send(h.url, { method: 'POST', path: '/healthz', agent, body: '{}' });
    assert.equal(p.status, 405);
  });

  test('prototype pollution through the webhook does nothing', async () => {
    const body =
      '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}},"rule":"r","time":"2025-12-04T20:43:13.000000001Z",' +
      '"output_fields":{"__proto__":{"polluted":3},"fd.sip":"192.0.2.200","fd.sport":443}}';
    const r = await send(h.url, { headers: JSON_CT, body, agent });
    assert.equal(r.status, 200);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(h.emitted.at(-1)?.destination, { address: '192.0.2.200', port: 443 });
  });

  test('malformed HTTP and aborted bodies never crash the listener', async () => {
    const u = new URL(h.url);
    const raw = await new Promise<string>((resolve) => {
      const s = connect(Number(u.port), u.hostname, () => s.write('BLAH / HTTP/1.1\r\nbroken header line\r\n\r\n'));
      let got = '';
      s.on('data', (d) => (got += d.toString()));
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
    });
    assert.match(raw, /^HTTP\/1\.1 400/);
    assert.equal(h.dropped('bad_http'), 1);
    // Headers beyond node's limit (16 KiB): 431.
    const huge = await new Promise<string>((resolve) => {
      const s = connect(Number(u.port), u.hostname, () => s.write(`POST / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`));
      let got = '';
      s.on('data', (d) => (got += d.toString()));
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
    });
    assert.match(huge, /^HTTP\/1\.1 431/);
    assert.equal(h.dropped('bad_http'), 2);
    // A client that announces 1000 bytes, sends 10, and disconnects.
    await new Promise<void>((resolve) => {
      const s = connect(Number(u.port), u.hostname, () => {
        s.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"rule":"r"');
        setTimeout(() => {
          s.destroy();
          resolve();
        }, 50);
      });
    });
    const ok = await send(h.url, { headers: JSON_CT, body: alertBody(99), agent });
    assert.equal(ok.status, 200);
    assert.equal(h.emitted.at(-1)?.destination?.address, '192.0.2.99');
    assert.equal(h.failures.length, 0);
  });

  test('bad-input warnings are rate-limited per reason', async () => {
    const warnsBefore = h.logger.lines.filter((l) => l.includes('WARN') && l.includes('reason=not_found')).length;
    for (let i = 0; i < 20; i++) await send(h.url, { headers: JSON_CT, body: '{}', agent, path: '/nope' });
    const warns = h.logger.lines.filter((l) => l.includes('WARN') && l.includes('reason=not_found')).length - warnsBefore;
    assert.ok(warns <= 5, `warned ${warns} times`);
    assert.equal(h.dropped('not_found'), 21);
    // Held-back lines still go to debug.
    assert.ok(h.logger.lines.filter((l) => l.includes('DEBUG') && l.includes('reason=not_found')).length >= 15);
  });

  test('keep-alive: several requests reuse one connection', async () => {
    const a = new Agent({ keepAlive: true, maxSockets: 1 });
    const ports = new Set<number>();
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        const u = new URL(h.url);
        const req = request({ host: u.hostname, port: u.port, method: 'POST', path: '/', headers: JSON_CT, agent: a }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('socket', (s) => s.once('connect', () => ports.add(s.localPort ?? 0)));
        req.on('error', reject);
        req.end(alertBody(120 + i));
      });
    }
    a.destroy();
    assert.equal(ports.size, 1);
  });
});

describe('falco receiver auth, binding and lifecycle', () => {
  test('bearer token: missing, wrong, wrong length rejected 401; right accepted', async () => {
    const h = await startReceiver({ auth: { bearer_token: 's3cret-token' } });
    try {
      const cases: [Record<string, string>, number][] = [
        [{}, 401],
        [{ authorization: 'Bearer s3cret-tokem' }, 401],
        [{ authorization: 'Bearer x' }, 401],
        [{ authorization: 'Basic czNjcmV0LXRva2Vu' }, 401],
        [{ authorization: 'Bearer s3cret-token' }, 200],
        [{ authorization: 'bearer  s3cret-token' }, 200],
      ];
      for (const [headers, status] of cases) {
        const r = await send(h.url, { headers: { ...JSON_CT, ...headers }, body: alertBody(5) });
        assert.equal(r.status, status, JSON.stringify(headers));
        if (status === 401) assert.equal(r.headers['www-authenticate'], 'Bearer realm="pastewatch"');
      }
      assert.equal(h.dropped('unauthorized'), 4);
      assert.equal(h.emitted.length, 2);
      // /healthz needs no token (kubelet probes carry none).
      assert.equal((await send(h.url, { method: 'GET', path: '/healthz' })).status, 200);
    } finally {
      await h.receiver.shutdown();
    }
  });

  test('default config listens on loopback 127.0.0.1:2801', async () => {
    const { settings } = makeSettings();
    const config = falcoConfigSchema.parse({});
    assert.equal(config.endpoint, '127.0.0.1:2801');
    const r = new FalcoReceiver(settings, config);
    await r.start({ emit: () => undefined, end: () => undefined, fail: () => undefined });
    try {
      const a = r.address();
      assert.deepEqual({ address: a?.address, port: a?.port, family: a?.family }, { address: '127.0.0.1', port: 2801, family: 'IPv4' });
      assert.equal(r.url(), 'http://127.0.0.1:2801/');
    } finally {
      await r.shutdown();
    }
  });

  test('a configured path and one method', async () => {
    const h = await startReceiver({ path: '/falco', accept_methods: ['POST'] });
    try {
      assert.equal((await send(h.url, { headers: JSON_CT, body: alertBody(1) })).status, 200);
      assert.equal((await send(h.url, { method: 'PUT', headers: JSON_CT, body: alertBody(1) })).status, 405);
      assert.equal((await send(h.url, { headers: JSON_CT, body: alertBody(1), path: '/' })).status, 404);
      assert.equal(h.emitted.length, 1);
    } finally {
      await h.receiver.shutdown();
    }
  });

  test('listening on ::1 (IPv6 loopback)', async () => {
    const h = await startReceiver({ endpoint: '[::1]:0' });
    try {
      assert.equal(h.receiver.address()?.address, '::1');
      assert.match(h.url, /^http:\/\/\[::1\]:\d+\/$/);
      assert.equal((await send(h.url, { headers: JSON_CT, body: alertBody(1) })).status, 200);
    } finally {
      await h.receiver.shutdown();
    }
  });

  test('address in use and unavailable address reject with LISTEN_FAILED naming the endpoint', async () => {
    const h = await startReceiver();
    const port = h.receiver.address()?.port;
    try {
      for (const endpoint of [`127.0.0.1:${port}`, '192.0.2.1:0']) {
        const { settings, health } = makeSettings('falco/second');
        const r = new FalcoReceiver(settings, falcoConfigSchema.parse({ endpoint }));
        await assert.rejects(r.start({ emit: () => undefined, end: () => undefined, fail: () => undefined }), (err: unknown) => {
          assert.ok(err instanceof PastewatchError);
          assert.equal(err.code, 'LISTEN_FAILED');
          assert.ok(err.message.includes(endpoint), err.message);
          assert.match(err.message, endpoint.startsWith('127') ? /EADDRINUSE/ : /EADDRNOTAVAIL/);
          return true;
        });
        assert.equal(health.list()[0]?.status, 'failed');
        await r.shutdown(); // safe after a failed start
      }
    } finally {
      await h.receiver.shutdown();
    }
  });

  test('shutdown without start is safe and idempotent', async () => {
    const { settings } = makeSettings();
    const r = new FalcoReceiver(settings, falcoConfigSchema.parse({}));
    await r.shutdown();
    await r.shutdown();
    assert.equal(r.address(), undefined);
  });

  test('shutdown drains an in-flight request, closes idle keep-alive sockets, is idempotent, then refuses connections', async () => {
    const h = await startReceiver();
    const u = new URL(h.url);
    const agent = new Agent({ keepAlive: true });
    // An idle keep-alive connection.
    assert.equal((await send(h.url, { headers: JSON_CT, body: alertBody(1), agent })).status, 200);
    // An in-flight request: half its body is sent before shutdown begins.
    const body = alertBody(2);
    let response: Promise<Reply> | undefined;
    const req = request({ host: u.hostname, port: u.port, method: 'POST', path: '/', headers: { ...JSON_CT, 'content-length': String(body.length) } });
    response = new Promise<Reply>((resolve, reject) => {
      req.on('response', (res) => {
        let b = '';
        res.on('data', (c: Buffer) => (b += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b }));
      });
      req.on('error', reject);
    });
    req.write(body.slice(0, 20));
    await new Promise((r) => setTimeout(r, 50));
    const stopping = h.receiver.shutdown();
    const again = h.receiver.shutdown();
    assert.equal(stopping, again, 'the same promise');
    req.end(body.slice(20));
    const r = await response;
    response = undefined;
    assert.equal(r.status, 200);
    assert.equal(r.headers.connection, 'close');
    await stopping;
    assert.deepEqual(h.emitted.map((o) => o.destination?.address), ['192.0.2.1', '192.0.2.2']);
    assert.equal(h.health.list()[0]?.status, 'stopped');
    await assert.rejects(send(h.url, { headers: JSON_CT, body: alertBody(3) }), /ECONNREFUSED/);
    agent.destroy();
    assert.equal(h.emitted.length, 2, 'nothing emitted after shutdown');
  });
});
