/** The CLI's settings from the environment, read once here and passed down. */
export interface CliSettings {
  apiUrl: string;
  dockerSocketPath: string;
  /** Extra labels for images the CLI builds (tests use them to find and remove their own). */
  imageLabels: Record<string, string>;
}

export function loadSettings(env: Readonly<Record<string, string | undefined>> = process.env): CliSettings {
  const dockerHost = env.DOCKER_HOST;
  const labels: Record<string, string> = {};
  for (const pair of (env.FNTS_IMAGE_LABELS ?? '').split(',').filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq > 0) labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return {
    apiUrl: (env.FNTS_API_URL || 'http://127.0.0.1:8080').replace(/\/+$/, ''),
    dockerSocketPath: dockerHost?.startsWith('unix://') ? dockerHost.slice('unix://'.length) : '/var/run/docker.sock',
    imageLabels: labels,
  };
}
