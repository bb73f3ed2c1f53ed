import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  countFds,
  isDigits,
  NO_LIMIT_THRESHOLD,
  parseBytes,
  parseCgroup2Mount,
  parseCgroupPath,
  parseCpuMax,
  parseCpuStat,
  parseLimit,
  parseStat,
  parseStatus,
  words,
} from "../../lib/proc/parse.ts";

const FIX = new URL("../fixtures/proc/", import.meta.url).pathname;
const fixture = (path: string) => readFileSync(`${FIX}${path}`, "utf8");
const value = <T>(r: { ok: true; value: T } | { ok: false; reason: string }): T => {
  assert.ok(r.ok, `expected a value, got: ${!r.ok && r.reason}`);
  return r.value;
};

Deno.test("parseStat reads this machine's captured /proc/self/stat", () => {
  const s = value(parseStat(fixture("this-machine/proc/self/stat")));
  assert.equal(s.comm, "python3");
  assert.ok(s.pid > 0 && s.ppid > 0);
  assert.equal(s.state, "R");
  assert.equal(s.numThreads, 1);
  assert.ok(s.starttime > 0 && s.rssPages > 0);
  assert.ok(s.utime >= 0 && s.stime >= 0);
});

Deno.test("parseStat takes the name up to the last parenthesis", () => {
  const s = value(parseStat(fixture("container/proc/4242/stat")));
  assert.deepEqual(
    [s.pid, s.comm, s.state, s.ppid, s.utime, s.stime, s.numThreads, s.starttime, s.rssPages],
    [4242, "my (weird) app", "S", 1, 250, 50, 7, 5000, 2560],
  );
  const line = "9 (a) S 1 (b) R 2 3 3 0 -1 0 0 0 0 0 11 12 0 0 20 0 3 0 77 0 5";
  const odd = value(parseStat(line)); // a name that looks like fields: only the last ")" counts
  assert.deepEqual([odd.comm, odd.state, odd.ppid, odd.utime, odd.stime], [
    "a) S 1 (b",
    "R",
    2,
    11,
    12,
  ]);
});

Deno.test("parseStat returns a reason for missing, truncated and garbage input", () => {
  for (
    const text of [
      null,
      "",
      "garbage without parentheses\n",
      "12 (x)",
      "12 (x) S 1 2 3",
      "abc (x) S 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 0 3",
      "12 (x) S 1 1 1 0 -1 0 0 0 0 0 -1 1 0 0 20 0 1 0 5 0 3",
    ]
  ) {
    const r = parseStat(text);
    assert.equal(r.ok, false, JSON.stringify(text));
  }
});

Deno.test("parseStatus reads VmRSS in bytes and Threads; kernel threads have no VmRSS", () => {
  const real = value(parseStatus(fixture("this-machine/proc/self/status")));
  assert.ok(real.vmRssBytes! > 1024 * 1024 && real.vmRssBytes! % 1024 === 0);
  assert.equal(real.threads, 1);
  assert.deepEqual(value(parseStatus(fixture("container/proc/4242/status"))), {
    vmRssBytes: 10240 * 1024,
    threads: 7,
  });
  assert.deepEqual(value(parseStatus("Name:\tkworker/0:1\nThreads:\t1\n")), {
    vmRssBytes: null,
    threads: 1,
  });
  assert.equal(parseStatus(null).ok, false);
  assert.equal(parseStatus(fixture("garbage/proc/self/status")).ok, false);
});

Deno.test("countFds counts numeric entries only", () => {
  assert.equal(value(countFds(["0", "1", "2", "17", ".", "x"])), 4);
  assert.equal(value(countFds([])), 0);
  assert.equal(countFds(null).ok, false);
});

Deno.test("parseCgroupPath finds the v2 line in real, container and v1-only files", () => {
  assert.equal(value(parseCgroupPath(fixture("this-machine/proc/self/cgroup"))), "/");
  assert.equal(
    value(parseCgroupPath(fixture("container/proc/4242/cgroup"))),
    "/system.slice/docker-abc.scope",
  );
  const v1 = parseCgroupPath(fixture("v1-only/proc/self/cgroup"));
  assert.ok(!v1.ok && v1.reason.includes("no cgroup v2"));
  assert.equal(parseCgroupPath(null).ok, false);
  assert.equal(parseCgroupPath("0::relative\n").ok, false);
});

Deno.test("parseCgroup2Mount finds unified, hybrid (this machine) and bind-mounted v2", () => {
  assert.deepEqual(value(parseCgroup2Mount(fixture("container/proc/self/mountinfo"))), {
    mountPoint: "/sys/fs/cgroup",
    root: "/",
  });
  assert.deepEqual(value(parseCgroup2Mount(fixture("this-machine/proc/self/mountinfo"))), {
    mountPoint: "/sys/fs/cgroup/unified",
    root: "/",
  });
  assert.deepEqual(value(parseCgroup2Mount(fixture("subtree/proc/self/mountinfo"))), {
    mountPoint: "/sys/fs/cgroup",
    root: "/docker/abc",
  });
  const none = parseCgroup2Mount(fixture("v1-only/proc/self/mountinfo"));
  assert.ok(!none.ok && none.reason.includes("not mounted"));
  assert.equal(
    value(parseCgroup2Mount("1 2 0:1 / /mnt/my\\040cg rw - cgroup2 none rw\n")).mountPoint,
    "/mnt/my cg",
  );
});

Deno.test("parseBytes and parseLimit: newlines, max, huge values as no limit, garbage", () => {
  assert.equal(value(parseBytes("104857600\n")), 104857600);
  assert.equal(
    value(
      parseBytes(
        fixture(
          "unlimited/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope/memory.current",
        ),
      ),
    ),
    73400320,
  );
  assert.equal(value(parseBytes("5\n\n")), 5);
  assert.equal(value(parseLimit("536870912\n")), 536870912);
  assert.equal(value(parseLimit("max\n")), null);
  assert.equal(value(parseLimit(fixture("huge/sys/fs/cgroup/memory.max"))), null);
  assert.equal(value(parseLimit(String(NO_LIMIT_THRESHOLD - 1))), NO_LIMIT_THRESHOLD - 1);
  for (const bad of [null, "", "lots\n", "-1\n", "1.5", "12 kB", "0x10"]) {
    assert.equal(parseBytes(bad).ok, false, JSON.stringify(bad));
    assert.equal(parseLimit(bad).ok, false, JSON.stringify(bad));
  }
});

Deno.test("parseCpuMax turns quota/period into cores; max is no limit", () => {
  assert.equal(value(parseCpuMax("50000 100000\n")), 0.5);
  assert.equal(value(parseCpuMax("max 100000\n")), null);
  assert.equal(value(parseCpuMax("max")), null);
  assert.equal(value(parseCpuMax("200000")), 2);
  assert.equal(value(parseCpuMax(fixture("huge/sys/fs/cgroup/cpu.max"))), 3);
  for (const bad of [null, "", "fifty percent\n", "50000 0", "1 2 3", "-5 100000"]) {
    assert.equal(parseCpuMax(bad).ok, false, JSON.stringify(bad));
  }
});

Deno.test("parseCpuStat reads usage and throttling; absent keys are null", () => {
  assert.deepEqual(
    value(parseCpuStat(fixture("container/sys/fs/cgroup/system.slice/docker-abc.scope/cpu.stat"))),
    { usageUsec: 8123456, nrThrottled: 42, throttledUsec: 1234567 },
  );
  const real = value(parseCpuStat(fixture("this-machine/sys/fs/cgroup/unified/cpu.stat")));
  assert.ok(real.usageUsec! > 0);
  assert.equal(real.throttledUsec, null); // the root cgroup is never throttled
  assert.equal(parseCpuStat("\n").ok, false);
  assert.equal(parseCpuStat(null).ok, false);
});

/** Every string up to `max` characters over `alphabet`. */
function* strings(alphabet: string[], max: number): Generator<string> {
  yield "";
  let level = [""];
  for (let n = 1; n <= max; n++) {
    level = level.flatMap((s) => alphabet.map((c) => s + c));
    yield* level;
  }
}

Deno.test("isDigits and words agree with /^\\d+$/ and trim().split(/\\s+/) on ASCII text", () => {
  // Digits, letters, signs and dots, and the ASCII blanks the kernel writes.
  const alphabet = ["0", "7", "9", "a", "-", "+", ".", " ", "\t", "\n"];
  for (const s of strings(alphabet, 5)) {
    assert.equal(isDigits(s), /^\d+$/.test(s), JSON.stringify(s));
    const t = s.trim();
    assert.deepEqual(words(s), t === "" ? [] : t.split(/\s+/), JSON.stringify(s));
  }
  for (let c = 0; c < 0x10000; c++) {
    const s = String.fromCharCode(c);
    assert.equal(isDigits(s), /^\d+$/.test(s), `U+${c.toString(16)}`);
  }
});
