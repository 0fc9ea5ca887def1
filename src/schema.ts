/**
 * Standard Schema v1, the interface zod, valibot, arktype and others implement. Copied (as the spec invites)
 * so that neither this package nor its users need a dependency for a handful of types.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { SecretCache, type StandardSchemaV1 } from 'secretcache';
 *
 * const Db = z.object({ username: z.string(), password: z.string() });
 * const schema: StandardSchemaV1<unknown, { username: string; password: string }> = Db;
 * const db = await new SecretCache().getSecretJson('prod/orders/db', { schema });
 * ```
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': StandardSchemaV1.Props<Input, Output>;
}

/** The spec's types that {@link StandardSchemaV1} is made of; `InferOutput` gives a schema's output type. */
export declare namespace StandardSchemaV1 {
  interface Props<Input = unknown, Output = Input> {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (
      value: unknown,
      options?: Options | undefined,
    ) => Result<Output> | Promise<Result<Output>>;
    readonly types?: Types<Input, Output> | undefined;
  }
  type Result<Output> = SuccessResult<Output> | FailureResult;
  interface SuccessResult<Output> {
    readonly value: Output;
    readonly issues?: undefined;
  }
  interface Options {
    readonly libraryOptions?: Record<string, unknown> | undefined;
  }
  interface FailureResult {
    readonly issues: ReadonlyArray<Issue>;
  }
  interface Issue {
    readonly message: string;
    readonly path?: ReadonlyArray<PropertyKey | PathSegment> | undefined;
  }
  interface PathSegment {
    readonly key: PropertyKey;
  }
  interface Types<Input = unknown, Output = Input> {
    readonly input: Input;
    readonly output: Output;
  }
  type InferInput<Schema extends StandardSchemaV1> = NonNullable<Schema['~standard']['types']>['input'];
  type InferOutput<Schema extends StandardSchemaV1> = NonNullable<Schema['~standard']['types']>['output'];
}
