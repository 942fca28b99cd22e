#!/usr/bin/env python3
"""Soak: many cycles of alloc, export, import, fence and revoke across three VMs, with
a VM killed and booted again at random points; then everything is let go and the
daemon must be back where it started.

Each cycle picks a producer and a consumer among a, b, c: the producer allocates and
exports a buffer with a pattern, the consumer imports it, checks the bytes and waits
on the export's timeline, the producer signals, the consumer sees the point, the
producer revokes. With probability --kill, a random VM's QEMU is killed at a random
step of the cycle and the VM is booted again; the cycle then checks what the other
side must see (ENODEV for a wait on a dead producer, its import still readable).

At the end: pool usage 0, the daemon's open fds equal to their count after start-up,
its RSS within --rss-slack of it, no kernel splat in any guest (the kit checks), no
sanitizer report. Prints cycles, kills, minutes and RSS before and after.

Usage: soak.py --build-dir DIR [--cycles N] [--kill P] [--seed S] [--transport T]
The test command runs a short one (meson test soak@ivshmem); docs/testing.md has the
long one and what it showed.
"""

import argparse
import os
import random
import sys
import time

import vmkit


def daemon_fds(kit):
    return len(os.listdir("/proc/%d/fd" % kit.daemon.pid))


def daemon_rss_kib(kit):
    """Its private memory (RssAnon): pool pages it zeroes are shared, not its own."""
    with open("/proc/%d/status" % kit.daemon.pid) as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


def forget(vm, tag):
    """A holder is gone: its fifo and files may be made again."""
    vm.run("rm -f /tmp/h%s /tmp/o%s /tmp/p%s /tmp/w%s" % (tag, tag, tag, tag))


def done(vm, tag):
    vm.release(tag)
    forget(vm, tag)


def cycle(kit, rng, n, kill_p):
    """One cycle; returns True when a VM was killed and booted again during it."""
    prod, cons = rng.sample(["a", "b", "c"], 2)
    victim = rng.choice(["a", "b", "c"]) if rng.random() < kill_p else None
    when = rng.randrange(4)
    seed = n % 200
    held = {}       # VM name -> holder tag, for holders still running

    def step(i):
        """Kill the victim if its time has come; True when the producer is gone.
        The producer or consumer boots again at once (the cycle goes on with the new
        guest); a bystander only when the cycle ends, or a TCG boot (longer than the
        10 s fence watchdog) would lie between the consumer's wait and the signal."""
        if victim and when == i:
            if victim in (prod, cons):
                kit.reboot(victim)
            else:
                kit.kill(victim)
            held.pop(victim, None)
        return victim == prod and when <= i

    out = kit.vms[prod].hold("7", "vmbuf export -p p -s %dK -f seq:%d -n s%d -t %s"
                             % (rng.choice((4, 64, 1024, 3072)), seed, n, cons))
    held[prod] = "7"
    h = vmkit.handle_in(out)
    if step(0):
        return True         # the export went with its VM
    # The consumer may be a new guest of the same VM by now: the export still names it.
    out = kit.vms[cons].hold("8", "vmbuf import -n s%d -c seq:%d" % (n, seed))
    assert "check seq:%d ok" % seed in out, out
    held[cons] = "8"
    gone = step(1)
    waiting = cons in held and not gone
    if waiting:
        kit.vms[cons].spawn("vmbuf wait %s 1 -t 30000 > /tmp/w8 2>&1" % h)
        time.sleep(0.2)
    gone = step(2) or gone
    if gone:
        # The producer died: a wait ends with ENODEV, the import stays readable.
        if cons in held:
            c = kit.vms[cons]
            if waiting:
                c.wait_file("/tmp/w8", "error ENODEV")
            c.tell("8", "check seq:%d" % seed, "check seq:%d ok" % seed)
    else:
        kit.vms[prod].run("vmbuf signal %s 1" % h)
        if waiting and cons in held:
            kit.vms[cons].wait_file("/tmp/w8", "reached 1")
        if not step(3):
            kit.vms[prod].run("vmbuf revoke " + h)
    for vm, tag in held.items():
        done(kit.vms[vm], tag)
    if victim and not kit.vms[victim].alive():
        kit.boot_again(victim)
    return victim is not None


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    vmkit.add_transport_argument(ap)
    ap.add_argument("--cycles", type=int, default=30)
    ap.add_argument("--kill", type=float, default=0.15, help="chance per cycle of a VM kill")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--rss-slack", type=int, default=4096, help="KiB the daemon may grow")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    print("soak: %d cycles, kill chance %.2f, seed %d, %s" %
          (args.cycles, args.kill, args.seed, args.transport))
    t0 = time.time()
    # Under ASan (the test build) freed memory waits in a quarantine and would look like
    # growth: keep it small so RSS says what the daemon holds.
    os.environ.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:exitcode=99:"
                          "quarantine_size_mb=1")
    with vmkit.Kit("soak", args.build_dir, {"a": {"quota": "64M"}, "b": {"quota": "64M"},
                                            "c": {"quota": "64M"}},
                   {"p": ("64M", ["a", "b", "c"])}, transport=args.transport) as kit:
        kit.boot("a", "b", "c")
        kills = 0
        # Two cycles with no kill warm the daemon's caches up; then the baseline.
        for n in range(2):
            cycle(kit, rng, n, 0)
        fds0, rss0 = daemon_fds(kit), daemon_rss_kib(kit)
        for n in range(2, args.cycles):
            kills += cycle(kit, rng, n, args.kill)
        kit.wait_used("p", 0, timeout=60)
        deadline = time.time() + 20
        while daemon_fds(kit) != fds0 and time.time() < deadline:
            time.sleep(0.2)     # a rebooted VM's connections settle
        fds1, rss1 = daemon_fds(kit), daemon_rss_kib(kit)
        minutes = (time.time() - t0) / 60
        print("soak: %d cycles, %d VM kills, %.1f min; daemon fds %d -> %d, RSS %d -> %d KiB"
              % (args.cycles, kills, minutes, fds0, fds1, rss0, rss1))
        assert fds1 == fds0, "the daemon's open fds went from %d to %d" % (fds0, fds1)
        assert rss1 <= rss0 + args.rss_slack, "the daemon grew from %d to %d KiB" % (rss0, rss1)
    print("PASS soak")
    return 0


if __name__ == "__main__":
    sys.exit(main())
