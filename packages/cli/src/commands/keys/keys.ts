import { API_KEY_SCOPES, createApiKey, isApiKeyScope, type ApiKeyScope } from '@fnts/api/api-keys';
import { cliErrors } from '../../errors.js';
import type { CommandContext } from '../command-context.js';

export interface KeysCreateOptions {
  scope?: string;
  name?: string;
  output?: string;
}

export interface CreatedKey {
  key: string;
  scope: ApiKeyScope;
  /** The line for the server's keys file: the key's SHA-256, never the key. */
  line: string;
}

/**
 * `fnts keys create`: makes a random key and prints it once, with the line to append to the server's keys file.
 * Nothing is stored: the key goes to the client (a context's --api-key, FNTS_API_KEY), the line to the server.
 */
export async function keysCreateCommand(opts: KeysCreateOptions, ctx: CommandContext): Promise<CreatedKey> {
  const scope = opts.scope ?? 'admin';
  if (!isApiKeyScope(scope)) {
    throw cliErrors.usage(`--scope ${scope} is not a scope`, `use one of ${API_KEY_SCOPES.join(', ')}`);
  }
  if (opts.name !== undefined && !/^[!-~]+$/.test(opts.name)) {
    throw cliErrors.usage(`--name "${opts.name}" must be one word`, 'for example --name ci-deploy');
  }
  const created: CreatedKey = { ...createApiKey(scope, opts.name), scope };
  if (opts.output === 'json') {
    ctx.output.out(`${JSON.stringify(created, null, 2)}\n`);
    return created;
  }
  ctx.output.out(`key:  ${created.key}\nline: ${created.line}\n`);
  ctx.output.info(
    'The key is shown only now. Append the line to the server\'s keys file (fnts start --api-keys-file FILE, or ' +
      'FNTS_API_KEYS_FILE) and restart it; give the key to clients: `fnts update context NAME --api-key KEY`, or ' +
      'FNTS_API_KEY (FN_TOKEN for the Fn CLI).\n',
  );
  return created;
}
