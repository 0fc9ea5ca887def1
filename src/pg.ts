// `secretcache/pg`: a PostgreSQL pool whose connections log in with a secret read through the cache.
export type { CreatePoolOptions, SecretPool, SecretPoolConfig } from './pg/pool.js';
export { createPool } from './pg/pool.js';
