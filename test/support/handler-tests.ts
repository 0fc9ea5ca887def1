/**
 * What the Lambda (`withSecrets`) and middy (`secretsMiddleware`) tests share: importing a handler fixture
 * module while unhandled rejections are watched, and what the fixture handlers answer and call.
 */
import { afterAll, beforeAll } from 'vitest';
import { ordersValues } from '../fixtures/orders.js';

/** A handler fixture module that `beforeAll` imports, and the unhandled rejections seen since just before. */
export interface ImportedHandlers<M> {
  /** The module's exports; read them inside a test or hook, once `beforeAll` has imported it. */
  readonly module: M;
  /** Every unhandled rejection from just before the import until `afterAll`. */
  readonly unhandled: readonly unknown[];
}

/**
 * Imports a handler fixture module in `beforeAll`, listening for unhandled rejections from before the import
 * (its initial load runs, and for a failing environment fails, while nobody awaits it yet) until `afterAll`.
 */
export function importHandlers<M>(load: () => Promise<M>): ImportedHandlers<M> {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  let module: M | undefined;
  let importError: unknown;

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    // A module that throws at import fails every test that reads it, rather than the hook: a failed hook only
    // skips the file's tests, which Stryker's vitest runner counts as a mutant that survived.
    try {
      module = await load();
    } catch (error) {
      importError = error;
    }
  });

  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  return {
    unhandled,
    get module(): M {
      if (importError !== undefined) throw importError;
      if (module === undefined)
        throw new Error('The handler module is imported in beforeAll: read it in a test.');
      return module;
    },
  };
}

/** Lets Node run its unhandled-rejection check, which follows the microtask queue's drain. */
export async function nextTurns(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** What the fixture handlers answer for an order when the secrets are in their `generation`-th version. */
export function answer(orderId: string, requestId: string, generation: number) {
  const values = ordersValues(generation);
  return {
    orderId,
    requestId,
    dbPassword: values.db.password,
    stripeKey: values.stripeKey,
    signingKey: [...values.signingKey],
  };
}

/** The one `BatchGetSecretValue` call that loads the whole orders manifest. */
export const batchOfAll = {
  operation: 'BatchGetSecretValue',
  secretIds: ['prod/orders/db', 'prod/orders/stripe-key', 'prod/orders/signing-key'],
};
