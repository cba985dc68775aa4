export { buildApp, type AppDeps } from './app.js';
export { loadConfig, ConfigError, type ServerConfig } from './config.js';
export { startServer, type RunningServer } from './server.js';
export { Agent } from './agent/agent.js';
export { DockerDriver, MANAGED_LABEL } from './agent/docker.js';
export { SqliteDatastore } from './store/sqlite.js';
export { FntsError, errors } from './errors.js';
export { FNTS_VERSION } from './version.js';
export { Metrics } from './metrics.js';
