/** This CLI's version, as in packages/cli/package.json (a test keeps them equal); `fnts --version` prints it. */
export const CLI_VERSION = '0.1.0';
