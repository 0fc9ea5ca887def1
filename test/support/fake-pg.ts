import { EventEmitter } from 'node:events';

/** An error as pg raises it for a failed login: the SQLSTATE in `code`. */
export class FakeDatabaseError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What one connection attempt sent. */
export interface LoginAttempt {
  readonly user: string | undefined;
  readonly password: string;
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly database: string | undefined;
  readonly accepted: boolean;
}

/**
 * A PostgreSQL server in memory, and a `Client` class for `pg.Pool`'s `Client` option that logs in to it: the
 * password is asked for the way pg asks (the config's function, called with the client as `this`), and a wrong
 * one fails with SQLSTATE 28P01. Connections can be held open to stage interleavings.
 */
export class FakeDatabase {
  /** user name → the password the server accepts now. */
  readonly passwords = new Map<string, string>();
  readonly attempts: LoginAttempt[] = [];
  readonly queries: string[] = [];
  /** When set, each login waits for it before answering. */
  gate: Promise<void> | undefined;
  /** When set, each login fails with what this returns, before the password is asked for (a refused socket). */
  failWith: (() => unknown) | undefined;
  /**
   * When set, each login asks for the password, then fails with what this returns (what a server answers after
   * the password: a database that does not exist, too many connections).
   */
  failAfterPasswordWith: (() => unknown) | undefined;
  /** When set, each query fails with what this returns. */
  failQueryWith: (() => Error) | undefined;
  openConnections = 0;

  readonly Client: new (
    config: Record<string, unknown>,
  ) => EventEmitter;

  constructor() {
    const database = this;
    this.Client = class FakeClient extends EventEmitter {
      readonly #config: Record<string, unknown>;
      password: unknown;
      _queryable = true;
      _ending = false;

      constructor(config: Record<string, unknown>) {
        super();
        this.#config = config;
        this.password = config.password;
      }

      // As pg's Client: `null` on success, the error otherwise.
      connect(callback: (error: unknown) => void): void {
        database.#login(this, this.#config).then(
          () => callback(null),
          (error: unknown) => callback(error),
        );
      }

      async query(text: string): Promise<{ rows: { user: unknown }[]; command: string }> {
        database.queries.push(text);
        if (database.failQueryWith !== undefined) throw database.failQueryWith();
        return { rows: [{ user: this.#config.user }], command: 'SELECT' };
      }

      end(callback?: () => void): void {
        if (!this._ending) {
          this._ending = true;
          this._queryable = false;
          database.openConnections--;
        }
        callback?.();
      }
    } as unknown as new (
      config: Record<string, unknown>,
    ) => EventEmitter;
  }

  async #login(client: { password: unknown }, config: Record<string, unknown>): Promise<void> {
    if (this.gate !== undefined) await this.gate;
    if (this.failWith !== undefined) throw this.failWith();
    const given =
      typeof client.password === 'function'
        ? await (client.password as (this: unknown) => unknown).call(client)
        : client.password;
    if (this.failAfterPasswordWith !== undefined) throw this.failAfterPasswordWith();
    const user = config.user as string | undefined;
    const accepted = user !== undefined && this.passwords.get(user) === given;
    this.attempts.push({
      user,
      password: String(given),
      host: config.host as string | undefined,
      port: config.port as number | undefined,
      database: config.database as string | undefined,
      accepted,
    });
    if (!accepted) {
      throw new FakeDatabaseError('28P01', `password authentication failed for user "${String(user)}"`);
    }
    this.openConnections++;
  }

  rejectedAttempts(): number {
    return this.attempts.filter((attempt) => !attempt.accepted).length;
  }
}

/** A database secret's JSON. */
export function dbSecret(username: string, password: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    engine: 'postgres',
    host: 'db.internal',
    port: 5432,
    dbname: 'orders',
    username,
    password,
    ...extra,
  });
}
