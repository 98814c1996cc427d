// Every built-in module in one binary, for the gateway's default packaging: Envoy loads this one
// .wasm into one VM per worker (per failure policy, envoy/wasm-filters.ts) and each module is still
// its own filter with its own root context (root_id), configuration and failure policy. A further
// filter in its own VM costs Envoy about 20 µs of CPU per request; in a shared VM less
// (bench/README.md). The per-module binaries (auth.wasm, …) stay for operators who want each
// module in its own VM (wasm.shared_vm: false) and for module authors.
//
// The binary exports proxy_on_response_body (redact and usage need it), so Envoy calls it for the
// other modules' filters too; their streams pass response chunks on untouched.
import { registerRootContext } from "../sdk/registry";
import { RootContext } from "../sdk/context";
import { AuthRoot } from "../auth/filter";
import { RedactRoot } from "../redact/filter";
import { InjectionRoot } from "../injection/filter";
import { QuotaRoot } from "../quota/filter";
import { UsageRoot } from "../usage/filter";
import { ChainRoot } from "../sdk/chain";

export * from "../sdk/exports";
export * from "../sdk/exports-response-body";

function newAuthRoot(id: u32): RootContext { return new AuthRoot(id); }
function newRedactRoot(id: u32): RootContext { return new RedactRoot(id); }
function newInjectionRoot(id: u32): RootContext { return new InjectionRoot(id); }
function newQuotaRoot(id: u32): RootContext { return new QuotaRoot(id); }
function newUsageRoot(id: u32): RootContext { return new UsageRoot(id); }
function newChainRoot(id: u32): RootContext { return new ChainRoot(id); }

registerRootContext("auth", newAuthRoot);
registerRootContext("redact", newRedactRoot);
registerRootContext("injection", newInjectionRoot);
registerRootContext("quota", newQuotaRoot);
registerRootContext("usage", newUsageRoot);
// Several of the modules above in one filter, in the order its configuration lists them
// (sdk/chain.ts; wasm.chain, the default).
registerRootContext("chain", newChainRoot);
