/** The Kubernetes downward API labels file: one `key="value"` line per label (Go %q quoting). */

/** Parses the labels file text; lines that do not parse are skipped. */
export function parseLabelsFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([^=\s]+)\s*=\s*(".*")\s*$/.exec(line);
    if (!m) continue;
    try {
      out[m[1]] = JSON.parse(m[2]) as string;
    } catch {
      out[m[1]] = m[2].slice(1, -1);
    }
  }
  return out;
}
