/** The resource every exported record carries: who reported it (service.*, host.name, OTEL_RESOURCE_ATTRIBUTES). */
import { hostname } from 'node:os';
import type { Attributes } from './attributes.js';
import { ATTR } from './attributes.js';
import { VERSION } from '../version.js';

/**
 * Resource attributes: service.name (OTEL_SERVICE_NAME or `pastewatch`), service.version, host.name, and
 * OTEL_RESOURCE_ATTRIBUTES (`k=v,k2=v2`, percent-decoded) — the standard variables users already set.
 */
export function buildResource(env: Record<string, string | undefined>, extra: Attributes = {}): Attributes {
  const res: Attributes = { [ATTR.SERVICE_NAME]: 'pastewatch', [ATTR.SERVICE_VERSION]: VERSION, [ATTR.HOST_NAME]: hostname() };
  for (const pair of (env.OTEL_RESOURCE_ATTRIBUTES ?? '').split(',')) {
    const i = pair.indexOf('=');
    if (i <= 0) continue;
    try {
      res[decodeURIComponent(pair.slice(0, i).trim())] = decodeURIComponent(pair.slice(i + 1).trim());
    } catch {
      // A malformed percent-encoding: the OTel spec says to discard the whole variable's bad entry.
    }
  }
  if (env.OTEL_SERVICE_NAME) res[ATTR.SERVICE_NAME] = env.OTEL_SERVICE_NAME;
  return { ...res, ...extra };
}
