/**
 * Envoy's process-wide shared data and shared queues (proxy-wasm-cpp-host src/shared_data.cc and
 * src/shared_queue.cc), keyed by VM id. One instance per FakeHost by default; pass the same
 * instance to several hosts to model several worker threads sharing one Envoy process.
 */
import { WasmResult } from "./abi.ts";

interface SharedValue {
  value: Uint8Array;
  cas: number;
}

/** Key/value store with compare-and-swap versions. No TTL and no delete, as in ABI 0.2.x. */
export class SharedData {
  private readonly byVm: Map<string, Map<string, SharedValue>> = new Map();
  private nextCasValue: number = 1;

  private vm(vmId: string): Map<string, SharedValue> {
    let m: Map<string, SharedValue> | undefined = this.byVm.get(vmId);
    if (m === undefined) {
      m = new Map();
      this.byVm.set(vmId, m);
    }
    return m;
  }

  /** CAS values are process-wide, start at 1 and skip 0 on wrap-around (0 means "no CAS"). */
  private nextCas(): number {
    const cas: number = this.nextCasValue;
    this.nextCasValue = (this.nextCasValue + 1) >>> 0;
    if (this.nextCasValue === 0) this.nextCasValue = 1;
    return cas;
  }

  get(vmId: string, key: string): SharedValue | undefined {
    return this.vm(vmId).get(key);
  }

  /** A non-zero `cas` must equal the stored one, else CasMismatch; a missing key is always created. */
  set(vmId: string, key: string, value: Uint8Array, cas: number): WasmResult {
    const m: Map<string, SharedValue> = this.vm(vmId);
    const existing: SharedValue | undefined = m.get(key);
    if (existing !== undefined && cas !== 0 && cas !== existing.cas) return WasmResult.CasMismatch;
    m.set(key, { value: value.slice(), cas: this.nextCas() });
    return WasmResult.Ok;
  }

  /** Snapshot of one VM's keys and values, for assertions. */
  entries(vmId: string): Map<string, Uint8Array> {
    return new Map([...this.vm(vmId)].map(([k, v]: [string, SharedValue]) => [k, v.value]));
  }
}

/** A registered queue: who gets proxy_on_queue_ready, and what is waiting. */
export interface SharedQueue {
  token: number;
  vmId: string;
  name: string;
  /** Root context id of the last registrant (only it is notified). */
  rootContextId: number;
  /** Called when an item is enqueued; the owning host delivers proxy_on_queue_ready. */
  notify: (token: number) => void;
  items: Uint8Array[];
}

export class SharedQueues {
  private readonly byToken: Map<number, SharedQueue> = new Map();
  private readonly byName: Map<string, SharedQueue> = new Map();
  private nextToken: number = 1;

  private static key(vmId: string, name: string): string {
    return `${vmId}\u0000${name}`;
  }

  /** Registering an existing name re-points notifications at the new registrant and keeps the token. */
  register(vmId: string, name: string, rootContextId: number, notify: (token: number) => void): number {
    const key: string = SharedQueues.key(vmId, name);
    const existing: SharedQueue | undefined = this.byName.get(key);
    if (existing !== undefined) {
      existing.rootContextId = rootContextId;
      existing.notify = notify;
      return existing.token;
    }
    const queue: SharedQueue = { token: this.nextToken++, vmId, name, rootContextId, notify, items: [] };
    this.byToken.set(queue.token, queue);
    this.byName.set(key, queue);
    return queue.token;
  }

  resolve(vmId: string, name: string): number | undefined {
    return this.byName.get(SharedQueues.key(vmId, name))?.token;
  }

  enqueue(token: number, data: Uint8Array): WasmResult {
    const queue: SharedQueue | undefined = this.byToken.get(token);
    if (queue === undefined) return WasmResult.NotFound;
    queue.items.push(data.slice());
    queue.notify(token);
    return WasmResult.Ok;
  }

  /** NotFound for an unknown token, Empty when nothing is waiting. */
  dequeue(token: number): Uint8Array | WasmResult {
    const queue: SharedQueue | undefined = this.byToken.get(token);
    if (queue === undefined) return WasmResult.NotFound;
    const item: Uint8Array | undefined = queue.items.shift();
    return item ?? WasmResult.Empty;
  }

  get(token: number): SharedQueue | undefined {
    return this.byToken.get(token);
  }
}
