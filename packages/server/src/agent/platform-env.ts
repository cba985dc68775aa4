/**
 * The variables the platform sets in every function container (CONTRACT §1.1 plus fnts's own): config may not
 * name them, so a function always sees the contract it was built for. Fn overwrites such keys silently; fnts
 * refuses them where they are written.
 */
export const PLATFORM_ENV = new Set([
  'FN_MEMORY', 'FN_TYPE', 'FN_FN_ID', 'FN_APP_ID', 'FN_FN_NAME', 'FN_APP_NAME', 'FN_LISTENER', 'FN_FORMAT',
  'FN_LOGFRAME_NAME', 'FN_LOGFRAME_HDR', 'FN_SPAWN_CALL_ID',
]);

/** Why a config key cannot become an environment variable, or undefined when it can. */
export function configKeyProblem(key: string): string | undefined {
  if (key === '') return 'config keys may not be empty';
  if (key.includes('=') || key.includes('\0')) return `config key ${JSON.stringify(key)} may not contain "=" or NUL`;
  if (Buffer.byteLength(key) > 255) return `config key ${JSON.stringify(key.slice(0, 32))}… is longer than 255 bytes`;
  if (PLATFORM_ENV.has(key) || key.startsWith('FNTS_')) {
    return `config key ${key} is set by the platform in every container and cannot be configured (reserved: ${[...PLATFORM_ENV].join(', ')}, FNTS_*)`;
  }
  return undefined;
}
