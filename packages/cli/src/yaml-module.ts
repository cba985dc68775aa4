import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

let loaded: typeof Yaml | undefined;

/**
 * The yaml package, loaded on first use: settings are read on every command but parse YAML only when a config or
 * context file exists, and loading yaml costs about as much as the rest of `fnts list apps`. (The package is CommonJS
 * for Node, so this is the same instance a static `import` would get.)
 */
export function yaml(): typeof Yaml {
  return (loaded ??= createRequire(import.meta.url)('yaml') as typeof Yaml);
}
