import { existsSync, readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';

/**
 * `.dockerignore` for `runtime: docker`, as `docker build` reads it: one pattern per line (`*`, `?`, `**`),
 * `#` comments, `!` to bring a path back, the last matching line wins, and a pattern that matches a directory
 * leaves out everything in it. The Dockerfile and .dockerignore are always sent.
 */

interface IgnoreRule {
  regex: RegExp;
  negate: boolean;
  pattern: string;
}

function toRegex(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && pattern[i + 1] === '*') {
      const slash = pattern[i + 2] === '/';
      out += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += /[\\^$.|+(){}[\]]/.test(c) ? `\\${c}` : c;
  }
  return new RegExp(`^${out}$`);
}

export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1).trim();
    line = posix.normalize(line).replace(/^\/+/, '').replace(/\/+$/, '');
    if (!line || line === '.') continue;
    rules.push({ regex: toRegex(line), negate, pattern: line });
  }
  return rules;
}

/** Whether a context-relative path (posix) is left out: it, or a directory above it, matches the last rule. */
export function isIgnored(rules: readonly IgnoreRule[], rel: string): boolean {
  if (rel === 'Dockerfile' || rel === '.dockerignore') return false;
  const parts = rel.split('/');
  let ignored = false;
  for (const rule of rules) {
    const hit = parts.some((_, i) => rule.regex.test(parts.slice(0, i + 1).join('/')));
    if (hit) ignored = !rule.negate;
  }
  // Keep walking into an ignored directory when a later `!` pattern may bring back something inside it.
  if (ignored && rules.some((r) => r.negate && r.pattern.startsWith(`${rel}/`))) return false;
  return ignored;
}

/** A tar-fs `ignore` function for a build context directory, or undefined when it has no .dockerignore. */
export function dockerignoreFilter(contextDir: string): ((path: string) => boolean) | undefined {
  const file = join(contextDir, '.dockerignore');
  if (!existsSync(file)) return undefined;
  const rules = parseDockerignore(readFileSync(file, 'utf8'));
  return (path) => {
    const rel = relative(contextDir, path).split(sep).join('/');
    return rel !== '' && isIgnored(rules, rel);
  };
}
