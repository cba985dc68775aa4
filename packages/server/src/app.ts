import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { monotonicFactory } from 'ulid';
import { Agent } from './agent/agent.js';
import { DockerDriver } from './agent/docker.js';
import { appRoutes } from './api/apps.js';
import type { ApiDeps } from './api/deps.js';
import { fnRoutes } from './api/fns.js';
import { invokeRoutes } from './api/invoke.js';
import type { ServerConfig } from './config.js';
import { errors, isFntsError } from './errors.js';
import type { Datastore } from './store/datastore.js';
import { SqliteDatastore } from './store/sqlite.js';
import { FNTS_VERSION } from './version.js';

/** The services a server is built from; anything not given is made from the config. */
export interface AppDeps {
  config: ServerConfig;
  logger?: Logger;
  store?: Datastore;
  agent?: Agent;
}

/** Builds the whole server from injected services, without listening (tests call `inject`). */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const logger = deps.logger ?? pino({ level: config.logLevel });
  const store = deps.store ?? new SqliteDatastore(config.dbPath);
  const agent = deps.agent ?? new Agent(config, new DockerDriver(config.dockerSocketPath), logger.child({ component: 'agent' }));
  const ulid = monotonicFactory();
  const api: ApiDeps = { store, config, agent, newId: () => ulid(), now: () => new Date().toISOString() };

  const app = Fastify({
    // A pino Logger is a FastifyBaseLogger; widening keeps FastifyInstance's default logger type.
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    // Calls are logged by the agent with their call id; per-request lines would double the volume.
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (isFntsError(err)) {
      return reply.code(err.status).headers(err.headers).send({ message: err.message, code: err.code });
    }
    if (err.validation || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      return reply.code(400).send({ message: 'Invalid JSON', code: errors.invalidJson('').code, detail: err.message });
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ message: err.message, code: err.code ?? 'FNTS_ERR_API_BAD_REQUEST' });
    }
    req.log.error({ err }, 'unhandled error');
    const internal = errors.internal();
    return reply.code(internal.status).send({ message: internal.message, code: internal.code });
  });
  app.setNotFoundHandler((req, reply) => {
    const err = errors.pathNotFound(`Path not found: ${req.method} ${req.url.split('?')[0] ?? ''}`);
    return reply.code(err.status).send({ message: err.message, code: err.code });
  });

  app.get('/', async () => ({ hello: 'world!', goto: 'https://github.com/fnproject/fn' }));
  app.get('/version', async () => ({ version: FNTS_VERSION }));
  await app.register(appRoutes(api));
  await app.register(fnRoutes(api));
  await app.register(invokeRoutes(api));

  app.addHook('onClose', async () => {
    await agent.close();
    await store.close();
  });
  return app;
}
