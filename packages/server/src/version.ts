/** The server's version, reported by `GET /version`. */
export const FNTS_VERSION = '0.1.0';
