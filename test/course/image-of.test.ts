import { Types } from 'mongoose';
import { imageOf } from '../../src/web/course/instructor.js';

describe("a badge's picture on the pages", () => {
  const _id = new Types.ObjectId('64b7f0c2a1b2c3d4e5f60718');
  it('is the stored image first, then a synced template’s HTTPS picture, then the default', () => {
    expect(imageOf({ _id, imageId: 'abc', externalImageUrl: 'https://images.credly.com/x.png' })).toBe(
      '/images/abc',
    );
    expect(imageOf({ _id, imageId: null, externalImageUrl: 'https://images.credly.com/x.png' })).toBe(
      'https://images.credly.com/x.png',
    );
    // Not over HTTPS (the pages' CSP would refuse it, and it would leak the page over plain HTTP).
    expect(imageOf({ _id, imageId: null, externalImageUrl: 'http://images.example/x.png' })).toBe(
      '/images/default/64b7f0c2a1b2c3d4e5f60718.svg',
    );
    expect(imageOf({ _id, imageId: null })).toBe('/images/default/64b7f0c2a1b2c3d4e5f60718.svg');
  });
});
