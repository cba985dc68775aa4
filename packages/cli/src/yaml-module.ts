import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

let loaded: typeof Yaml | undefined;

/**
 * The yaml package, loaded on first use. Settings are read on every command but only parse YAML when a config or
 * context file exists, and loading yaml costs about as much as the rest of `fnts list apps`; the package is CommonJS
 * for Node, so `require` gives the same instance that a static `import` elsewhere (funcfile.ts) gets.
 */
export function yaml(): typeof Yaml {
  return (loaded ??= createRequire(import.meta.url)('yaml') as typeof Yaml);
}
