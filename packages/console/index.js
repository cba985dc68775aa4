// The folder of the built console; the server reads it at start and serves it at /ui.
export const consoleAssetsDir = new URL('./dist/', import.meta.url);
