/**
 * A network-namespace lab for live-capture tests: a "pod" namespace joined to an "internet" namespace by a
 * veth pair, the pod's default route and resolver pointing at the internet side, where
 * netns-lab-servers.mjs answers DNS for the lab's names and serves HTTPS (443), HTTP (80) and a CONNECT
 * proxy (3128) with a throwaway certificate. Needs root (CAP_SYS_ADMIN + CAP_NET_ADMIN); tests skip with
 * netnsUnavailableReason() where namespaces are impossible.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A running lab. */
export interface NetnsLab {
  pod: string;
  internet: string;
  /** The pod's end of the veth pair (its default-route interface). */
  podInterface: string;
  podAddress: string;
  internetAddress: string;
  /** PEM certificate the HTTPS listener serves (for --cacert / NODE_EXTRA_CA_CERTS). */
  caFile: string;
  dir: string;
  /** Runs a command in the pod namespace and collects its output (never rejects; see code). */
  run(cmd: string, args: string[], opts?: { timeoutMs?: number; env?: Record<string, string>; input?: string }): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Spawns a long-running command in the pod namespace. */
  spawnInPod(cmd: string, args: string[], opts?: SpawnOptions): ChildProcess;
  close(): Promise<void>;
}

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Why network namespaces cannot be made here (not root, no ip, no kernel support), or undefined. */
export function netnsUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root (CAP_SYS_ADMIN); run the tests as root, as .ci/run does';
  const probe = `pwprobe${process.pid}`;
  try {
    ip('netns', 'add', probe);
  } catch (err) {
    return `cannot create a network namespace: ${(err as { stderr?: string }).stderr?.trim() || String(err)}`;
  }
  try {
    ip('netns', 'del', probe);
  } catch {
    // best effort
  }
  return undefined;
}

/** How far away the lab's "internet" is. */
export interface LabOptions {
  /** Every DNS answer leaves this long after its query arrived (default 0). */
  dnsDelayMs?: number;
  /** Every TCP server (HTTPS, HTTP, proxy) starts talking this long after accepting (default 0). */
  tcpDelayMs?: number;
}

/**
 * Makes the lab; `names` are the DNS names the internet side answers (and puts in its certificate), each
 * `name` (answered with the internet address) or `name=10.77.0.N` (an extra address of the internet side).
 */
export async function createLab(names: string[], options: LabOptions = {}): Promise<NetnsLab> {
  const id = `${process.pid.toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`.slice(-6);
  const pod = `pwpod${id}`;
  const internet = `pwnet${id}`;
  const podIf = `pwp${id}`;
  const netIf = `pwn${id}`;
  const podAddress = '10.77.0.2';
  const internetAddress = '10.77.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'pw-lab-'));
  const children: ChildProcess[] = [];
  const cleanup = (): void => {
    for (const c of children) c.kill('SIGKILL');
    for (const ns of [pod, internet]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // already gone
      }
    }
    rmSync(`/etc/netns/${pod}`, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    ip('netns', 'add', pod);
    ip('netns', 'add', internet);
    ip('link', 'add', podIf, 'type', 'veth', 'peer', 'name', netIf);
    ip('link', 'set', podIf, 'netns', pod);
    ip('link', 'set', netIf, 'netns', internet);
    ip('-n', pod, 'addr', 'add', `${podAddress}/24`, 'dev', podIf);
    ip('-n', internet, 'addr', 'add', `${internetAddress}/24`, 'dev', netIf);
    for (const extra of new Set(names.map((n) => n.split('=')[1]).filter(Boolean))) ip('-n', internet, 'addr', 'add', `${extra}/24`, 'dev', netIf);
    for (const [ns, dev] of [[pod, podIf], [internet, netIf], [pod, 'lo'], [internet, 'lo']]) ip('-n', ns, 'link', 'set', dev, 'up');
    ip('-n', pod, 'route', 'add', 'default', 'via', internetAddress);
    // `ip netns exec` bind-mounts /etc/netns/<ns>/resolv.conf over /etc/resolv.conf.
    mkdirSync(`/etc/netns/${pod}`, { recursive: true });
    writeFileSync(`/etc/netns/${pod}/resolv.conf`, `nameserver ${internetAddress}\noptions timeout:1 attempts:2\n`);
    writeFileSync(`/etc/netns/${pod}/hosts`, '127.0.0.1 localhost\n');
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${names[0].split('=')[0]}`,
      '-addext', `subjectAltName=${names.map((n) => n.split('=')[0]).map((n) => `DNS:${n},DNS:*.${n}`).join(',')}`, '-keyout', key, '-out', cert], { stdio: 'ignore' });
    const servers = fileURLToPath(new URL('./netns-lab-servers.mjs', import.meta.url));
    const srv = spawn('ip', ['netns', 'exec', internet, process.execPath, servers, internetAddress, cert, key, ...names], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, PW_LAB_DNS_DELAY_MS: String(options.dnsDelayMs ?? 0), PW_LAB_TCP_DELAY_MS: String(options.tcpDelayMs ?? 0) },
    });
    children.push(srv);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('lab servers did not start within 10 s')), 10_000);
      srv.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) {
          clearTimeout(t);
          resolve();
        }
      });
      srv.once('exit', (code) => reject(new Error(`lab servers exited with ${code}`)));
    });
    const lab: NetnsLab = {
      pod,
      internet,
      podInterface: podIf,
      podAddress,
      internetAddress,
      caFile: cert,
      dir,
      run: (cmd, args, opts = {}) =>
        new Promise((resolve) => {
          const c = spawn('ip', ['netns', 'exec', pod, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
          let stdout = '';
          let stderr = '';
          c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
          c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
          c.stdin.end(opts.input ?? '');
          const t = setTimeout(() => c.kill('SIGKILL'), opts.timeoutMs ?? 15_000);
          c.on('close', (code) => {
            clearTimeout(t);
            resolve({ code, stdout, stderr });
          });
        }),
      spawnInPod: (cmd, args, opts = {}) => {
        const c = spawn('ip', ['netns', 'exec', pod, cmd, ...args], opts);
        children.push(c);
        return c;
      },
      close: async () => cleanup(),
    };
    return lab;
  } catch (err) {
    cleanup();
    throw err;
  }
}
