import type Database from 'better-sqlite3';

/** Prepares each SQL text once per connection: hot paths (invoke, stream reads) run the same statements often. */
export function statementCache(db: Database.Database): (sql: string) => Database.Statement {
  const statements = new Map<string, Database.Statement>();
  return (sql) => {
    let st = statements.get(sql);
    if (!st) statements.set(sql, (st = db.prepare(sql)));
    return st;
  };
}
