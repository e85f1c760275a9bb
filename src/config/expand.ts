/**
 * Environment expansion with the OpenTelemetry Collector's rules: `${env:VAR}` == `${VAR}`,
 * `${env:VAR:-default}`, `$$` is a literal `$`, a bare `$VAR` is left alone. A scalar that is exactly one
 * reference is re-parsed as YAML so numbers and booleans stay typed.
 */

/** A reference that could not be expanded. */
export interface ExpandProblem {
  message: string;
}

const REF = /\$\$|\$\{([^}]*)\}/g;
const VAR = /^(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/** Expands references in one string; problems (missing variables, unknown providers) are collected. */
export function expandString(text: string, env: Record<string, string | undefined>, problems: ExpandProblem[]): string {
  if (!text.includes('$')) return text;
  return text.replace(REF, (whole: string, inner: string | undefined) => {
    if (whole === '$$') return '$';
    const m = VAR.exec(inner ?? '');
    if (!m) {
      const provider = /^([a-z]+):/.exec(inner ?? '')?.[1];
      problems.push({
        message: provider && provider !== 'env'
          ? `\${${inner}}: config provider "${provider}" is not supported (only env)`
          : `\${${inner}}: not a valid environment reference (use \${env:NAME} or \${env:NAME:-default})`,
      });
      return whole;
    }
    const value = env[m[1]];
    if (value !== undefined && value !== '') return value;
    if (m[2] !== undefined) return m[2];
    if (value === '') return '';
    problems.push({ message: `environment variable ${m[1]} is not set and the reference has no default (\${env:${m[1]}:-default})` });
    return '';
  });
}

/** True when the text is exactly one `${...}` reference (so its expansion keeps a YAML type). */
export function isWholeReference(text: string): boolean {
  return /^\$\{[^}]*\}$/.test(text);
}
