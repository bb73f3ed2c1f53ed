import assert from "node:assert/strict";
import {
  CONTAINER_METRICS,
  createContainerReader,
  LIMITS_READ_MS,
} from "../../lib/proc/container.ts";
import {
  cgroupDir,
  descendants,
  presentCgroupFiles,
  readAllStats,
  readCgroup,
  readProcess,
} from "../../lib/proc/read.ts";
import { createProcessReaders } from "../../lib/agent/process.ts";
import { platform } from "../../lib/platform.ts";

const root = (name: string) => new URL(`../fixtures/proc/${name}`, import.meta.url).pathname;

Deno.test("readProcess reads a fixture process: weird name, VmRSS, threads, fds", () => {
  const r = readProcess(4242, { root: root("container") });
  assert.ok(r.ok);
  assert.equal(r.value.comm, "my (weird) app");
  assert.equal(r.value.cpuTicks, 300);
  assert.equal(r.value.rssBytes, 10240 * 1024);
  assert.equal(r.value.numThreads, 7);
  assert.equal(r.value.openFds, 5);
});

Deno.test("readProcess falls back to stat rss without status, and says when the process is gone", () => {
  const r = readProcess(77, { root: root("missing") });
  assert.ok(r.ok);
  assert.equal(r.value.openFds, null);
  assert.equal(r.value.rssBytes, 0);
  const gone = readProcess(78, { root: root("missing") });
  assert.ok(!gone.ok && gone.reason.startsWith("unavailable: process 78"));
  assert.equal(readProcess("self", { root: root("garbage") }).ok, false);
});

Deno.test("readProcess reads this very process", () => {
  const r = readProcess(Deno.pid);
  assert.ok(r.ok);
  assert.equal(r.value.pid, Deno.pid);
  assert.ok(r.value.rssBytes > 1024 * 1024 && r.value.numThreads >= 1 && r.value.openFds! >= 3);
});

Deno.test("readCgroup reads a limited container's files", () => {
  const r = readCgroup(4242, { root: root("container") });
  assert.ok(r.ok);
  assert.equal(r.value.path, "/system.slice/docker-abc.scope");
  assert.deepEqual(
    { ...r.value, dir: undefined, path: undefined },
    {
      dir: undefined,
      path: undefined,
      memoryUsageBytes: 104857600,
      memoryLimitBytes: 536870912,
      cpuLimitCores: 0.5,
      cpuUsageUsec: 8123456,
      nrThrottled: 42,
      throttledUsec: 1234567,
      problems: [],
      missing: [],
    },
  );
});

Deno.test("readCgroup: max and huge values are no limit; missing files are absent", () => {
  const u = readCgroup("self", { root: root("unlimited") });
  assert.ok(u.ok);
  assert.equal(u.value.memoryLimitBytes, null);
  assert.equal(u.value.cpuLimitCores, null);
  assert.equal(u.value.memoryUsageBytes, 73400320);
  assert.equal(u.value.throttledUsec, undefined);
  const h = readCgroup("self", { root: root("huge") });
  assert.ok(h.ok);
  assert.equal(h.value.memoryLimitBytes, null);
  assert.equal(h.value.cpuLimitCores, 3);
  const m = readCgroup(77, { root: root("missing") });
  assert.ok(m.ok);
  assert.deepEqual(m.value.problems, []);
  assert.equal(m.value.memoryUsageBytes, undefined);
});

Deno.test("readCgroup: unavailable with a reason on v1-only machines; garbage is listed", () => {
  const v1 = readCgroup("self", { root: root("v1-only") });
  assert.ok(!v1.ok && v1.reason === "unavailable: cgroup v2 is not mounted");
  const g = readCgroup("self", { root: root("garbage") });
  assert.ok(g.ok);
  assert.equal(g.value.problems.length, 4);
  assert.ok(g.value.problems[0].startsWith("memory.current: "));
});

Deno.test("cgroupDir strips the root of a bind-mounted subtree", () => {
  const d = cgroupDir("self", { root: root("subtree") });
  assert.ok(d.ok);
  assert.equal(d.value.dir, `${root("subtree")}/sys/fs/cgroup/app`);
  const r = readCgroup("self", { root: root("subtree") });
  assert.ok(r.ok && r.value.memoryLimitBytes === 268435456);
});

Deno.test("readCgroup on this machine's captured files: hybrid mode, root cgroup, usage only", () => {
  const r = readCgroup("self", { root: root("this-machine") });
  assert.ok(r.ok);
  assert.equal(r.value.dir, `${root("this-machine")}/sys/fs/cgroup/unified`);
  assert.ok(r.value.cpuUsageUsec! > 0);
  assert.equal(r.value.memoryLimitBytes, undefined);
});

Deno.test("descendants walks ppid links through the whole tree", () => {
  const stats = readAllStats({ root: root("tree") });
  assert.deepEqual([...stats.keys()].sort(), [100, 101, 102, 103, 200]);
  assert.deepEqual(descendants(100, stats).sort(), [101, 102, 103]);
  assert.deepEqual(descendants(102, stats), []);
});

Deno.test("container reader maps readings to metric names, limits only when set", () => {
  const read = createContainerReader({ pid: 4242, root: root("container"), log: () => {} });
  assert.deepEqual(read(), {
    [CONTAINER_METRICS.memLimitBytes]: 536870912,
    [CONTAINER_METRICS.memUsageBytes]: 104857600,
    [CONTAINER_METRICS.cpuLimitCores]: 0.5,
    [CONTAINER_METRICS.cpuThrottledMs]: 1234.57,
  });
  const unlimited = createContainerReader({ root: root("unlimited"), log: () => {} });
  assert.deepEqual(unlimited(), { [CONTAINER_METRICS.memUsageBytes]: 73400320 });
});

Deno.test("container reader reads usage every time and the limits every LIMITS_READ_MS", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await new Deno.Command("cp", { args: ["-r", root("container"), dir] }).output();
    const cg = `${dir}/container/sys/fs/cgroup/system.slice/docker-abc.scope`;
    let t = 0;
    const read = createContainerReader({
      pid: 4242,
      root: `${dir}/container`,
      log: () => {},
      clock: () => t,
    });
    assert.equal(read()[CONTAINER_METRICS.memLimitBytes], 536870912);
    await Deno.writeTextFile(`${cg}/memory.max`, "1073741824\n");
    await Deno.writeTextFile(`${cg}/memory.current`, "209715200\n");
    t += LIMITS_READ_MS - 1;
    const soon = read();
    assert.equal(soon[CONTAINER_METRICS.memUsageBytes], 209715200, "usage is read every time");
    assert.equal(soon[CONTAINER_METRICS.memLimitBytes], 536870912, "the limit as last read");
    assert.equal(soon[CONTAINER_METRICS.cpuLimitCores], 0.5);
    t += 1;
    assert.equal(read()[CONTAINER_METRICS.memLimitBytes], 1073741824, "re-read on time");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("container reader reads no file each sample in a host's root cgroup (cpu.stat alone)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await new Deno.Command("cp", { args: ["-r", root("this-machine"), dir] }).output();
    const lines: string[] = [];
    const read = createContainerReader({ root: `${dir}/this-machine`, log: (l) => lines.push(l) });
    assert.deepEqual(read(), {});
    // Were cpu.stat still read, this garbage would be reported.
    await Deno.writeTextFile(`${dir}/this-machine/sys/fs/cgroup/unified/cpu.stat`, "garbage\n");
    assert.deepEqual(read(), {});
    assert.deepEqual(lines, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("presentCgroupFiles goes by cgroup.controllers, all files when it is not there", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const f of ["memory.current", "memory.max", "cpu.max", "cpu.stat"]) {
      await Deno.writeTextFile(`${dir}/${f}`, "0\n");
    }
    const all = ["cpu.max", "cpu.stat", "memory.current", "memory.max"];
    assert.deepEqual([...presentCgroupFiles(dir)].sort(), all);
    await Deno.writeTextFile(`${dir}/cgroup.controllers`, "memory pids\n");
    assert.deepEqual([...presentCgroupFiles(dir)].sort(), ["memory.current", "memory.max"]);
    await Deno.writeTextFile(`${dir}/cgroup.controllers`, "cpuset cpu io\n");
    assert.deepEqual([...presentCgroupFiles(dir)].sort(), ["cpu.max", "cpu.stat"]);
    await Deno.writeTextFile(`${dir}/cgroup.controllers`, "\n");
    assert.deepEqual([...presentCgroupFiles(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("container reader lists no directory, and drops files its controllers lack (root cgroup)", async () => {
  const dir = await Deno.makeTempDir();
  const { readDir, readText } = platform;
  const listed: string[] = [];
  const read_: string[] = [];
  platform.readDir = (path) => {
    listed.push(path);
    return readDir(path);
  };
  try {
    await Deno.mkdir(`${dir}/proc/self`, { recursive: true });
    await Deno.mkdir(`${dir}/sys/fs/cgroup`, { recursive: true });
    await Deno.copyFile(`${root("unlimited")}/proc/self/mountinfo`, `${dir}/proc/self/mountinfo`);
    await Deno.writeTextFile(`${dir}/proc/self/cgroup`, "0::/\n");
    // A root cgroup: the controllers are on, memory.max and cpu.max are not there.
    const cg = `${dir}/sys/fs/cgroup`;
    await Deno.writeTextFile(`${cg}/cgroup.controllers`, "cpu memory\n");
    await Deno.writeTextFile(`${cg}/memory.current`, "1000\n");
    await Deno.writeTextFile(`${cg}/cpu.stat`, "usage_usec 5\n");
    let t = 0;
    const lines: string[] = [];
    const read = createContainerReader({ root: dir, log: (l) => lines.push(l), clock: () => t });
    assert.deepEqual(read(), { [CONTAINER_METRICS.memUsageBytes]: 1000 });
    await Deno.writeTextFile(`${cg}/memory.current`, "2000\n");
    t += LIMITS_READ_MS;
    platform.readText = (path) => {
      read_.push(path.slice(cg.length + 1));
      return readText(path);
    };
    // With the limits due again: memory.max and cpu.max were not there, and without cpu.max
    // cpu.stat has no throttling to report.
    assert.deepEqual(read(), { [CONTAINER_METRICS.memUsageBytes]: 2000 });
    assert.deepEqual(read_, ["memory.current"]);
    assert.deepEqual(lines, []);
    assert.deepEqual(listed, []);
  } finally {
    platform.readDir = readDir;
    platform.readText = readText;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("container reader says once that cgroup v2 is missing, then carries on", () => {
  const lines: string[] = [];
  const read = createContainerReader({ root: root("v1-only"), log: (l) => lines.push(l) });
  for (let i = 0; i < 5; i++) assert.deepEqual(read(), {});
  assert.equal(lines.length, 1);
  assert.match(lines[0], /cgroup v2 is not mounted; carrying on/);
  const garbage: string[] = [];
  const g = createContainerReader({ root: root("garbage"), log: (l) => garbage.push(l) });
  g();
  g();
  assert.equal(garbage.length, 1);
});

Deno.test("agent process readers carry container metrics in extra", () => {
  const readers = createProcessReaders({
    container: createContainerReader({ pid: 4242, root: root("container"), log: () => {} }),
  });
  try {
    const r = readers.read();
    assert.equal(r.extra?.[CONTAINER_METRICS.memLimitBytes], 536870912);
    assert.ok(r.rssBytes > 0 && r.heapUsedBytes > 0);
  } finally {
    readers.close();
  }
  const none = createProcessReaders({ container: false });
  try {
    assert.equal(none.read().extra, undefined);
  } finally {
    none.close();
  }
});
