import type { Command } from 'commander';
import { collect } from '../../pairs.js';
import type { ContextFactory } from '../command-context.js';
import { examples } from '../help-text.js';
import type { CommandSelection } from '../tree-selection.js';

/** `fnts build [dir]`. */
export function registerBuildCommand(prog: Command, ctx: ContextFactory, full: CommandSelection): void {
  const cmd = prog
    .command('build [dir]')
    .description('build the function image (never pushes)');
  if (!full('build')) return;
  cmd
    .option('--app <app>', "name the image for this app, as deploy does (default: app.yaml's name)")
    .option('--no-cache', 'build without Docker cache')
    .option('--build-arg <KEY=VALUE>', 'build argument for a Dockerfile (runtime docker; repeatable)', collect)
    .option('--output <format>', 'json: print the image, layer size and copied native packages as JSON')
    .option('--no-typecheck', 'skip the TypeScript type check before the build')
    .addHelpText('after', examples('fnts build', 'fnts build hello --no-cache', 'fnts build --build-arg NODE_ENV=production --verbose'))
    .action(async (dir: string | undefined, o: { app?: string; cache: boolean; typecheck: boolean; buildArg?: string[]; output?: string }) => {
      // Loads the image builder (dockerode, esbuild, tar-fs) only for this command.
      const { buildCommand } = await import('./build.js');
      await buildCommand(
        {
          ...(dir ? { dir } : {}), ...(o.app ? { app: o.app } : {}), noCache: !o.cache, typecheck: o.typecheck,
          ...(o.buildArg ? { buildArg: o.buildArg } : {}), ...(o.output ? { output: o.output } : {}),
        },
        await ctx({ steps: true }),
      );
    });
}
