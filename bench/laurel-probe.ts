/**
 * Loaded into a bench's Laurel process (node --import, bench/laurel-process.ts), never by Laurel
 * itself: answers the bench over IPC with the live heap after a forced collection (`heap`, needs
 * --expose-gc) and with CPU profiles of one phase (bench/ipc-profiler.ts).
 */
import { answerProfileRequests } from './ipc-profiler.js';

const MB = 1024 * 1024;

if (process.send) {
  process.on('message', (message: unknown) => {
    if (answerProfileRequests(message)) return;
    if (message !== 'heap') return;
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    process.send?.({
      usedMb: Math.round(m.heapUsed / MB),
      totalMb: Math.round(m.heapTotal / MB),
      externalMb: Math.round(m.external / MB),
      arrayBuffersMb: Math.round(m.arrayBuffers / MB),
    });
  });
  // The channel must not keep Laurel alive once it has closed down.
  process.channel?.unref();
}
