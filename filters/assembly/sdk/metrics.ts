// Envoy stats defined by a filter. Names land under Envoy's `wasmcustom` namespace, which
// /stats/prometheus strips; dots become underscores.
import * as raw from "./imports";
import { MetricType, WasmResult } from "./abi";
import { outU64, utf8 } from "./memory";

function define(type: MetricType, name: string): u32 {
  const n = utf8(name);
  if (raw.proxy_define_metric(<i32>type, changetype<usize>(n), <usize>n.byteLength, outU64()) != WasmResult.Ok) return 0;
  return load<u32>(outU64());
}

export class Counter {
  id: u32;
  constructor(name: string) { this.id = define(MetricType.Counter, name); }
  increment(by: i64): void { if (this.id != 0) raw.proxy_increment_metric(this.id, by); }
}

export class Histogram {
  id: u32;
  constructor(name: string) { this.id = define(MetricType.Histogram, name); }
  record(value: u64): void { if (this.id != 0) raw.proxy_record_metric(this.id, value); }
}
