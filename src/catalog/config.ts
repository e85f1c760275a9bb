/** The `catalog` settings block shared by processors that match names (paste_classifier). */
import { z } from 'zod';
import type { ConfigProblem } from '../component/types.js';
import { CATEGORIES, DEFAULT_CATEGORIES } from './paste-services.js';
import type { Category } from './paste-services.js';
import { isValidHostname, normaliseName } from './matcher.js';
import type { MatcherOptions } from './matcher.js';

const categoryEnum = z.enum(CATEGORIES as [Category, ...Category[]]);

/** One `catalog.extra_domains` item. */
export const extraDomainSchema = z.strictObject({
  /** Domain matched on label boundaries (subdomains included). */
  domain: z.string().min(1),
  category: categoryEnum,
  /** Display name; the domain when empty. */
  service: z.string().default(''),
  /** Floor severity; the category's default when omitted. */
  severity: z.enum(['INFO', 'WARN', 'ERROR', 'FATAL']).optional(),
  notes: z.string().default(''),
});

/** `catalog` settings: which categories match, extra domains, domains that never match. */
export const catalogSchema = z.strictObject({
  /** Enabled categories (paste_like, code_hosting_raw, cloud_storage are opt-in). */
  categories: z.array(categoryEnum).default([...DEFAULT_CATEGORIES]),
  /** Domains to add (or to override a built-in entry's category/severity). */
  extra_domains: z.array(extraDomainSchema).default([]),
  /** Domains (and subdomains) that never match, even if the catalog lists them. */
  allowed_domains: z.array(z.string()).default([]),
});

/** Parsed `catalog` settings. */
export type CatalogConfig = z.infer<typeof catalogSchema>;

/** Problems the schema cannot see: names that are not hostnames (paths relative to the catalog block). */
export function validateCatalogConfig(c: CatalogConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  c.extra_domains.forEach((x, i) => {
    if (!isValidHostname(normaliseName(x.domain))) problems.push({ path: ['extra_domains', i, 'domain'], message: `"${x.domain}" is not a valid hostname` });
  });
  c.allowed_domains.forEach((a, i) => {
    if (!isValidHostname(normaliseName(a))) problems.push({ path: ['allowed_domains', i], message: `"${a}" is not a valid hostname` });
  });
  return problems;
}

/** Matcher options from parsed settings. */
export function matcherOptions(c: CatalogConfig): MatcherOptions {
  return {
    categories: c.categories,
    extraDomains: c.extra_domains.map((x) => ({ domain: x.domain, category: x.category, service: x.service, severity: x.severity, notes: x.notes || undefined })),
    allowedDomains: c.allowed_domains,
  };
}
