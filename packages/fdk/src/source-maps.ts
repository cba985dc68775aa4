// Stack traces that point at the user's TypeScript lines, paid for only when a stack is first formatted. Node's own
// --enable-source-maps reads and parses every map as its module loads, before the FDK can listen (measured: about 10 ms
// of CPU per container start, more under load); a function that never formats a stack never needs the map.
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

type Frame = NodeJS.CallSite;

/**
 * What formats stacks before any of the function's own code runs: Node's default (a function since Node 20) or nothing.
 * The FDK's modules are evaluated before the code that imports them, so anything else later was set by the function.
 */
const NODE_DEFAULT = Error.prepareStackTrace;

/** The bundle's source map, loaded on first use; null once it is known to be missing or unreadable. */
interface MapState {
  map: SourceMap | null | undefined;
}

function loadMap(file: string): SourceMap | null {
  try {
    return new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]);
  } catch {
    return null;
  }
}

/** `frame`'s text with the bundle's position replaced by the original source's, when the map knows it. */
function mappedFrame(frame: Frame, file: string, url: string, mapUrl: string, state: MapState): string {
  const text = frame.toString();
  const name = frame.getFileName();
  const line = frame.getLineNumber();
  const column = frame.getColumnNumber();
  if ((name !== file && name !== url) || line === null || column === null) return text;
  state.map ??= loadMap(file);
  if (!state.map) return text;
  const entry = state.map.findEntry(line - 1, column - 1) as Partial<{ originalSource: string; originalLine: number; originalColumn: number }>;
  if (entry.originalSource === undefined || entry.originalLine === undefined || entry.originalColumn === undefined) return text;
  let source = entry.originalSource;
  try {
    source = fileURLToPath(new URL(source, mapUrl));
  } catch {
    // Not a relative path or file URL: shown as the map names it.
  }
  return text.replace(`${name}:${line}:${column}`, `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`);
}

/**
 * Maps frames of the module at `moduleUrl` (the bundle: the FDK is bundled into it) through `<its path>.map` when a
 * stack is formatted. Does nothing when Node already maps stacks (--enable-source-maps) or something else formats them.
 */
export function installLazySourceMaps(moduleUrl: string): void {
  if (process.sourceMapsEnabled || Error.prepareStackTrace !== NODE_DEFAULT || !moduleUrl.startsWith('file:')) return;
  const file = fileURLToPath(moduleUrl);
  const mapUrl = `${moduleUrl}.map`;
  const state: MapState = { map: undefined };
  Error.prepareStackTrace = (error: Error, frames: Frame[]): string => {
    let head: string;
    try {
      head = Error.prototype.toString.call(error);
    } catch {
      head = '<error>';
    }
    return head + frames.map((f) => `\n    at ${mappedFrame(f, file, moduleUrl, mapUrl, state)}`).join('');
  };
}
