/**
 * The catalog matcher: normalises a hostname (lower-case, no trailing dot, IDNA to punycode) and finds
 * the longest catalog domain it equals or is a subdomain of, on label boundaries. It runs for every name
 * of every observation, so it walks the name's label suffixes against a Map (no regex, no per-name
 * allocation beyond the suffix slices).
 */
import { domainToASCII } from 'node:url';
import { PastewatchError } from '../util/errors.js';
import type { Category, CatalogEntry, CatalogSeverity } from './paste-services.js';
import { CATEGORY_SEVERITY, DEFAULT_CATEGORIES, PASTE_SERVICES } from './paste-services.js';

/** A domain added from config (`catalog.extra_domains`). */
export interface ExtraDomain {
  domain: string;
  category: Category;
  /** Display name; the domain itself when empty. */
  service?: string;
  severity?: CatalogSeverity;
  notes?: string;
}

/** How a matcher is built: which categories are on, what to add, what never to match. */
export interface MatcherOptions {
  /** Enabled categories; DEFAULT_CATEGORIES when omitted. Extra domains are matched whatever their category. */
  categories?: readonly Category[];
  extraDomains?: readonly ExtraDomain[];
  /** Names (and their subdomains) that never match, even when a catalog entry covers them. */
  allowedDomains?: readonly string[];
  /** Replaces the built-in catalog (tests, tools). */
  entries?: readonly CatalogEntry[];
}

/** True when the name needs the slow normalisation path (upper case, non-ASCII, trailing dot, spaces). */
function needsWork(name: string): boolean {
  const n = name.length;
  if (n === 0 || name.charCodeAt(n - 1) === 46 /* . */) return true;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if ((c >= 65 && c <= 90) || c > 126 || c <= 32) return true;
  }
  return false;
}

const VALID_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * A name in catalog form: lower-case ASCII, trailing dots stripped, Unicode labels as punycode (xn--).
 * Returns '' when the name cannot be a hostname (empty, or IDNA conversion fails).
 */
export function normaliseName(name: string): string {
  if (!needsWork(name)) return name;
  let s = name.trim();
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 46) end--;
  s = s.slice(0, end).toLowerCase();
  if (s === '') return '';
  // domainToASCII lower-cases, maps Unicode labels to xn-- and keeps existing xn-- labels; '' when invalid.
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 126) return domainToASCII(s);
  }
  return s;
}

/** True when a normalised name is a syntactically valid hostname (labels of [a-z0-9_-], <= 253 chars). */
export function isValidHostname(name: string): boolean {
  if (name === '' || name.length > 253) return false;
  for (const label of name.split('.')) if (!VALID_LABEL.test(label)) return false;
  return true;
}

/** The built-in catalog with config overlays applied; match() answers for one name. */
export class CatalogMatcher {
  private readonly byDomain = new Map<string, CatalogEntry>();
  private readonly allowed = new Set<string>();
  /** Most labels any catalog or allowed domain has: longer suffixes of a name need no lookup. */
  private maxLabels = 1;
  /** The last two labels of every catalog and allowed domain: a name whose last two are elsewhere cannot match. */
  private readonly tails = new Set<string>();

  /** Builds the lookup tables; throws PastewatchError CONFIG_INVALID naming a bad extra or allowed domain. */
  constructor(opts: MatcherOptions = {}) {
    const enabled = new Set<Category>(opts.categories ?? DEFAULT_CATEGORIES);
    for (const e of opts.entries ?? PASTE_SERVICES) if (enabled.has(e.category)) this.byDomain.set(e.domain, e);
    for (const x of opts.extraDomains ?? []) {
      const domain = normaliseName(x.domain);
      if (!isValidHostname(domain)) throw new PastewatchError('CONFIG_INVALID', `catalog extra domain "${x.domain}" is not a valid hostname`);
      // A config entry overrides a built-in one of the same domain (change its category or severity).
      this.byDomain.set(domain, {
        domain,
        service: x.service || domain,
        category: x.category,
        severity: x.severity ?? CATEGORY_SEVERITY[x.category],
        sources: [],
        notes: x.notes ?? 'added by configuration',
      });
    }
    for (const a of opts.allowedDomains ?? []) {
      const domain = normaliseName(a);
      if (!isValidHostname(domain)) throw new PastewatchError('CONFIG_INVALID', `catalog allowed domain "${a}" is not a valid hostname`);
      this.allowed.add(domain);
    }
    for (const d of [...this.byDomain.keys(), ...this.allowed]) {
      const labels = d.split('.');
      this.maxLabels = Math.max(this.maxLabels, labels.length);
      this.tails.add(labels.slice(-2).join('.'));
    }
  }

  /** Number of domains that can match. */
  get size(): number {
    return this.byDomain.size;
  }

  /** Every entry that can match (for docs and `components` output). */
  entries(): CatalogEntry[] {
    return [...this.byDomain.values()];
  }

  /** The entry for the longest catalog domain the name equals or is a subdomain of, unless an allowed domain covers it. */
  match(name: string): CatalogEntry | undefined {
    const n = normaliseName(name);
    if (n === '') return undefined;
    // This runs for every name of every observation (and DNS message, when pushed down to the packet path):
    // first a cheap reject on the last two labels, then at most maxLabels suffix lookups.
    const last = n.lastIndexOf('.');
    if (last < 0) return this.lookup(n, n);
    const second = n.lastIndexOf('.', last - 1);
    if (!this.tails.has(second < 0 ? n : n.slice(second + 1))) return undefined;
    let from = 0;
    let dots = 0;
    for (let i = n.length - 1; i >= 0; i--) {
      if (n.charCodeAt(i) === 46 && ++dots === this.maxLabels) {
        from = i + 1;
        break;
      }
    }
    return this.lookup(n, from === 0 ? n : n.slice(from), from);
  }

  /** Walks suffixes from `suffix` (starting at `from` in n) down: the first hit is the longest domain. */
  private lookup(n: string, suffix: string, from = 0): CatalogEntry | undefined {
    let found: CatalogEntry | undefined;
    while (true) {
      if (this.allowed.size !== 0 && this.allowed.has(suffix)) return undefined;
      if (found === undefined) found = this.byDomain.get(suffix);
      if (found !== undefined && this.allowed.size === 0) return found;
      const dot = n.indexOf('.', from);
      if (dot < 0) return found;
      from = dot + 1;
      suffix = n.slice(from);
    }
  }

}
