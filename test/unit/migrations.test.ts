import { describe, expect, it } from 'vitest';
import { committedMigrations, pendingAfter } from '../../db/migrate.js';

describe('the schema version check workers start with', () => {
  const committed = committedMigrations();

  it('reads the committed migrations in the order they apply', () => {
    expect(committed[0]!.tag).toBe('0000_init');
    expect(committed.map((m) => m.when)).toEqual([...committed.map((m) => m.when)].sort((a, b) => a - b));
  });

  it('finds every migration pending on a database never migrated', () => {
    expect(pendingAfter(committed, undefined)).toEqual(committed.map((m) => m.tag));
  });

  it('finds the migrations created after the last one the database recorded, as the migrator applies them', () => {
    const [, second, ...rest] = committed;
    expect(pendingAfter(committed, second!.when)).toEqual(rest.map((m) => m.tag));
    expect(pendingAfter(committed, committed.at(-1)!.when)).toEqual([]);
  });

  it('accepts a database a newer deployment migrated further', () => {
    expect(pendingAfter(committed, committed.at(-1)!.when + 1)).toEqual([]);
  });
});
