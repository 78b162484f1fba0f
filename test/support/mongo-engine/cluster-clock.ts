/**
 * The replica set's logical clock: every write gets a Timestamp after the last one (seconds, then
 * an increment within the second), as the oplog's optimes do; reads answer with the latest.
 */
import { Timestamp } from 'bson';

export class ClusterClock {
  private seconds = 0;
  private increment = 0;

  constructor() {
    this.tick();
  }

  /** The time of the newest write (or of the clock's start). */
  now(): Timestamp {
    return new Timestamp({ t: this.seconds, i: this.increment });
  }

  /** A new, later time for one write. */
  tick(): Timestamp {
    const wall = Math.floor(Date.now() / 1000);
    if (wall > this.seconds) {
      this.seconds = wall;
      this.increment = 1;
    } else {
      this.increment++;
    }
    return this.now();
  }
}

/** Timestamps compared as mongod compares optimes: seconds, then increment. */
export function compareTimestamps(a: Timestamp, b: Timestamp): number {
  return a.t - b.t || a.i - b.i;
}
