/** What every command handler receives, and what it returns. */
import type { Document } from 'bson';
import type { Cursors } from '../cursors.js';
import type { Store } from '../store.js';
import type { ReplicaServices } from './replica.js';

export interface CommandContext {
  /** The command name as sent (the first field of the body). */
  name: string;
  db: string;
  body: Document;
  store: Store;
  cursors: Cursors;
  connectionId: number;
  /** Present in replica-set mode only. */
  replica?: ReplicaServices;
}

export type Handler = (ctx: CommandContext) => Document;
