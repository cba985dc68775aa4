/** A user-facing failure: one line saying what went wrong, and a hint saying what to do. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The server answered with an error status; `status` lets a command add a hint for the cases it expects. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    /** The server's own message, e.g. `App already exists`. */
    readonly apiMessage: string,
    code?: string,
    hint?: string,
  ) {
    super(code ?? 'FNTS_ERR_API', `server answered ${status}: ${apiMessage}`, hint);
    this.name = 'ApiError';
  }

  /** The same error with a hint saying what to do about it. */
  withHint(hint: string): ApiError {
    return new ApiError(this.status, this.apiMessage, this.code, hint);
  }
}

/** The CLI's error registry: stable codes `FNTS_ERR_<AREA>_<CONDITION>`. */
export const cliErrors = {
  funcfileMissing: (dir: string) =>
    new CliError('FNTS_ERR_FUNCFILE_MISSING', `no func.yaml in ${dir}`, 'run `fnts init` here, or pass the function directory'),
  funcfileInvalid: (file: string, problems: string[]) =>
    new CliError('FNTS_ERR_FUNCFILE_INVALID', `${file} has ${problems.length} problem(s):\n  ${problems.join('\n  ')}`,
      'fix the lines above and run the command again'),
  appfileInvalid: (file: string, problems: string[]) =>
    new CliError('FNTS_ERR_APPFILE_INVALID', `${file} has ${problems.length} problem(s):\n  ${problems.join('\n  ')}`,
      'fix the lines above and run the command again'),
  contextFileInvalid: (file: string, problems: string[]) =>
    new CliError('FNTS_ERR_CONTEXT_INVALID', `${file} has ${problems.length} problem(s):\n  ${problems.join('\n  ')}`,
      'fix the lines above, or recreate the context with `fnts delete context` and `fnts create context`'),
  contextNotFound: (name: string, hint?: string) =>
    new CliError('FNTS_ERR_CONTEXT_NOT_FOUND', `context "${name}" not found`,
      hint ?? `see the contexts with \`fnts list contexts\`, or create it with \`fnts create context ${name} --api-url URL\``),
  contextExists: (name: string) =>
    new CliError('FNTS_ERR_CONTEXT_EXISTS', `context "${name}" already exists`,
      `change it with \`fnts update context ${name} --api-url URL --registry REGISTRY\`, or pick another name`),
  contextInUse: (name: string) =>
    new CliError('FNTS_ERR_CONTEXT_IN_USE', `context "${name}" is the current context and cannot be deleted`,
      'switch to another one first, for example `fnts use context default`'),
  push: (image: string, cause: string) =>
    new CliError('FNTS_ERR_PUSH', `could not push ${image}: ${cause}`,
      'check that the registry is reachable and that Docker may push to it (docker login), or deploy with --local to keep the image on this engine'),
  funcfileExists: (file: string) =>
    new CliError('FNTS_ERR_FUNCFILE_EXISTS', `${file} already exists`, 'use --force to overwrite it'),
  usage: (message: string, hint?: string) => new CliError('FNTS_ERR_USAGE', message, hint, 2),
  /** `fnts start`: the server's settings (flags, FNTS_* variables) do not add up; one line per problem. */
  serverConfig: (problems: readonly string[]) =>
    new CliError('FNTS_ERR_CONFIG', problems.length === 1 ? `invalid server setting: ${problems[0]}` :
      `${problems.length} invalid server settings:\n  ${problems.join('\n  ')}`,
    'fix the flags or FNTS_* variables named above; `fnts start --help` lists them'),
  serverUnreachable: (url: string, cause: string) =>
    new CliError('FNTS_ERR_SERVER_UNREACHABLE', `cannot reach the fnts server at ${url} (${cause})`,
      'start one with `fnts start`, or point FNTS_API_URL or the current context (`fnts inspect context`) at a running server'),
  api: (status: number, message: string, code?: string, hint?: string) => new ApiError(status, message, code, hint),
  dockerUnreachable: (cause: string) =>
    new CliError('FNTS_ERR_DOCKER_UNREACHABLE', `cannot reach the Docker engine (${cause})`,
      'start dockerd, or set DOCKER_HOST to its unix socket'),
  build: (message: string, hint?: string) => new CliError('FNTS_ERR_BUILD', message, hint),
  /** `fnts build`/`deploy`: the TypeScript function does not type-check; `lines` are `file:line:col - error ...`. */
  typecheck: (dir: string, count: number, lines: string[]) =>
    new CliError('FNTS_ERR_TYPECHECK', `the function in ${dir} has ${count} type error(s):\n  ${lines.join('\n  ')}`,
      'fix the errors above, or build without the check with --no-typecheck'),
  notFound: (what: string, hint?: string) => new CliError('FNTS_ERR_NOT_FOUND', `${what} not found`, hint),
  /** `fnts stream put` got input it cannot send (a message over the limit, bad base64); `hint` says what was put before it. */
  streamInput: (message: string, hint: string) => new CliError('FNTS_ERR_STREAM_INPUT', message, hint),
  /** `fnts stream put|tail kafka://…`: the brokers did not answer in time (or refused the connection's security settings). */
  kafkaUnreachable: (brokers: string, cause: string) =>
    new CliError('FNTS_ERR_KAFKA_UNREACHABLE', `cannot reach the Kafka brokers at ${brokers} (${cause})`,
      'check the host:port list in the kafka:// name and that the brokers listen there; for TLS or SASL set FNTS_KAFKA_SECURITY_PROTOCOL, FNTS_KAFKA_SASL_* and FNTS_KAFKA_SSL_* as for the server'),
  /** FNTS_KAFKA_* settings that do not add up; `problems` as the server reports them. */
  kafkaSettings: (problems: string[]) =>
    new CliError('FNTS_ERR_KAFKA_SETTINGS', `invalid Kafka settings: ${problems.join('; ')}`,
      'fix these FNTS_KAFKA_* environment variables (the CLI reads the same ones as the server)', 2),
  /** `fnts stream put|tail kafka://…` where the optional Kafka client package is not installed. */
  kafkaClientMissing: (message: string, hint: string) => new CliError('FNTS_ERR_KAFKA_CLIENT_MISSING', message, hint),
  /** Kafka refused or failed a produce or a read. */
  kafka: (message: string, hint?: string) => new CliError('FNTS_ERR_KAFKA', message, hint),
  /** A stream trigger command on a trigger of another type. */
  notStreamTrigger: (app: string, name: string, type: string) =>
    new CliError('FNTS_ERR_NOT_STREAM_TRIGGER', `trigger "${name}" is a ${type} trigger; status, pause, resume, seek and redrive are for stream triggers`,
      `see the app's triggers and their types with \`fnts list triggers ${app}\``),
} as const;
