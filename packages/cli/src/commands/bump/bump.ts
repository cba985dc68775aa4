import { resolve } from 'node:path';
import { cliErrors } from '../../errors.js';
import { bumpVersion, loadFuncFile, updateFuncFile, type VersionPart } from '../../funcfile.js';
import type { CommandContext } from '../command-context.js';

export interface BumpOptions {
  dir?: string;
  major?: boolean;
  minor?: boolean;
}

/** `fnts bump [--major|--minor]`: raises func.yaml's version (patch by default), keeping the rest of the file. */
export async function bumpCommand(opts: BumpOptions, ctx: CommandContext): Promise<string> {
  if (opts.major && opts.minor) throw cliErrors.usage('--major and --minor cannot be used together', 'pick one, or neither for a patch bump');
  const part: VersionPart = opts.major ? 'major' : opts.minor ? 'minor' : 'patch';
  const loaded = await loadFuncFile(resolve(ctx.cwd, opts.dir ?? '.'));
  const version = bumpVersion(loaded.func.version, part);
  await updateFuncFile(loaded, 'version', version);
  ctx.output.out(`Bumped to version ${version}\n`);
  return version;
}
