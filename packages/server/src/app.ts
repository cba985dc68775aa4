import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyServerFactory } from 'fastify';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { MAX_API_BODY_BYTES } from '@fnts/api/limits';
import type { Logger } from 'pino';
import { createLogger } from './logging.js';
import { newId } from './ids.js';
import { Agent } from './agent/agent.js';
import { DockerDriver } from './agent/docker.js';
import { appRoutes } from './api/apps.js';
import { registerApiKeyAuth } from './api/auth.js';
import type { ApiDeps } from './api/deps.js';
import { fnRoutes } from './api/fns.js';
import { callRoutes } from './api/calls.js';
import { CallEndpoint } from './api/call-endpoint.js';
import { callRecordRoutes } from './api/call-records.js';
import { defaultConsoleDir, loadConsoleAssets, registerConsole } from './api/console.js';
import { fnStatsRoutes } from './api/fn-stats.js';
import { DetachedCallQueue } from './calls/detached-queue.js';
import { CallHistory } from './calls/history.js';
import { metaRoutes, routeTable } from './api/meta.js';
import { observeRoutes } from './api/observe.js';
import { openApiOptions } from './api/openapi.js';
import { reapLeftovers } from './agent/reaper.js';
import { keepStoredMinimums } from './agent/stored-minimums.js';
import { Metrics } from './metrics.js';
import { streamControlRoutes } from './api/stream-control.js';
import { streamRoutes } from './api/streams.js';
import { openStreamLog } from './streams/embedded/open.js';
import type { StreamLog } from './streams/embedded/log.js';
import { StreamTriggerManager } from './streams/engine/manager.js';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { triggerRoutes } from './api/triggers.js';
import { jsonOrNothing } from './api/body-rules.js';
import { answerError } from './api/error-handler.js';
import { startRetention } from './streams/embedded/retention.js';
import swagger from '@fastify/swagger';
import { errors } from './errors.js';
import { SqliteDatastore } from './store/sqlite.js';
import type { PostgresDatastore } from './store/postgres.js';
import type { PostgresLeaseCoordinator } from './streams/leases/postgres-leases.js';
import type { PostgresLeaseCheck } from './streams/embedded/postgres-log.js';
import { dockerFailure, postgresFailure, runtimeFailure, storeFailure } from './startup-errors.js';
import { withoutPassword, type ServerConfig } from './config.js';
import { FNTS_VERSION } from './version.js';
import { resolveServerIdentity, serverIdFile, type ServerIdentity } from './server-identity.js';

/** The services a server is built from; anything not given is made from the config. */
export interface AppDeps {
  config: ServerConfig;
  logger?: Logger;
  store?: SqliteDatastore | PostgresDatastore;
  driver?: DockerDriver;
  metrics?: Metrics;
  /** The package the Kafka client is loaded from (a test names a missing one: an install without the optional client). */
  kafkaClientPackage?: string;
  /** The built web console's folder; by default @fnts/console's. */
  consoleDir?: string;
  /**
   * The embedded log, on `store` (a bench measures it on PostgreSQL with one server); otherwise `openStreamLog`
   * decides (streams/embedded/open.ts). The server closes it.
   */
  streamLog?: StreamLog;
}

/**
 * Opens the store the config names: PostgreSQL for a postgres:// URL, else the SQLite file. The operator's mistakes
 * (a folder, no permission, not a database; a wrong or unreachable URL) become StartupErrors.
 */
async function openStore(config: ServerConfig): Promise<SqliteDatastore | PostgresDatastore> {
  if (config.postgresUrl !== undefined) {
    try {
      // Loaded only here: a server on SQLite never loads the PostgreSQL client.
      const { PostgresDatastore } = await import('./store/postgres.js');
      return await PostgresDatastore.open(config.postgresUrl);
    } catch (err) {
      throw postgresFailure(err, withoutPassword(config.postgresUrl));
    }
  }
  try {
    return new SqliteDatastore(config.dbPath);
  } catch (err) {
    throw storeFailure(err, config.dbPath);
  }
}

/** The lease coordinator of a server on PostgreSQL (it LISTENs on the store's connection) and the log's lease check. */
async function streamLeases(store: PostgresDatastore, config: ServerConfig, serverId: string, logger: Logger): Promise<{ coordinator: PostgresLeaseCoordinator; check: PostgresLeaseCheck }> {
  const { PostgresLeaseCoordinator, leasedCommitCheck } = await import('./streams/leases/postgres-leases.js');
  const coordinator = new PostgresLeaseCoordinator(store.pool, store.listener, serverId, { ttlMs: config.streamLeaseTtlMs }, logger.child({ component: 'leases' }));
  return { coordinator, check: leasedCommitCheck };
}

/** Builds the whole server from injected services, without listening (tests call `inject`). */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const logger = deps.logger ?? await createLogger(config, false);
  const store = deps.store ?? await openStore(config);
  const driver = deps.driver ?? new DockerDriver(config.dockerSocketPath);
  const metrics = deps.metrics ?? new Metrics();
  // This server's own persistent id marks its containers and socket dirs, so a restart after a crash finds its own
  // and servers sharing a database or a Docker engine never touch each other's.
  let own: ServerIdentity;
  try {
    own = await resolveServerIdentity({ serverId: config.serverId, serverIdFile: serverIdFile(config) }, () => store.getMeta('server_id'));
  } catch (err) {
    if (!deps.store) await store.close();
    throw err;
  }
  const serverId = own.id;
  const identity = { labels: { 'fnts.server': serverId }, iofsDir: join(config.iofsDir, serverId) };
  try {
    // The first calls to Docker: a daemon that is not running, or a runtime it does not have, shows here, before
    // anything else is started.
    await reapLeftovers(driver, identity.labels, identity.iofsDir, logger);
    logger.info({ runtime: await driver.chooseRuntime(config.dockerRuntime) }, 'container runtime');
  } catch (err) {
    if (!deps.store) await store.close();
    throw runtimeFailure(dockerFailure(err, config.dockerSocketPath), config.dockerRuntime);
  }
  driver.onRuntimeFallback = (name, reason) => logger.warn({ runtime: name, reason },
    `the ${name} runtime refused a container the engine's default runtime then started: containers get the default from now on`);
  // Logged once the start can no longer be refused, so a refused start prints only its one-line error.
  logger.info({ server_id: serverId, source: own.source }, 'server identity');
  const agent = new Agent(config, driver, logger.child({ component: 'agent' }), metrics, identity);
  // Servers sharing a PostgreSQL database lease the embedded streams' partitions (loaded only then, as the store is).
  const leasing = store instanceof SqliteDatastore ? undefined : await streamLeases(store, config, serverId, logger);
  const leases = leasing?.coordinator;
  // The embedded log lives in the store, beside the offsets it commits with (embedded/open.ts);
  // on PostgreSQL every commit checks its partition's lease in its transaction.
  let streamLog: StreamLog | undefined = deps.streamLog;
  try {
    streamLog ??= await openStreamLog(store, {
      testDeadLetterGapMs: config.testDeadLetterGapMs, ...(leasing ? { leaseCheck: leasing.check } : {}),
    });
  } catch (err) {
    if (!deps.store) await store.close();
    throw err;
  }
  const streams = new StreamTriggerManager({
    store, log: streamLog, agent, metrics, logger: logger.child({ component: 'streams' }), config, serverId, leases,
    ...(deps.kafkaClientPackage ? { kafkaClientPackage: deps.kafkaClientPackage } : {}),
  });
  const history = new CallHistory(store.calls, {
    flushMs: 100,
    maxBuffered: 10_000,
    retention: { perFn: config.callHistoryPerFn, maxAgeMs: config.callHistoryMaxAgeMs },
    trimEveryMs: config.retentionCheckMs,
  }, logger.child({ component: 'calls' }));
  agent.onCallEnd(history.onCallEnd);
  const detached = new DetachedCallQueue({ store, agent, log: logger.child({ component: 'detached' }), owner: serverId }, {
    concurrency: config.detachedConcurrency,
    maxPending: config.detachedMaxQueued,
    maxAttempts: config.detachedMaxAttempts,
    retryBaseMs: config.detachedRetryBaseMs,
    retryMaxMs: config.detachedRetryMaxMs,
    defaultMaxContainers: config.maxContainersPerFn,
    takeoverMs: config.detachedTakeoverMs,
  });
  const api: ApiDeps = {
    store, config, agent, streamLog, streams, detached, history, newId, now: () => new Date().toISOString(),
  };

  const calls = new CallEndpoint(api, logger.child({ component: 'calls' }));
  /**
   * The server fastify listens with hands calls to the call endpoint first and everything else to fastify's router;
   * it is set up as fastify sets up its own (its timeouts), since fastify leaves a server it is given alone.
   */
  const serverFactory: FastifyServerFactory = (handler, opts) => {
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      if (!calls.dispatch(req, res)) handler(req, res);
    };
    const server = config.tls ? createHttpsServer({ cert: config.tls.cert, key: config.tls.key }, onRequest) : createHttpServer(onRequest);
    // fastify has filled its defaults in by now; its options are typed loosely here.
    const setting = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
    server.keepAliveTimeout = setting(opts.keepAliveTimeout) ?? server.keepAliveTimeout;
    server.requestTimeout = setting(opts.requestTimeout) ?? server.requestTimeout;
    const perSocket = setting(opts.maxRequestsPerSocket);
    if (perSocket !== undefined && perSocket > 0) server.maxRequestsPerSocket = perSocket;
    server.setTimeout(setting(opts.connectionTimeout) ?? 0);
    return server;
  };

  const app = Fastify({
    serverFactory,
    // A pino Logger is a FastifyBaseLogger; widening keeps FastifyInstance's default logger type.
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: MAX_API_BODY_BYTES,
    // Calls are logged by the agent with their call id; per-request lines would double the volume.
    logController: new LogController({ disableRequestLogging: true }),
    // Idle keep-alive connections close at shutdown; requests in flight may finish (the agent's grace period).
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // App names may be 255 characters; HEAD is served by the trigger routes, not generated.
    routerOptions: { maxParamLength: 300 },
    exposeHeadRoutes: false,
    // Fn answers `Invalid JSON` for a wrongly-typed field instead of coercing it.
    ajv: { customOptions: { coerceTypes: false } },
    // A URL the router cannot decode gets the same error shape as everything else.
    frameworkErrors: (err, _req, reply) => {
      const bad = errors.badUrl(`the URL is not valid: ${err.message}`);
      // The framework hands a reply typed for no route in particular; it is an ordinary reply.
      return (reply as FastifyReply).code(bad.status).send({ message: bad.message, code: bad.code });
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Before every route, so none is left out.
  registerApiKeyAuth(app, config.apiKeys);
  app.setErrorHandler(answerError);
  app.setNotFoundHandler(routeTable(app));
  // Fn reads API bodies as JSON whatever their Content-Type (curl -d sends a form type); an empty body is none.
  const parseJson = jsonOrNothing(app.getDefaultJsonParser('error', 'error'));
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJson);
  app.addContentTypeParser('*', { parseAs: 'string' }, parseJson);
  await app.register(swagger, openApiOptions(FNTS_VERSION));
  await app.register(metaRoutes);
  await app.register(appRoutes(api));
  await app.register(fnRoutes(api));
  await app.register(triggerRoutes(api));
  await app.register(callRoutes(api, calls));
  await app.register(callRecordRoutes(api));
  await app.register(fnStatsRoutes(api));
  await app.register(streamRoutes(api));
  await app.register(streamControlRoutes(api));
  await app.register(observeRoutes(api, metrics));
  const consoleDir = deps.consoleDir ?? await defaultConsoleDir();
  registerConsole(app, consoleDir === undefined ? undefined : loadConsoleAssets(consoleDir));
  app.get('/v2/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Stream triggers start once the server is ready; retention trims the embedded log in the background.
  const stopRetention = streamLog ? startRetention(streamLog, config.retentionCheckMs, logger) : () => undefined;
  app.addHook('onReady', async () => {
    history.start();
    await detached.start();
    await leases?.start();
    await streams.sync();
    void keepStoredMinimums(store, agent, logger.child({ component: 'agent' }));
    agent.stems.refill();
  });
  // preClose runs before the listener stops waiting for requests: running calls drain within the grace period.
  app.addHook('preClose', async () => {
    calls.close(); // from now on fastify answers every request, 503 while it closes
    stopRetention();
    detached.stop();
    await streams.stop();
    await leases?.stop();
    await agent.close();
    // Detached calls the shutdown cut short are back in the queue and every ended call is recorded before the store closes.
    await detached.drained();
    await history.close();
  });
  app.addHook('onClose', async () => {
    await streamLog?.close();
    await store.close();
  });
  return app;
}
