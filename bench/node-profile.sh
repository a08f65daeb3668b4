#!/usr/bin/env bash
# Where the JavaScript thread's time goes with 64 validateAsync calls in
# flight: perf samples of a running loop (node --perf-basic-prof for the JIT
# frames), each sorted into one category by its call stack, in µs of the
# thread's CPU per call. Give several addons to compare builds side by side
# (e.g. a copy of the addon before a change, and the current one).
#
#   bash bench/node-profile.sh [ADDON.node ...]     (default: build/bench/node/oatk.node)
#   SECONDS_PER_RUN=4 bash bench/node-profile.sh before.node after.node
# Needs perf (linux-perf). Token and key: build/bench/node (bench/node.sh makes them).
source "$(dirname "$0")/usage.sh"
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${SECONDS_PER_RUN:-4}
work=$PWD/build/bench/profile
mkdir -p "$work"
[ $# -gt 0 ] || set -- "$PWD/build/bench/node/oatk.node"
[ -f build/bench/node/token.txt ] || { echo "run bash bench/node.sh first (it writes the key and token)" >&2; exit 1; }

cat >"$work/loop.mjs" <<'JS'
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
const { OAuthToolkit } = createRequire(new URL('../../../bindings-node/package.json', import.meta.url))('oatk')
const [key, tokenFile, seconds] = process.argv.slice(2)
const token = readFileSync(tokenFile, 'utf8').trim()
const toolkit = new OAuthToolkit().withPrivatePem(readFileSync(key, 'utf8'))
let calls = 0
const end = Date.now() + Number(seconds) * 1000
// 64 loops, each awaiting one call after another: 64 in flight all the time,
// as bench/node-validate.mjs measures it (Promise.all rounds drain to none).
async function lane() {
  while (Date.now() < end) {
    await toolkit.validateAsync(token)
    calls++
  }
}
await Promise.all(Array.from({ length: 64 }, lane))
console.log(calls)
JS

cat >"$work/summary.py" <<'PY'
import re, sys
from collections import Counter
name, pid, calls, total_s, sampled_s = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
# First matching category wins; the stack is searched whole (leaf to root).
CATEGORIES = [
    ("claims -> JavaScript object", r"map_to_napi_value|value_to_napi_value|ClaimsObject|ClaimsJs|json_parse|construct|JsonPars|JsonParse"),
    ("handing work to pool threads (cond signal, futex wake)", r"uv_queue_work|pthread_cond_signal|lll_lock_wake|tasks::submit|Condvar::notify"),
    ("waiting for a lock (futex)", r"lll_lock_wait|futex_wait|Mutex<T>::lock|RwLock"),
    ("the call: token argument, promise, job", r"validate_async|napi_create_promise|napi_create_async_work|tasks::spawn|from_napi_value|TokenArg"),
    ("settling: resolve, completion callbacks", r"napi_resolve_deferred|settle_one|settle_finished|async_work::complete|uv__work_done|ThreadSafeFunction::AsyncCb"),
    ("JavaScript: Promise.all, microtasks, GC", r"JS:|RunMicrotasks|Builtins_|Heap::|Scavenge|MinorGC"),
    ("event loop wake-ups (epoll, eventfd, scheduler)", r"uv__io_poll|epoll|uv__async|schedule|finish_task_switch|eventfd"),
]
ALLOCATOR = r"^(_int_malloc|_int_free|malloc|cfree|free|__libc_free|__libc_calloc|realloc|malloc_consolidate|unlink_chunk|__lll_lock_(wait|wake)_private|mi_|_mi_)"
main = Counter(); n_main = 0; threads = Counter()
tid, stack = None, []
def flush():
    global n_main
    if tid is None:
        return
    threads[tid] += 1
    if tid != pid:
        return
    n_main += 1
    # The allocator by the sampled frame itself: malloc is called from every
    # category, and frees of what a worker allocated take glibc's arena locks.
    if stack and re.search(ALLOCATOR, stack[0]):
        main["allocation: malloc/free (the sampled frame)"] += 1
        return
    text = " ".join(stack)
    for label, rx in CATEGORIES:
        if re.search(rx, text):
            main[label] += 1
            return
    main["other"] += 1
for line in sys.stdin:
    if line.strip() and not line.startswith("\t"):  # a sample: its thread id (right-aligned), then the stack, one frame per tab-indented line
        flush(); tid, stack = line.split()[0], []
    elif line.strip():
        parts = line.strip().split(" ", 1)
        stack.append(parts[1] if len(parts) > 1 else "?")
flush()
calls_sampled = calls * sampled_s / total_s
us = lambda samples: samples / 999 * 1e6 / calls_sampled
others = sum(c for t, c in threads.items() if t != pid)
print(f"\n{name}: {calls / total_s:,.0f} calls/s; JavaScript thread {us(n_main):.1f} µs of CPU per call, "
      f"other threads {us(others):.1f} µs")
for label, c in main.most_common():
    print(f"  {us(c):6.2f} µs  {100 * c / max(n_main, 1):5.1f}%  {label}")
PY

for addon in "$@"; do
  addon=$(realpath "$addon")
  name=$(basename "$addon")
  # From the work folder: node leaves its isolate-*-v8.log files there.
  (cd "$work" && NAPI_RS_NATIVE_LIBRARY_PATH=$addon exec node --perf-basic-prof "$work/loop.mjs" \
    "$PWD/../node/private_key.pem" "$PWD/../node/token.txt" $((RUN + 3)) >"$work/$name.calls") &
  pid=$!
  sleep 2 # warm-up, then sample RUN seconds of steady state
  perf record -q -F 999 -g -p "$pid" -o "$work/$name.perf" -- sleep "$RUN" >/dev/null 2>&1
  wait "$pid"
  perf script -i "$work/$name.perf" -F tid,ip,sym 2>/dev/null |
    python3 "$work/summary.py" "$name" "$pid" "$(cat "$work/$name.calls")" "$((RUN + 3))" "$RUN"
done
