/** `npm run db:migrate`: applies the committed migrations to DATABASE_URL (or the project's own Postgres). */
import { migrateDatabase } from './migrate.js';
import { startPostgres } from '../infra/postgres.js';

const url = await startPostgres();
await migrateDatabase(url);
console.log('migrations applied');
