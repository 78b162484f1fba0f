/**
 * The first-batch size for a read whose whole answer is wanted at once (a claimed batch, the
 * progress of a batch's learners): the server's default first batch is 101 documents, and every
 * read past that would cost a `getMore` round trip on the critical path. The server still ends a
 * batch at 16 MB, so a large answer is split there as before.
 */
export const ONE_REPLY = 100_000;
