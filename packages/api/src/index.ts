// @fnts/api: the one description of the fnts API that the server, the CLI and the tests share.
// Types are free to import (`import type`); values pull in typebox, which clients that only call the API
// do not need. The http-stream contract and the error codes are also subpaths without dependencies.
export * from './contract.js';
export * from './errors.js';
export * from './limits.js';
export * from './schemas/common.js';
export * from './schemas/resources.js';
export * from './schemas/streams.js';
export * from './schemas/stream-control.js';
export * from './schemas/calls.js';
export * from './routes/resources.js';
export * from './routes/streams.js';
export * from './routes/calls.js';
export * from './schemas/stats.js';
