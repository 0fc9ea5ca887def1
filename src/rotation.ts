// `secretcache/rotation`: a Lambda handler for Secrets Manager's four-step rotation protocol, and targets for it.
export type {
  CreatePendingContext,
  PendingContext,
  RotationEvent,
  RotationStep,
  RotationTarget,
  RotationVersion,
} from './rotation/contract.js';
export { isRotationError, RotationError, type RotationErrorCode } from './rotation/errors.js';
export {
  type RotationHandlerOptions,
  type RotationLogEntry,
  rotationHandler,
} from './rotation/handler.js';
export {
  type PostgresConnectionOptions,
  type PostgresTargetOptions,
  postgresTarget,
} from './rotation/postgres-target.js';
export type { RotationOutcome } from './rotation/steps.js';
