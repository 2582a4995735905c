/**
 * Process-wide shared state for proxy-wasm plugins: key/value shared data with compare-and-swap
 * and named shared queues, both partitioned by vm_id as in Envoy (plugins with the same vm_id —
 * the default is "" — see the same data). Queue owners are notified through a callback that
 * runs on a later tick, never inside the enqueuing guest call.
 * Must never: call into a guest synchronously.
 */
import { Status } from './abi';

interface Entry {
  value: Buffer;
  cas: number;
}

const data = new Map<string, Entry>();
let nextCas = 1;

function dataKey(vmId: string, key: string): string {
  return vmId + '\u0000' + key;
}

export function getSharedData(vmId: string, key: string): Entry | undefined {
  return data.get(dataKey(vmId, key));
}

/** Sets `key`; a non-zero `cas` must match the current one, else CAS_MISMATCH. */
export function setSharedData(vmId: string, key: string, value: Buffer, cas: number): Status {
  const k = dataKey(vmId, key);
  const cur = data.get(k);
  if (cas !== 0 && (cur === undefined || cur.cas !== cas)) return Status.CasMismatch;
  nextCas = nextCas >= 0xffffffff ? 1 : nextCas + 1;
  data.set(k, { value, cas: nextCas });
  return Status.Ok;
}

export interface QueueOwner {
  onQueueReady(token: number): void;
}

interface Queue {
  token: number;
  items: Buffer[];
  owner: QueueOwner | null;
  notifyScheduled: boolean;
}

const queuesByName = new Map<string, Queue>();
const queuesByToken = new Map<number, Queue>();
let nextToken = 1;

/** Registers (or re-registers, keeping pending items) a queue owned by `owner`. */
export function registerQueue(vmId: string, name: string, owner: QueueOwner): number {
  const k = dataKey(vmId, name);
  let q = queuesByName.get(k);
  if (q === undefined) {
    q = { token: nextToken++, items: [], owner, notifyScheduled: false };
    queuesByName.set(k, q);
    queuesByToken.set(q.token, q);
  } else q.owner = owner;
  return q.token;
}

export function resolveQueue(vmId: string, name: string): number | undefined {
  const q = queuesByName.get(dataKey(vmId, name));
  return q === undefined ? undefined : q.token;
}

export function enqueue(token: number, value: Buffer): Status {
  const q = queuesByToken.get(token);
  if (q === undefined) return Status.NotFound;
  q.items.push(value);
  if (q.owner !== null && !q.notifyScheduled) {
    q.notifyScheduled = true;
    setImmediate(() => {
      q.notifyScheduled = false;
      if (q.owner !== null && q.items.length > 0) q.owner.onQueueReady(q.token);
    });
  }
  return Status.Ok;
}

export function dequeue(token: number): Buffer | Status.NotFound | Status.Empty {
  const q = queuesByToken.get(token);
  if (q === undefined) return Status.NotFound;
  const v = q.items.shift();
  return v === undefined ? Status.Empty : v;
}

/** Drops `owner` from every queue it owns (its VM is gone); items stay for a new owner. */
export function releaseQueues(owner: QueueOwner): void {
  for (const q of queuesByToken.values()) if (q.owner === owner) q.owner = null;
}

/** Test helper: forgets all shared data and queues. */
export function resetSharedState(): void {
  data.clear();
  queuesByName.clear();
  queuesByToken.clear();
}
