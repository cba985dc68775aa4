import { join } from 'node:path';
import { startNginx as startNginxWith, type NginxProcess } from '../../bench/nginx.js';
import { REPO_ROOT } from './harness.js';

export type { NginxProcess };

/** The documented config: what the tests run is what the README tells operators to install. */
export const NGINX_CONF = join(REPO_ROOT, 'deploy/nginx/fnts.conf');

/**
 * Starts Debian's nginx as a child process with deploy/nginx/fnts.conf in front of `upstreams` (`host:port`), on a
 * free 127.0.0.1 port, its pid, logs and temp files in its own temp dir; `stop()` ends it by PID and removes the dir.
 */
export function startNginx(upstreams: string[]): Promise<NginxProcess> {
  return startNginxWith(NGINX_CONF, upstreams);
}
