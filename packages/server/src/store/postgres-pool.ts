import type pg from 'pg';
import { errors } from '../errors.js';

/**
 * Node and libpq errors that mean the database could not be reached or went away (not that a statement was wrong):
 * connection refused or reset, a timeout opening a connection, and SQLSTATE classes 08 (connection exception) and
 * 57P (the server shutting down).
 */
export function isConnectionFailure(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENOENT'].includes(code)) return true;
  if (code.startsWith('08') || code.startsWith('57P')) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(message);
}

/** Rethrows a lost database as the API's 503 (FNTS_ERR_STORE_UNAVAILABLE); any other error as it is. */
export function storeError(err: unknown): never {
  throw isConnectionFailure(err) ? errors.storeUnavailable() : err;
}

/** The pool as the stores use it: a lost database answers 503 with a code instead of a 500. */
export class GuardedPool {
  constructor(private readonly pool: pg.Pool) {}

  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(text, values).catch(storeError);
  }

  connect(): Promise<pg.PoolClient> {
    return this.pool.connect().catch(storeError);
  }

  /**
   * Runs `work` in one transaction on one connection; it answers whether to commit (false rolls back: a fence refused
   * it). `begin` may set the transaction's options along with BEGIN (one round trip). An error rolls back and is
   * rethrown (a lost database as the 503); a connection whose ROLLBACK failed is dropped, not handed out again.
   */
  async transaction<T>(work: (c: pg.PoolClient) => Promise<{ commit: boolean; value: T }>, begin = 'BEGIN'): Promise<{ commit: boolean; value: T }> {
    const client = await this.connect();
    let broken: Error | undefined;
    try {
      await client.query(begin);
      const result = await work(client);
      await client.query(result.commit ? 'COMMIT' : 'ROLLBACK');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => {
        broken = e;
      });
      return storeError(err);
    } finally {
      client.release(broken);
    }
  }
}
