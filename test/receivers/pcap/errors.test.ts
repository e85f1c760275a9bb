/**
 * The live receiver's start-up errors, for real: a bogus interface (INTERFACE_NOT_FOUND, naming the
 * interfaces that do exist) and capturing without the privilege (CAPTURE_PERMISSION, run as `nobody`
 * through setpriv), both from the component and from the CLI (exit 2, one clear line, no stack trace).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapReceiver } from '../../../src/receivers/pcap/receiver.js';
import { pcapSchema } from '../../../src/receivers/pcap/config.js';
import { listInterfaces } from '../../../src/receivers/pcap/interfaces.js';
import { loadPcap } from '../../../src/receivers/pcap/native.js';
import { PastewatchError } from '../../../src/util/errors.js';
import { testSettings } from '../../helpers/exporter-settings.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const pcapMissing = await loadPcap().then(
  () => undefined,
  (err: Error) => `the pcap module or libpcap is missing: ${err.message}`,
);
const setprivMissing = ['/usr/bin/setpriv', '/bin/setpriv'].some((p) => existsSync(p)) ? undefined : 'setpriv (util-linux) is not installed';
const notRoot = process.getuid?.() === 0 ? undefined : 'dropping to nobody needs root';
// The checkout may sit under a directory only root can enter (e.g. /root): then nobody cannot even load tsx.
const nobodyCannotRead = notRoot ?? setprivMissing ?? (() => {
  const r = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '-e', `for (const f of ${JSON.stringify([`${ROOT}src/cli.ts`, `${ROOT}node_modules/tsx/package.json`])}) require('fs').accessSync(f)`], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? undefined : `user nobody cannot read the checkout at ${ROOT} (a parent directory is not world-searchable)`;
})();

const sink = { emit: () => assert.fail('nothing may be emitted'), end: () => {}, fail: () => {} };

/** A config with the pcap receiver on `iface` writing JSON lines to stdout. */
function writeConfig(dir: string, iface: string): string {
  const cfg = join(dir, `${iface}.yaml`);
  writeFileSync(cfg, `receivers:\n  pcap:\n    interface: ${iface}\nexporters:\n  jsonl:\n    path: "-"\nservice:\n  pipelines:\n    logs:\n      receivers: [pcap]\n      exporters: [jsonl]\n`);
  chmodSync(cfg, 0o644);
  return cfg;
}

describe('pcap receiver start-up errors', { skip: pcapMissing ?? false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'pw-pcap-err-'));
  chmodSync(dir, 0o755); // nobody reads the config from here
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a bogus interface: INTERFACE_NOT_FOUND naming the interfaces that exist', async () => {
    const r = new PcapReceiver(testSettings('pcap', {}, 'receiver'), pcapSchema.parse({ interface: 'pwbogus0' }));
    const err = await r.start(sink).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof PastewatchError, String(err));
    assert.equal(err.code, 'INTERFACE_NOT_FOUND');
    assert.match(err.message, /interface "pwbogus0" does not exist/);
    const existing = listInterfaces().filter((n) => n !== 'any');
    assert.ok(existing.includes('lo'));
    for (const n of existing) assert.ok(err.message.includes(n), `${n} listed in: ${err.message}`);
    await r.shutdown(); // safe after a failed start
  });

  test('the CLI says the same in one line and exits 2', () => {
    const res = spawnSync(process.execPath, ['--import', 'tsx', 'test/helpers/run-cli.ts', 'run', '--config', writeConfig(dir, 'pwbogus0')], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    assert.equal(res.status, 2, res.stderr);
    assert.match(res.stderr, /interface "pwbogus0" does not exist in this network namespace; interfaces here: .*\blo\b/);
    assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(res.stdout, '', 'nothing was exported');
  });

  describe('without the capture privilege (as nobody)', { skip: notRoot ?? setprivMissing ?? nobodyCannotRead ?? false }, () => {
    const asNobody = (args: string[]): ReturnType<typeof spawnSync> =>
      spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '--import', 'tsx', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000, env: { ...process.env, HOME: dir } });

    test('the receiver rejects with CAPTURE_PERMISSION and says how to grant it', () => {
      const script = join(dir, 'start-as-nobody.mts');
      writeFileSync(script, [
        `import { PcapReceiver } from '${ROOT}src/receivers/pcap/receiver.ts';`,
        `import { pcapSchema } from '${ROOT}src/receivers/pcap/config.ts';`,
        `import { testSettings } from '${ROOT}test/helpers/exporter-settings.ts';`,
        `const r = new PcapReceiver(testSettings('pcap', {}, 'receiver'), pcapSchema.parse({ interface: 'lo' }));`,
        `await r.start({ emit() {}, end() {}, fail() {} }).then(() => console.log(JSON.stringify({ started: true })), (e) => console.log(JSON.stringify({ code: e.code, message: e.message, uid: process.getuid() })));`,
        `await r.shutdown();`,
      ].join('\n'));
      chmodSync(script, 0o644);
      const res = asNobody([script]);
      assert.equal(res.status, 0, String(res.stderr));
      const out = JSON.parse(String(res.stdout).trim().split('\n').pop()!) as { code?: string; message?: string; uid?: number };
      assert.notEqual(out.uid, 0);
      assert.equal(out.code, 'CAPTURE_PERMISSION', JSON.stringify(out));
      assert.match(out.message!, /cannot capture on "lo": .*(not permitted|Permission)/i);
      assert.match(out.message!, /CAP_NET_RAW/);
      assert.match(out.message!, /setcap cap_net_raw,cap_net_admin\+eip/);
    });

    test('the CLI exits 2 with that one line, no stack trace', () => {
      const res = asNobody(['test/helpers/run-cli.ts', 'run', '--config', writeConfig(dir, 'lo')]);
      assert.equal(res.status, 2, String(res.stderr));
      assert.match(String(res.stderr), /ERROR receivers::pcap: cannot capture on "lo": .*capturing needs CAP_NET_RAW/);
      assert.doesNotMatch(String(res.stderr), /\n\s+at /, 'no stack trace');
    });
  });
});
