// The FDK's own side of the http-stream contract: its version, its answers' texts and headers. The contract's
// names (env vars, headers, socket) are shared with the server's agent in @fnts/api/contract.

/** Version of this FDK, sent in `Fn-Fdk-Version`; a test keeps it equal to package.json. */
export const FDK_VERSION = '0.1.0';

export const DEFAULT_RESPONSE_CONTENT_TYPE = 'application/json';

/** Bodies of the FDK's own answers; texts match fdk-node where it has one. */
export const MESSAGES = {
  functionFailed: 'Exception in function, consult logs for details',
  resultNotEncodable: 'Function result could not be encoded, consult logs for details',
  resultStreamFailed: 'Function result stream failed, consult logs for details',
  invalidBatchEvent: 'Invalid batch event, consult logs for details',
  timedOut: 'Timed out',
  invalidMethod: 'Invalid method',
  badRequest: 'Bad request',
} as const;

/** `Fn-Fdk-Version` value, e.g. `fnts-fdk/0.1.0 (njsv=v20.20.2)`. */
export function fdkVersionHeader(nodeVersion: string = process.version): string {
  return `fnts-fdk/${FDK_VERSION} (njsv=${nodeVersion})`;
}

/** `Fn-Fdk-Runtime` value, e.g. `node/20.20.2`. */
export function fdkRuntimeHeader(nodeVersion: string = process.version): string {
  return `node/${nodeVersion.replace(/^v/, '')}`;
}
