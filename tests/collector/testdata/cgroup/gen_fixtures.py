#!/usr/bin/env python3
"""Writes the cgroup fixture trees v1/ and v2/, the pods each tree's PodIndex knows (pods.txt),
and the exposition each tree must give (expected.prom), computed here from the numbers written
into the files, independently of the C++ parsers.

Run from this directory: python3 gen_fixtures.py (rewrites v1/ and v2/).
"""

import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))


def cid(seed):
    """A 64-hex-digit container ID."""
    h = ""
    x = seed * 2654435761 + 12345
    while len(h) < 64:
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        h += "%016x" % x
    return h[:64]


def num(seed, lo, hi):
    x = (seed * 2862933555777941757 + 3037000493) % (1 << 64)
    return lo + x % (hi - lo)


class Tree:
    def __init__(self, name):
        self.root = os.path.join(HERE, name)
        shutil.rmtree(self.root, ignore_errors=True)
        os.makedirs(self.root)
        self.samples = []  # (family, type, labels dict, value)

    def write(self, path, content):
        full = os.path.join(self.root, path.lstrip("/"))
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(content)

    def add(self, family, typ, labels, value, extra=None):
        l = {k: v for k, v in labels.items() if v}
        if extra:
            l.update(extra)
        self.samples.append((family, typ, l, value))

    def write_expected(self):
        fams = {}
        order = []
        for fam, typ, labels, value in self.samples:
            if fam not in fams:
                fams[fam] = (typ, [])
                order.append(fam)
            fams[fam][1].append((labels, value))
        out = []
        for fam in order:
            typ, samples = fams[fam]
            out.append("# TYPE %s %s" % (fam, typ))
            for labels, value in samples:
                ls = ",".join('%s="%s"' % (k, labels[k]) for k in sorted(labels))
                out.append("%s{%s} %r" % (fam, ls, float(value)))
        with open(os.path.join(HERE, os.path.basename(self.root) + ".prom"), "w") as f:
            f.write("\n".join(out) + "\n")


def psi(some, full):
    s = "some avg10=0.00 avg60=0.12 avg300=0.31 total=%d\n" % some
    if full is not None:
        s += "full avg10=0.00 avg60=0.05 avg300=0.10 total=%d\n" % full
    return s


def add_common(t, labels, c):
    """The families both versions export from the values in `c`."""
    ctr = "counter"
    t.add("container_cpu_usage_seconds_total", ctr, labels, c["usage_s"], {"cpu": "total"})
    t.add("container_cpu_user_seconds_total", ctr, labels, c["user_s"])
    t.add("container_cpu_system_seconds_total", ctr, labels, c["system_s"])
    if c["nr_periods"] > 0:
        t.add("container_cpu_cfs_periods_total", ctr, labels, c["nr_periods"])
        t.add("container_cpu_cfs_throttled_periods_total", ctr, labels, c["nr_throttled"])
        t.add("container_cpu_cfs_throttled_seconds_total", ctr, labels, c["throttled_s"])
    t.add("container_memory_usage_bytes", "gauge", labels, c["usage"])
    t.add("container_memory_working_set_bytes", "gauge", labels,
          max(0, c["usage"] - c["inactive_file"]))
    t.add("container_memory_rss", "gauge", labels, c["anon"])
    t.add("container_memory_cache", "gauge", labels, c["file"])
    t.add("container_memory_mapped_file", "gauge", labels, c["file_mapped"])
    t.add("container_memory_swap", "gauge", labels, c["swap"])
    lim = c["limit"]
    t.add("container_spec_memory_limit_bytes", "gauge", labels,
          0 if lim is None or lim >= (1 << 62) else lim)
    if "failcnt" in c:
        t.add("container_memory_failcnt", ctr, labels, c["failcnt"])
    t.add("container_oom_events_total", ctr, labels, c["oom_kill"])
    for dev, name, rb, wb, ri, wi in c["io"]:
        extra = {"device": name}
        t.add("container_fs_reads_bytes_total", ctr, labels, rb, extra)
        t.add("container_fs_writes_bytes_total", ctr, labels, wb, extra)
        t.add("container_fs_reads_total", ctr, labels, ri, extra)
        t.add("container_fs_writes_total", ctr, labels, wi, extra)
    if "psi" in c:
        for res in ("cpu", "memory", "io"):
            some, full = c["psi"][res]
            t.add("container_pressure_%s_waiting_seconds_total" % res, ctr, labels, some / 1e6)
            if full is not None:
                t.add("container_pressure_%s_stalled_seconds_total" % res, ctr, labels,
                      full / 1e6)
    t.add("container_threads", "gauge", labels, c["pids"])
    t.add("container_threads_max", "gauge", labels, 0 if c["pids_max"] is None else c["pids_max"])


def values(seed, limit, quota, oom_kill=0, ws_floor=False, swap=0, pids_max=None):
    usage = num(seed, 10 << 20, 400 << 20)
    inactive = num(seed + 1, 0, usage // 3)
    if ws_floor:
        inactive = usage + 4096 * 17
    user_us = num(seed + 2, 10**6, 10**9)
    sys_us = num(seed + 3, 10**5, 10**8)
    periods = num(seed + 4, 1000, 900000) if quota else 0
    throttled = periods // 7 if quota else 0
    return {
        "seed": seed,
        "usage": usage,
        "inactive_file": inactive,
        "anon": num(seed + 5, 1 << 20, usage),
        "file": num(seed + 6, 0, usage // 2),
        "file_mapped": num(seed + 7, 0, 8 << 20),
        "swap": swap,
        "limit": limit,
        "oom_kill": oom_kill,
        "user_us": user_us,
        "sys_us": sys_us,
        "nr_periods": periods,
        "nr_throttled": throttled,
        "throttled_us": throttled * 2371,
        "pids": num(seed + 8, 1, 60),
        "pids_max": pids_max,
    }


def v2_tree():
    t = Tree("v2")
    root = "/sys/fs/cgroup"
    t.write(root + "/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n")
    t.write(root + "/cgroup.subtree_control", "cpuset cpu io memory pids\n")
    t.write("/proc/diskstats",
            "   8       0 sda 61394 20316 4712536 24019 236112 170374 9283642 234871 0 289268 "
            "279016 0 0 0 0 30183 20125\n"
            "   8       1 sda1 61204 20316 4703850 23982 236112 170374 9283642 234871 0 289144 "
            "258853 0 0 0 0 0 0\n"
            " 259       0 nvme0n1 120233 3 10452280 36812 918273 201993 49229120 612937 0 "
            "501237 671902 0 0 0 0 98127 22153\n")
    pods_txt = []

    def cgroup(rel, labels, c):
        d = root + rel
        usage_us = c["user_us"] + c["sys_us"]
        c["usage_s"] = usage_us / 1e6
        c["user_s"] = c["user_us"] / 1e6
        c["system_s"] = c["sys_us"] / 1e6
        c["throttled_s"] = c["throttled_us"] / 1e6
        t.write(d + "/cpu.stat",
                "usage_usec %d\nuser_usec %d\nsystem_usec %d\ncore_sched.force_idle_usec 0\n"
                "nr_periods %d\nnr_throttled %d\nthrottled_usec %d\nnr_bursts 0\nburst_usec 0\n"
                % (usage_us, c["user_us"], c["sys_us"], c["nr_periods"], c["nr_throttled"],
                   c["throttled_us"]))
        t.write(d + "/memory.current", "%d\n" % c["usage"])
        s = c["seed"]
        stat = [
            ("anon", c["anon"]), ("file", c["file"]), ("kernel", num(s, 0, 1 << 22)),
            ("kernel_stack", 16384 * num(s + 9, 1, 40)), ("pagetables", num(s + 10, 0, 1 << 20)),
            ("sec_pagetables", 0), ("percpu", 480), ("sock", 0), ("vmalloc", 0),
            ("shmem", 0), ("zswap", 0), ("zswapped", 0), ("file_mapped", c["file_mapped"]),
            ("file_dirty", 4096), ("file_writeback", 0), ("swapcached", 0),
            ("anon_thp", 0), ("file_thp", 0), ("shmem_thp", 0),
            ("inactive_anon", c["anon"] // 2), ("active_anon", c["anon"] - c["anon"] // 2),
            ("inactive_file", c["inactive_file"]), ("active_file", num(s + 11, 0, 1 << 24)),
            ("unevictable", 0), ("slab_reclaimable", num(s + 12, 0, 1 << 20)),
            ("slab_unreclaimable", num(s + 13, 0, 1 << 20)), ("slab", 0),
            ("workingset_refault_anon", 0), ("workingset_refault_file", num(s + 14, 0, 999)),
            ("workingset_activate_anon", 0), ("workingset_activate_file", 0),
            ("workingset_restore_anon", 0), ("workingset_restore_file", 0),
            ("workingset_nodereclaim", 0), ("pgscan", 0), ("pgsteal", 0), ("pgscan_kswapd", 0),
            ("pgscan_direct", 0), ("pgsteal_kswapd", 0), ("pgsteal_direct", 0),
            ("pgfault", num(s + 15, 1000, 10**7)), ("pgmajfault", num(s + 16, 0, 100)),
            ("pgrefill", 0), ("pgactivate", 0), ("pgdeactivate", 0), ("pglazyfree", 0),
            ("pglazyfreed", 0), ("zswpin", 0), ("zswpout", 0), ("thp_fault_alloc", 0),
            ("thp_collapse_alloc", 0),
        ]
        t.write(d + "/memory.stat", "".join("%s %d\n" % kv for kv in stat))
        t.write(d + "/memory.swap.current", "%d\n" % c["swap"])
        t.write(d + "/memory.max", "max\n" if c["limit"] is None else "%d\n" % c["limit"])
        t.write(d + "/memory.events",
                "low 0\nhigh 0\nmax %d\noom %d\noom_kill %d\noom_group_kill 0\n"
                % (c["oom_kill"] * 31, c["oom_kill"], c["oom_kill"]))
        io = []
        lines = []
        for dev, name, k in (("8:0", "/dev/sda", 20), ("259:0", "/dev/nvme0n1", 30)):
            rb, wb = num(s + k, 0, 1 << 30), num(s + k + 1, 0, 1 << 30)
            ri, wi = num(s + k + 2, 0, 10**6), num(s + k + 3, 0, 10**6)
            io.append((dev, name, rb, wb, ri, wi))
            lines.append("%s rbytes=%d wbytes=%d rios=%d wios=%d dbytes=0 dios=0\n"
                         % (dev, rb, wb, ri, wi))
        c["io"] = io
        t.write(d + "/io.stat", "".join(lines))
        c["psi"] = {}
        for res, k in (("cpu", 40), ("memory", 41), ("io", 42)):
            some = num(s + k, 0, 10**8)
            full = num(s + k + 10, 0, some + 1)
            c["psi"][res] = (some, full)
            t.write(d + "/%s.pressure" % res, psi(some, full))
        t.write(d + "/pids.current", "%d\n" % c["pids"])
        t.write(d + "/pids.max", "max\n" if c["pids_max"] is None else "%d\n" % c["pids_max"])
        add_common(t, labels, c)

    kp = "/kubepods.slice"
    cgroup(kp, {"id": kp}, values(100, None, False))
    # Guaranteed: directly under kubepods.slice.
    pods = [
        # (qos, uid, namespace, pod, [(container, seed, limit, quota, oom)], pod oom_kill)
        ("guaranteed", "0b4f1c2e-6d7a-4e53-9a61-2f8e0c5d7b11", "prod", "web-0",
         [("web", 300, 256 << 20, True, 0)], 0),
        ("burstable", "5c3d9a0f-81e2-4b7c-a4d6-97f0e21b3c88", "default", "api-7d9f5c6b8-x2kqp",
         [("api", 400, 512 << 20, True, 0), ("sidecar", 410, None, False, 0)], 2),
        ("besteffort", "e91a7b3c-2f4d-4c6e-8b1a-5d0c9e7f6a22", "jobs", "batch-28315470-zq9mx",
         [("worker", 500, None, False, 0)], 0),
    ]
    for qos in ("burstable", "besteffort"):
        rel = "%s/kubepods-%s.slice" % (kp, qos)
        cgroup(rel, {"id": rel}, values(150 if qos == "burstable" else 160, None, False))
    for qos, uid, ns, pod, containers, pod_oom in pods:
        u = uid.replace("-", "_")
        if qos == "guaranteed":
            prel = "%s/kubepods-pod%s.slice" % (kp, u)
        else:
            prel = "%s/kubepods-%s.slice/kubepods-%s-pod%s.slice" % (kp, qos, qos, u)
        seed = containers[0][1]
        limit = containers[0][2] if qos == "guaranteed" else None
        plabels = {"namespace": ns, "pod": pod, "id": prel}
        cgroup(prel, plabels,
               values(seed - 50, limit, qos == "guaranteed", oom_kill=pod_oom, pids_max=4096))
        # The sandbox (pause) container: not in the index.
        sandbox = cid(seed + 7)
        srel = "%s/cri-containerd-%s.scope" % (prel, sandbox)
        cgroup(srel, {"namespace": ns, "pod": pod, "id": srel},
               values(seed + 7, None, False))
        entries = []
        for name, cseed, climit, quota, oom in containers:
            id_ = cid(cseed)
            crel = "%s/cri-containerd-%s.scope" % (prel, id_)
            cgroup(crel, {"namespace": ns, "pod": pod, "container": name, "id": crel},
                   values(cseed, climit, quota, oom_kill=oom, ws_floor=(name == "worker"),
                          swap=(8192 if name == "sidecar" else 0)))
            entries.append("%s:%s" % (name, id_))
        pods_txt.append("%s\t%s\t%s\t%s" % (uid, ns, pod, ",".join(entries)))
    # Not cgroups the walk exports: a systemd slice beside kubepods and a file.
    t.write(root + "/system.slice/containerd.service/cpu.stat", "usage_usec 1\n")
    with open(os.path.join(HERE, "v2.pods.txt"), "w") as f:
        f.write("\n".join(pods_txt) + "\n")
    t.write_expected()


def v1_tree():
    t = Tree("v1")
    root = "/sys/fs/cgroup"
    # Hybrid: the v1 controllers plus the unified hierarchy, which does not make it v2.
    t.write(root + "/unified/cgroup.controllers", "\n")
    t.write(root + "/systemd/cgroup.procs", "1\n")
    os.symlink("cpu,cpuacct", os.path.join(t.root, "sys/fs/cgroup/cpu"))
    os.symlink("cpu,cpuacct", os.path.join(t.root, "sys/fs/cgroup/cpuacct"))
    pods_txt = []

    def cgroup(rel, labels, c, recursive=True):
        s = c["seed"]
        usage_ns = (c["user_us"] + c["sys_us"]) * 1000 + num(s + 17, 0, 999)
        user_ticks = c["user_us"] // 10000
        sys_ticks = c["sys_us"] // 10000
        c["usage_s"] = usage_ns / 1e9
        c["user_s"] = user_ticks / 100
        c["system_s"] = sys_ticks / 100
        throttled_ns = c["throttled_us"] * 1000 + 17
        c["throttled_s"] = throttled_ns / 1e9
        cpu = root + "/cpu,cpuacct" + rel
        t.write(cpu + "/cpuacct.usage", "%d\n" % usage_ns)
        t.write(cpu + "/cpuacct.stat", "user %d\nsystem %d\n" % (user_ticks, sys_ticks))
        t.write(cpu + "/cpu.stat", "nr_periods %d\nnr_throttled %d\nthrottled_time %d\n"
                "nr_bursts 0\nburst_time 0\n"
                % (c["nr_periods"], c["nr_throttled"], throttled_ns))
        t.write(cpu + "/cpu.shares", "1024\n")
        t.write(cpu + "/cpu.cfs_quota_us", "%d\n" % (50000 if c["nr_periods"] else -1))
        mem = root + "/memory" + rel
        t.write(mem + "/memory.usage_in_bytes", "%d\n" % c["usage"])
        unlimited = 9223372036854771712
        t.write(mem + "/memory.limit_in_bytes",
                "%d\n" % (unlimited if c["limit"] is None else c["limit"]))
        c["failcnt"] = c["oom_kill"] * 5
        t.write(mem + "/memory.failcnt", "%d\n" % c["failcnt"])
        t.write(mem + "/memory.oom_control",
                "oom_kill_disable 0\nunder_oom 0\noom_kill %d\n" % c["oom_kill"])
        own = [
            ("cache", c["file"] // 3), ("rss", c["anon"] // 3), ("rss_huge", 0),
            ("shmem", 0), ("mapped_file", c["file_mapped"] // 3), ("dirty", 0),
            ("writeback", 0), ("swap", 0), ("pgpgin", num(s + 18, 0, 10**6)),
            ("pgpgout", num(s + 19, 0, 10**6)), ("pgfault", num(s + 15, 1000, 10**7)),
            ("pgmajfault", 3), ("inactive_anon", 0), ("active_anon", c["anon"] // 3),
            ("inactive_file", c["inactive_file"] // 3), ("active_file", 0),
            ("unevictable", 0),
            ("hierarchical_memory_limit", unlimited if c["limit"] is None else c["limit"]),
            ("hierarchical_memsw_limit", unlimited),
        ]
        total = [
            ("total_cache", c["file"]), ("total_rss", c["anon"]), ("total_rss_huge", 0),
            ("total_shmem", 0), ("total_mapped_file", c["file_mapped"]),
            ("total_dirty", 4096), ("total_writeback", 0), ("total_swap", c["swap"]),
            ("total_pgpgin", num(s + 18, 0, 10**6)), ("total_pgpgout", num(s + 19, 0, 10**6)),
            ("total_pgfault", num(s + 15, 1000, 10**7)), ("total_pgmajfault", 3),
            ("total_inactive_anon", 0), ("total_active_anon", c["anon"]),
            ("total_inactive_file", c["inactive_file"]), ("total_active_file", 0),
            ("total_unevictable", 0),
        ]
        t.write(mem + "/memory.stat", "".join("%s %d\n" % kv for kv in own + total))
        blk = root + "/blkio" + rel
        rb, wb = num(s + 20, 0, 1 << 30), num(s + 21, 0, 1 << 30)
        ri, wi = num(s + 22, 0, 10**6), num(s + 23, 0, 10**6)
        c["io"] = [("8:0", "8:0", rb, wb, ri, wi)]

        def blkio(r, w):
            return ("8:0 Read %d\n8:0 Write %d\n8:0 Sync %d\n8:0 Async 0\n8:0 Discard 0\n"
                    "8:0 Total %d\nTotal %d\n" % (r, w, r + w, r + w, r + w))
        suffix = "_recursive" if recursive else ""
        t.write(blk + "/blkio.throttle.io_service_bytes" + suffix, blkio(rb, wb))
        t.write(blk + "/blkio.throttle.io_serviced" + suffix, blkio(ri, wi))
        pids = root + "/pids" + rel
        t.write(pids + "/pids.current", "%d\n" % c["pids"])
        t.write(pids + "/pids.max", "max\n" if c["pids_max"] is None else "%d\n" % c["pids_max"])
        add_common(t, labels, c)

    kp = "/kubepods"
    # Old kernels have only the non-recursive throttle files.
    cgroup(kp, {"id": kp}, values(100, None, False), recursive=False)
    for qos, seed in (("burstable", 150), ("besteffort", 160)):
        cgroup("%s/%s" % (kp, qos), {"id": "%s/%s" % (kp, qos)}, values(seed, None, False))
    pods = [
        ("guaranteed", "7a1e4c90-3b2d-4f8e-9c07-1d6b5a4e3f21", "data", "db-0",
         [("postgres", 300, 1 << 30, True, 1)], 1),
        ("burstable", "c2f0a8d4-9e1b-4a37-b6c5-0e8d7f3a2b19", "web", "frontend-6c9b7-jv4rt",
         [("nginx", 400, 128 << 20, True, 0)], 0),
        ("besteffort", "4d8b2f6e-a1c3-47e9-8f05-b3a9c7d1e0f4", "default", "debug-shell",
         [("shell", 500, None, False, 0)], 0),
    ]
    for qos, uid, ns, pod, containers, pod_oom in pods:
        prel = "%s/pod%s" % (kp, uid) if qos == "guaranteed" else "%s/%s/pod%s" % (kp, qos, uid)
        seed = containers[0][1]
        limit = containers[0][2] if qos == "guaranteed" else None
        cgroup(prel, {"namespace": ns, "pod": pod, "id": prel},
               values(seed - 50, limit, qos == "guaranteed", oom_kill=pod_oom, pids_max=1024))
        sandbox = cid(seed + 7)
        srel = "%s/crio-%s" % (prel, sandbox)
        cgroup(srel, {"namespace": ns, "pod": pod, "id": srel}, values(seed + 7, None, False))
        entries = []
        for name, cseed, climit, quota, oom in containers:
            id_ = cid(cseed)
            crel = "%s/crio-%s" % (prel, id_)
            cgroup(crel, {"namespace": ns, "pod": pod, "container": name, "id": crel},
                   values(cseed, climit, quota, oom_kill=oom))
            entries.append("%s:%s" % (name, id_))
            # conmon, CRI-O's monitor: not a container, not exported.
            t.write(root + "/memory%s/crio-conmon-%s/memory.usage_in_bytes" % (prel, id_),
                    "1048576\n")
        pods_txt.append("%s\t%s\t%s\t%s" % (uid, ns, pod, ",".join(entries)))
    with open(os.path.join(HERE, "v1.pods.txt"), "w") as f:
        f.write("\n".join(pods_txt) + "\n")
    t.write_expected()


if __name__ == "__main__":
    v2_tree()
    v1_tree()
