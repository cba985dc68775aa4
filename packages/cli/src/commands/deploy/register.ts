import type { Command } from 'commander';
import { collect } from '../../pairs.js';
import type { ContextFactory } from '../command-context.js';
import { examples } from '../help-text.js';
import type { CommandSelection } from '../tree-selection.js';

/** `fnts deploy [dir]`. */
export function registerDeployCommand(prog: Command, ctx: ContextFactory, full: CommandSelection): void {
  const cmd = prog
    .command('deploy [dir]')
    .description("build, push (with a registry), bump func.yaml's version, and create or update the function and its triggers");
  if (!full('deploy')) return;
  cmd
    .option('--app <app>', "the app to deploy to (default: app.yaml's name)")
    .option('--create-app', 'create the app if it does not exist')
    .option('--all', 'deploy every function directory below (needs app.yaml)')
    .option('--local', "build only, don't push: the server uses this machine's Docker engine (the default without a registry)")
    .option('--prune', "remove the function's config keys and triggers that are no longer in func.yaml")
    .option('--no-bump', 'keep the version in func.yaml')
    .option('--no-cache', 'build without Docker cache')
    .option('--no-typecheck', 'skip the TypeScript type check before the build')
    .option('--build-arg <KEY=VALUE>', 'build argument for a Dockerfile (runtime docker; repeatable)', collect)
    .option('--output <format>', 'json: print what was deployed as JSON')
    .addHelpText('after', examples(
      'fnts deploy --app myapp --create-app',
      'fnts deploy --all              # in a directory with app.yaml',
      'fnts deploy --app myapp --prune --local',
    ))
    .action(async (dir: string | undefined, o: {
      app?: string; createApp?: boolean; all?: boolean; local?: boolean; prune?: boolean; bump: boolean; cache: boolean; typecheck: boolean;
      buildArg?: string[]; output?: string;
    }) => {
      const { cache, ...rest } = o;
      // Loads the image builder (dockerode, esbuild, tar-fs) only for this command.
      const { deployCommand } = await import('./deploy.js');
      await deployCommand({ ...(dir ? { dir } : {}), ...rest, noCache: !cache }, await ctx({ steps: true }));
    });
}
