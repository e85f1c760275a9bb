/** Config problems: a key path, a message and, where the YAML parser knows it, a line number. */

/** One problem found while loading or validating a config. */
export interface Problem {
  /** Key path from the document root, e.g. ['receivers', 'falco', 'max_body_bytes']. */
  path: (string | number)[];
  message: string;
  line?: number;
}

/** `receivers::falco::max_body_bytes: must be > 0 (line 12)` — the collector's `::` path style. */
export function formatProblem(p: Problem): string {
  const where = p.path.length ? `${p.path.join('::')}: ` : '';
  return `${where}${p.message}${p.line ? ` (line ${p.line})` : ''}`;
}
