import { benchCredentials } from '../../bench/credentials.js';

describe('npm run bench -- credentials', () => {
  it('measures credentials signed per second beside raw Ed25519 signatures per second', async () => {
    const figures = await benchCredentials(250);
    expect(figures.credentialsSignedPerSecond).toBeGreaterThan(0);
    expect(figures.credentialsVerifiedPerSecond).toBeGreaterThan(0);
    expect(figures.rawEd25519SignaturesPerSecond).toBeGreaterThan(figures.credentialsSignedPerSecond);
    expect(figures.rawPerCredential).toBeGreaterThan(1);
  });
});
