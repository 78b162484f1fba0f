/**
 * The finished verification pages (src/web/public/freshPages.ts): how long one is reused, and what
 * drops it. The clock is the test's; the writes go through a real connection to the test database.
 */
import { Types, type Connection } from 'mongoose';
import { connectDatabase } from '../../src/db/connection.js';
import { createModels, type Models } from '../../src/db/models/index.js';
import { FreshPages, watchPageWrites } from '../../src/web/public/freshPages.js';
import { startTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
let connection: Connection;
let models: Models;
let now = Date.UTC(2030, 0, 1);
const clock = { now: () => new Date(now) };
const id = String(new Types.ObjectId());

beforeAll(async () => {
  db = await startTestDatabase();
  connection = await connectDatabase(db.uri);
  models = createModels(connection);
  watchPageWrites(connection);
});
afterAll(async () => {
  await connection?.close();
  await db?.stop();
});

/** A page stored now, made from reads that began now. */
function stored(pages: FreshPages, html: string, key: string | null = null, expiresAt: Date | null = null) {
  pages.store(id, key, html, pages.begin(), expiresAt);
}

describe('finished verification pages', () => {
  it('are reused for PUBLIC_PAGE_FRESH_MS and not a moment longer, per credential and holder key', () => {
    const pages = new FreshPages(clock, 1000);
    stored(pages, '<p>public</p>');
    stored(pages, '<p>by link</p>', 'k1');
    now += 999;
    expect(pages.get(id, null)).toBe('<p>public</p>');
    expect(pages.get(id, 'k1')).toBe('<p>by link</p>');
    expect(pages.get(id, 'k2')).toBeUndefined();
    expect(pages.get(String(new Types.ObjectId()), null)).toBeUndefined();
    now += 1;
    expect(pages.get(id, null)).toBeUndefined();
    expect(pages.get(id, 'k1')).toBeUndefined();
  });

  it('are never stored with PUBLIC_PAGE_FRESH_MS=0', () => {
    const pages = new FreshPages(clock, 0);
    stored(pages, '<p>page</p>');
    expect(pages.get(id, null)).toBeUndefined();
    expect(pages.size).toBe(0);
  });

  it('are not reused once the credential expired since, nor when the clock went back', () => {
    const pages = new FreshPages(clock, 60_000);
    stored(pages, '<p>valid</p>', null, new Date(now + 500));
    now += 499;
    expect(pages.get(id, null)).toBe('<p>valid</p>');
    now += 1;
    expect(pages.get(id, null)).toBeUndefined();
    // Made after the expiry (the page says expired): reused, as nothing about it changes with time.
    stored(pages, '<p>expired</p>', null, new Date(now - 1));
    now += 10;
    expect(pages.get(id, null)).toBe('<p>expired</p>');
    now -= 20;
    expect(pages.get(id, null)).toBeUndefined();
  });

  it('are dropped by any write of this process to what pages are made of, and only by those', async () => {
    const pages = new FreshPages(clock, 60_000);
    stored(pages, '<p>before</p>');
    // A collection pages are not made of.
    await models.rateWindows.collection.insertOne({
      _id: `t:${now}`,
      count: 1,
      expiresAt: new Date(now),
    } as never);
    expect(pages.get(id, null)).toBe('<p>before</p>');
    // Through a model, and through the raw collection of a model.
    await models.people.updateOne({ _id: new Types.ObjectId() }, { $set: { name: 'Nobody' } });
    expect(pages.get(id, null)).toBeUndefined();
    stored(pages, '<p>again</p>');
    await models.credentials.collection.updateOne(
      { _id: new Types.ObjectId() },
      { $set: { status: 'revoked' } },
    );
    expect(pages.get(id, null)).toBeUndefined();
    // Reads are not writes.
    stored(pages, '<p>read</p>');
    await models.templates.findOne({}).lean();
    expect(pages.get(id, null)).toBe('<p>read</p>');
  });

  it('are not stored when a write overlapped the reads they were made of', async () => {
    const pages = new FreshPages(clock, 60_000);
    const made = pages.begin();
    await models.badgeSharings.collection.insertOne({
      _id: new Types.ObjectId(),
      visibility: 'hidden',
    } as never);
    pages.store(id, null, '<p>made from older reads</p>', made, null);
    expect(pages.get(id, null)).toBeUndefined();
    expect(pages.size).toBe(0);
  });
});
