#!/usr/bin/env python3
"""Run one VM scenario: run.py SCENARIO@TRANSPORT --build-dir DIR. Prints PASS or FAIL.

Scenarios (each a function below, each a meson test in suite 'vm' per transport):
  alloc_visible  a guest fills a buffer; the host sees owner, offset, size and
                 the same bytes in the pool; closing the fd, killing the guest
                 process and killing the VM each return the memory
  heap_abi       the dma-heap ABI checks of tests/vm/guest/heap_abi.c, and libvmbuf's
                 udmabuf helper against a pool-like memfd (tests/vm/guest/udmabuf_test.c)
  share          A, B, C in pool p, D in pool q: A exports to B by name; B imports and
                 reads A's bytes, A reads B's; C gets EACCES, D ENXIO/ENOENT, a random
                 handle ENOENT; revocation and VM death reach B as events; memory
                 returns only when every holder let go (on transports that map single
                 buffers, a revoked import reads zeros)
  fence_pingpong A signals 1, B waits and signals 2, ... 1000 rounds, both checking
                 the bytes the other wrote before signalling
  stalled_daemon vmbufd stopped while 40 processes allocate: they time out or wait
                 (killably); when it answers again every process ends, the slots and the
                 late answers' buffers come back, pool usage returns to 0
  isolation      (transports that map single buffers) a VM's shared memory region, read
                 from outside through QMP, holds its own buffers and imports and nothing
                 of another VM's; a revoked import leaves it and reads zeros
  lost_events    330 timelines reached while a guest is stopped: the device drops
                 events (LOST) and the guest re-queries, every fence completes at once
  unprivileged   uid 65534 in a guest: no access by default; given the node, its own
                 view of handles and events, EPERM on root's exports, a fence cap, and
                 dropped or timed-out fences give the daemon's waiters back
  daemon_stop    vmbufd stops under running guests: fences and requests end with
                 ENODEV at once, buffers keep their bytes
  pool_remove    (ivshmem) a pool device hot-unplugged and unbound under live users:
                 ENODEV for fences, SIGBUS for mappings, memory back once released
  rogue_header   (ivshmem) a member rewrites the pool header as a control region's:
                 later VMs still find their pool and their control device
  module_unload  rmmod refused while a fence or a buffer is held, fine after; the
                 module loaded again starts a new session
  ioctl_fuzz     random /dev/vmbuf and heap ioctls from 4 processes in each of two
                 guests (VMBUF_IOCTL_FUZZ_SECONDS, default 20; VMBUF_IOCTL_FUZZ_SEED)
  fast_fence     a fast timeline: on ivshmem the signal reaches the waiting VM by pool
                 doorbell, also while vmbufd is stopped (a normal export's does not);
                 errors, ECANCELED, ENODEV through the daemon; on vhost-user the daemon's
  fence_sync     implicit sync (poll and EXPORT_SYNC_FILE on an imported buffer wake
                 together, only after the producer signals), EACCES for a VM that
                 may not signal, EINVAL below the current value, the producer's
                 error reaching the consumer, ETIMEDOUT after the configured fence
                 timeout, ENODEV when the producer's QEMU is killed
"""

import os
import re
import signal
import sys
import time

import vmkit

MiB = 1 << 20


def owned(kit, pool, vm):
    return [b for b in kit.pool_status(pool)["buffers"] if b["owner"] == vm]


def scenario_alloc_visible(t):
    with t.kit("alloc", {"a": {"quota": "32M"}}, {"p": ("16M", ["a"])}) as kit:
        a = kit.boot("a")
        _, info = a.run("vmbuf info")
        assert "vm a" in info and "pool p" in info and "heap yes" in info, info

        # 1. Fill with a pattern and hold: the host sees the buffer and its bytes.
        a.hold("7", "vmbuf alloc -p p -s 3M -f seq:5")
        bufs = owned(kit, "p", "a")
        assert len(bufs) == 1, bufs
        b = bufs[0]
        assert b["size"] == 3 * MiB, b
        assert b["offset"] % 4096 == 0 and b["offset"] >= 4096, b
        text = kit.ctl("status").decode()
        assert "owner a" in text and ("offset %d" % b["offset"]) in text, text
        want = vmkit.pattern(3 * MiB, 5)
        # Start, a page-crossing middle piece and the end of the buffer.
        for off, n in ((0, 65536), (MiB + 4000, 70000), (3 * MiB - 65536, 65536)):
            got = kit.read_pool("p", b["offset"] + off, n)
            assert got == want[off:off + n], "pool bytes differ at buffer offset %d" % off
        vm_state = [v for v in kit.status()["vms"] if v["name"] == "a"][0]
        assert vm_state["connected"] and vm_state["used"] == 3 * MiB, vm_state

        # 2. Closing the fd returns the memory.
        a.release("7")
        kit.wait_used("p", 0)

        # 3. Killing the process that holds the buffer returns it too.
        a.hold("8", "vmbuf alloc -p p -s 1M -f 0x11")
        assert kit.pool_status("p")["used"] == MiB
        a.run("kill -9 $(cat /tmp/p8); exec 8>&-")
        kit.wait_used("p", 0)

        # 4. Over quota (32M) and over the pool (16M).
        st, out = a.run("vmbuf alloc -p p -s 64M", check=False)
        assert st == 1 and "EDQUOT" in out, out
        st, out = a.run("vmbuf alloc -p p -s 24M", check=False)
        assert st == 1 and "ENOMEM" in out, out
        assert kit.pool_status("p")["used"] == 0
        # 5. Killing the whole VM while it holds memory returns it as well.
        a.hold("9", "vmbuf alloc -p p -s 2M")
        assert kit.pool_status("p")["used"] == 2 * MiB
        a.kill()
        kit.wait_used("p", 0)
        deadline = time.time() + 10
        while [v for v in kit.status()["vms"] if v["name"] == "a"][0]["connected"]:
            assert time.time() < deadline, "daemon still thinks a is connected"
            time.sleep(0.1)


def scenario_recycle(t):
    """Released buffers are kept by the module and handed out again, zeroed, with
    no round trip; they stay the VM's until reused, flushed or needed for room; an
    exported buffer is never kept (an importer may still read it)."""
    KiB = 1024
    with t.kit("recycle", {"a": {"quota": "4M"}, "b": {}}, {"p": ("16M", ["a", "b"])}) as kit:
        a, b = kit.boot("a", "b")
        a.param("recycle_ms", 600000)    # no flush by time while we look
        # 1. Released: kept, still charged to a.
        a.hold("7", "vmbuf alloc -p p -s 64K -f 0x5a")
        first = owned(kit, "p", "a")[0]["offset"]
        a.release("7")
        assert kit.pool_status("p")["used"] == 64 * KiB, "a released buffer was not kept"
        # 2. The next allocation of that size takes it, zeroed.
        a.hold("8", "vmbuf alloc -p p -s 64K -c 0x00")
        assert [bb["offset"] for bb in owned(kit, "p", "a")] == [first], \
            "not the kept buffer: %r" % owned(kit, "p", "a")
        a.release("8")
        # 3. Room: the kept 64K counts against a's 4M quota until an allocation needs it
        #    (the daemon says EDQUOT, the module gives back what it keeps and asks again).
        a.hold("9", "vmbuf alloc -p p -s 4M -c 0x00 -f 0x66")
        assert kit.pool_status("p")["used"] == 4 * MiB, kit.pool_status("p")
        big = owned(kit, "p", "a")[0]["offset"]
        a.release("9")
        if not t.maps_per_buffer:
            # A VM that maps the pool whole keeps buffers up to recycle_max_size (1M): this
            # one goes back at once. From here on it keeps them as on vhost-user.
            assert kit.pool_status("p")["used"] == 0, kit.pool_status("p")
            max_size = a.param("recycle_max_size", 32 * MiB)
            a.hold("18", "vmbuf alloc -p p -s 4M -f 0x66")
            big = owned(kit, "p", "a")[0]["offset"]
            a.release("18")
        #    Where the device maps single buffers, large buffers are kept too (up to
        #    recycle_max_size_shm, 32M, and recycle_max_bytes, 64M, per pool), and come
        #    back zeroed (in 2M steps).
        assert kit.pool_status("p")["used"] == 4 * MiB, "the 4M buffer was not kept"
        out = a.hold("15", "vmbuf alloc -p p -s 4M -c 0x00")
        assert "check 0x00 ok" in out, out
        assert [bb["offset"] for bb in owned(kit, "p", "a")] == [big], owned(kit, "p", "a")
        a.release("15")
        #    Past recycle_max_bytes a released buffer goes back at once.
        max_bytes = a.param("recycle_max_bytes", 2 * MiB)
        a.hold("16", "vmbuf alloc -p p -s 64K")     # EDQUOT: the kept 4M goes back
        a.release("16")
        assert kit.pool_status("p")["used"] == 64 * KiB, kit.pool_status("p")
        a.hold("17", "vmbuf alloc -p p -s 4M")      # EDQUOT: the kept 64K goes back
        a.release("17")
        assert kit.pool_status("p")["used"] == 0, kit.pool_status("p")
        a.param("recycle_max_bytes", max_bytes)
        if not t.maps_per_buffer:
            a.param("recycle_max_size", max_size)
        # 4. Exported buffers are given back, never reused while b holds the pages.
        a.hold("10", "vmbuf export -p p -s 64K -f 0x33 -n x -t b")
        out = b.hold("7", "vmbuf import -n x -c 0x33")
        assert "check 0x33 ok" in out, out
        a.release("10")
        a.hold("11", "vmbuf alloc -p p -s 64K -f 0x44")
        b.tell("7", "check 0x33", "check 0x33 ok")
        a.release("11")
        b.release("7")
        # 5. Not reused: back to the daemon after recycle_ms.
        a.param("recycle_ms", 200)
        a.hold("12", "vmbuf alloc -p p -s 8K")
        a.release("12")
        kit.wait_used("p", 0)
        if t.maps_per_buffer:
            return
        # 6. A new session voids what was kept: the control device leaves (BYE: the
        #    daemon lets go of everything a held) and comes back; the next allocation
        #    is a real one the daemon knows, not the stale range.
        a.param("recycle_ms", 600000)
        a.hold("13", "vmbuf alloc -p p -s 64K -f 0x77")
        a.release("13")
        assert kit.pool_status("p")["used"] == 64 * KiB
        _, out = a.run("for d in /sys/bus/pci/devices/*; do "
                       "[ \"$(cat $d/vendor):$(cat $d/device)\" = 0x1af4:0x1110 ] && "
                       "echo ${d##*/} $(sed -n 3p $d/resource); done; true")
        ctl = [f[0] for f in (line.split() for line in out.splitlines())
               if len(f) == 4 and int(f[2], 16) - int(f[1], 16) + 1 != 16 * MiB][0]
        a.run("echo %s > /sys/bus/pci/drivers/vmbuf/unbind" % ctl)
        kit.wait_used("p", 0)
        a.run("echo %s > /sys/bus/pci/drivers/vmbuf/bind" % ctl)
        deadline = time.time() + 30
        while "heap yes" not in a.run("vmbuf info", check=False)[1]:
            assert time.time() < deadline, "the control device did not come back"
            time.sleep(0.5)
        a.hold("14", "vmbuf alloc -p p -s 64K -c 0x00")
        assert kit.pool_status("p")["used"] == 64 * KiB, \
            "a stale kept buffer was handed out in the new session: %r" % kit.pool_status("p")
        a.release("14")


def scenario_share(t):
    with t.kit("share", {"a": {}, "b": {}, "c": {}, "d": {}},
                   {"p": ("16M", ["a", "b", "c"]), "q": ("4M", ["d"])}) as kit:
        a, b, c, d = kit.boot("a", "b", "c", "d")
        b.spawn("vmbuf events > /tmp/ev 2>&1")
        b.wait_file("/tmp/ev", "listening")

        # A writes a pattern and exports it by name to B, with metadata.
        out = a.hold("7", "vmbuf export -p p -s 2M -f seq:3 -n cam0 -t b --width 1920 "
                           "--height 1080 --fourcc XR24 --stride 7680 --label camera")
        handle = vmkit.handle_in(out)
        b.wait_file("/tmp/ev", "event OFFERED handle %s name 'cam0' vm 'a'" % handle)

        # B imports by name: same bytes; then B writes and A reads B's bytes.
        out = b.hold("7", "vmbuf import -n cam0 -c seq:3")
        assert "check seq:3 ok" in out and "from VM 'a'" in out, out
        assert "meta 1920x1080 fourcc XR24 stride 7680 label 'camera'" in out, out
        b.tell("7", "fill seq:9", "filled seq:9")
        a.tell("7", "check seq:9", "check seq:9 ok")
        buf = [x for x in kit.pool_status("p")["buffers"] if x["owner"] == "a"][0]
        assert buf["refs"] == 2 and buf["export"]["name"] == "cam0", buf
        assert handle.startswith(buf["export"]["handle_prefix"]), buf
        assert kit.read_pool("p", buf["offset"], 65536) == vmkit.pattern(65536, 9)

        # Who may not import.
        c.fails("vmbuf import -n cam0", "EACCES")
        c.fails("vmbuf import -H " + handle, "EACCES")
        d.fails("vmbuf import -H " + handle, "ENXIO")
        d.fails("vmbuf import -n cam0", "ENOENT")
        b.fails("vmbuf import -H " + "5a" * 16, "ENOENT")
        b.fails("vmbuf revoke " + handle, "EPERM")

        # A revokes: B hears it, new imports fail, memory stays while anyone holds it.
        a.run("vmbuf revoke " + handle)
        b.wait_file("/tmp/ev", "event REVOKED handle %s" % handle)
        b.fails("vmbuf import -n cam0", "ENOENT")
        b.fails("vmbuf import -H " + handle, "ENOENT")
        assert kit.pool_status("p")["used"] == 2 * MiB
        a.release("7")
        time.sleep(0.5)
        p = kit.pool_status("p")
        assert p["used"] == 2 * MiB and p["buffers"][0]["owner"] is None, p
        if t.maps_per_buffer:
            # The revoke took the pages away from the importer too; the memory stays held.
            b.tell("7", "check 0x00", "check 0x00 ok")
        else:
            b.tell("7", "check seq:9", "check seq:9 ok")
        b.release("7")
        kit.wait_used("p", 0)

        # VM death: A exports to every pool member, B imports, A's QEMU is killed.
        out = a.hold("8", "vmbuf export -p p -s 1M -f 0x5a -n cam1 -P")
        handle = vmkit.handle_in(out)
        out = b.hold("8", "vmbuf import -H %s -c 0x5a" % handle)
        assert "check 0x5a ok" in out, out
        a.kill()
        b.wait_file("/tmp/ev", "event PEER_GONE handle %s name '' vm 'a'" % ("0" * 32))
        b.wait_file("/tmp/ev", "event REVOKED handle %s name 'cam1'" % handle)
        b.tell("8", "check 0x5a", "check 0x5a ok")
        assert kit.pool_status("p")["used"] == MiB
        assert kit.daemon.poll() is None, "vmbufd died"
        b.release("8")
        kit.wait_used("p", 0)
        kit.wait_used("q", 0)


def scenario_fence_pingpong(t):
    with t.kit("pingpong", {"a": {}, "b": {}}, {"p": ("4M", ["a", "b"])}) as kit:
        a, b = kit.boot("a", "b")
        b.spawn("vmbuf pingpong follow -n pp -r 1000 > /tmp/f 2>&1")
        _, out = a.run("vmbuf pingpong lead -p p -n pp -t b -r 1000", timeout=600)
        print(out.strip())
        assert re.search(r"pingpong fence rounds 1000 errors 0 ", out), out
        b.wait_file("/tmp/f", "follow done rounds 1000 errors 0")
        kit.wait_used("p", 0)


def scenario_fence_sync(t):
    with t.kit("fencesync", {"a": {}, "b": {"fence-timeout-ms": "3000"}},
                   {"p": ("4M", ["a", "b"])}) as kit:
        a, b = kit.boot("a", "b")
        out = a.hold("7", "vmbuf export -p p -s 64K -f 0x11 -n f1 -t b")
        h = vmkit.handle_in(out)
        b.hold("7", "vmbuf import -n f1")

        # Implicit sync: nothing is ready before the producer signals ...
        b.tell("7", "attach 1", "attached 1")
        b.tell("7", "implicit 300", "implicit timeout dmabuf=0 syncfile=0")
        # ... and poll() and the exported sync_file wake together once it does.
        b.run("echo 'implicit 20000' >&7")
        time.sleep(1.0)
        _, early = b.run("cat /tmp/o7")
        assert "implicit ready" not in early, early
        a.run("vmbuf signal %s 1" % h)
        out = b.wait_file("/tmp/o7", "implicit ready")
        m = re.search(r"implicit ready dmabuf=1 syncfile=1 status=1 apart=(\d+) ms", out)
        assert m and int(m.group(1)) <= 50, out

        # Who may signal, and only upwards.
        b.fails("vmbuf signal %s 2" % h, "EACCES")
        a.fails("vmbuf signal %s 1" % h, "EINVAL")
        # The producer's error reaches the consumer's fence.
        a.run("vmbuf signal %s 3 -e 5" % h)
        st, out = b.run("vmbuf wait %s 3" % h, check=False)
        assert st == 1 and "error EIO" in out, out
        # Signal when a sync_file completes: 8 follows 7 without a userspace round trip.
        _, out = a.run("vmbuf signal %s 8 -a 7" % h)
        assert "will signal 8 when 7" in out, out
        b.spawn("vmbuf wait %s 8 -t 20000 > /tmp/w8 2>&1" % h)
        time.sleep(0.5)
        _, early = b.run("cat /tmp/w8")
        assert "reached" not in early, early
        a.run("vmbuf signal %s 7" % h)
        b.wait_file("/tmp/w8", "reached 8")
        # A producer that never signals: ETIMEDOUT after B's fence timeout (3 s).
        st, out = b.run("vmbuf wait %s 100 -t 30000" % h, check=False, timeout=60)
        m = re.search(r"error ETIMEDOUT after (\d+) ms", out)
        assert st == 1 and m and 2500 <= int(m.group(1)) <= 6000, out
        # The producer's QEMU dies while B waits: ENODEV, well before the timeout.
        b.spawn("vmbuf wait %s 200 -t 30000 > /tmp/w 2>&1" % h)
        time.sleep(0.5)
        a.kill()
        out = b.wait_file("/tmp/w", "error")
        assert "error ENODEV" in out, out
        b.release("7")
        kit.wait_used("p", 0)


def scenario_fast_fence(t):
    """A fast timeline (VMBUF_EXPORT_FAST): on ivshmem a signal with no error reaches the
    waiting VM by pool doorbell, so it arrives while vmbufd is stopped (SIGSTOP), where a
    normal export's does not; the daemon hears of it afterwards. Errors, ECANCELED and
    ENODEV still come from the daemon; the importer may signal; values only grow. On
    vhost-user the flag is accepted and the timeline works through the daemon."""
    fast = not t.maps_per_buffer    # the VM maps the whole pool, slots and all
    with t.kit("fastfence", {"a": {}, "b": {}}, {"p": ("4M", ["a", "b"])}) as kit:
        a, b = kit.boot("a", "b")
        out = a.hold("7", "vmbuf export -p p -s 4K -f 0x22 -n ff -t b --fast")
        h = vmkit.handle_in(out)
        assert ("fast timeline" in out) == fast, out
        out = b.hold("7", "vmbuf import -n ff -c 0x22")
        assert ("fast timeline" in out) == fast, out
        out = a.hold("6", "vmbuf export -p p -s 4K -n slow -t b -S")
        hs = vmkit.handle_in(out)
        assert "fast timeline" not in out, out
        b.hold("6", "vmbuf import -n slow")

        b.spawn("vmbuf wait %s 1 -t 20000 > /tmp/wf 2>&1" % h)
        b.spawn("vmbuf wait %s 1 -t 20000 > /tmp/ws 2>&1" % hs)
        time.sleep(1.0)     # both fences exist and their WATCHes have gone out
        if fast:
            # With the daemon stopped: the fast signal wakes B, the normal one does not.
            kit.daemon.send_signal(signal.SIGSTOP)
            try:
                a.spawn("vmbuf signal %s 1 > /tmp/sf 2>&1; echo \"exit $?\" >> /tmp/sf" % h)
                a.spawn("vmbuf signal %s 1 > /tmp/ss 2>&1" % hs)
                b.wait_file("/tmp/wf", "reached 1", timeout=8)
                a.wait_file("/tmp/sf", "exit 0", timeout=5)
                time.sleep(1.0)
                _, out = b.run("cat /tmp/ws")
                assert "reached" not in out, "a normal signal came without vmbufd: " + out
            finally:
                kit.daemon.send_signal(signal.SIGCONT)
        else:
            a.run("vmbuf signal %s 1" % h)
            a.run("vmbuf signal %s 1" % hs)
        b.wait_file("/tmp/ws", "reached 1")
        b.wait_file("/tmp/wf", "reached 1")
        def signalled():
            """SIGNALs of A's that the daemon took."""
            return [v for v in kit.status()["vms"] if v["name"] == "a"][0]["counters"][
                "fences_signalled"]

        # The daemon heard of both signals (the fast one from A's worker, afterwards).
        deadline = time.time() + 20
        while signalled() != 2:
            assert time.time() < deadline, "the daemon never heard of the fast signal"
            time.sleep(0.2)

        def wakes(waiter, handle, value, act, expect, within=30):
            """@waiter waits for @value, @act() happens, the wait ends with @expect."""
            out = "/tmp/w%d" % value
            waiter.spawn("vmbuf wait %s %d -t 20000 > %s 2>&1" % (handle, value, out))
            time.sleep(0.5)
            act()
            waiter.wait_file(out, expect, timeout=within)

        def waits_made(vm):
            """(fences made, waits reached with no fence) in @vm's module so far."""
            _, dbg = vm.run("cat /sys/kernel/debug/vmbuf/timelines")
            m = re.search(r"fences made: (\d+)\nwaits reached with no fence: (\d+)", dbg)
            assert m, dbg
            return int(m.group(1)), int(m.group(2))

        # Only upwards; the importer may signal; the waiter there wakes.
        a.fails("vmbuf signal %s 1" % h, "EINVAL")
        wakes(a, h, 2, lambda: b.run("vmbuf signal %s 2" % h), "reached 2")
        # Many points in a row, each waited for on the other side.
        b.spawn("(for v in $(seq 3 40); do vmbuf wait %s $v -t 20000 || exit 1; done "
                "> /tmp/wm 2>&1; echo \"loop $?\" >> /tmp/wm)" % h)
        time.sleep(0.5)
        a.run("for v in $(seq 3 40); do vmbuf signal %s $v; done" % h)
        out = b.wait_file("/tmp/wm", "loop")
        assert "loop 0" in out and out.count("reached") == 38, out

        if fast:
            # A wait the slot satisfies makes no fence at all, only sleeps on the pool's
            # doorbell: here for up to 20 s (fast_wait_ms), where the default is 10 ms
            # (the waits above began 0.5 s or more before their signal: fences).
            made, light = waits_made(b)
            assert made >= 2, "the waits above made no fences: %d" % made
            wait_ms = b.param("fast_wait_ms", 20000)
            wakes(b, h, 41, lambda: a.run("vmbuf signal %s 41" % h), "reached 41")
            made2, light2 = waits_made(b)
            assert (made2, light2) == (made, light + 1), (made, light, made2, light2)
        if fast:
            # A fast signal reaches vmbufd coalesced (here only after fast_signal_ms, 8 s),
            # unless vmbufd has waiters of its own there (a host client here, whom no
            # doorbell rings): it marks the slot, and the signaller tells it at once.
            import subprocess
            out = a.hold("4", "vmbuf export -p p -s 4K -n fh --host --fast")
            hh = vmkit.handle_in(out)
            signal_ms = a.param("fast_signal_ms", 8000)
            w = subprocess.Popen([kit.paths.vmbufctl, "-s", kit.sockdir, "wait", hh, "1",
                                  "-t", "20000"], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            time.sleep(0.5)
            assert w.poll() is None, "the host's wait returned before the signal"
            t0 = time.time()
            a.run("vmbuf signal %s 1" % hh)
            out, err = w.communicate(timeout=30)
            took = time.time() - t0
            assert w.returncode == 0 and "reached 1" in out, out + err
            assert took < 4, "the host's wait took %.1f s: the signal was coalesced" % took
            # With no waiter in vmbufd, five signals in a row reach it as one SIGNAL with
            # the newest value, fast_signal_ms after the first.
            before = signalled()
            t0 = time.time()
            a.run("for v in 2 3 4 5 6; do vmbuf signal %s $v; done" % hh)
            time.sleep(1.0)
            assert signalled() == before, "the daemon heard of a coalesced signal early"
            while signalled() == before:
                assert time.time() - t0 < 20, "the coalesced SIGNAL never came"
                time.sleep(0.2)
            assert time.time() - t0 > 6, "the SIGNAL came %.1f s after the first signal" % (
                time.time() - t0)
            time.sleep(1.0)
            assert signalled() == before + 1, (before, signalled())
            out = kit.ctl("wait", hh, "6", "-t", "1000").decode()
            assert "reached 6" in out, out
            a.param("fast_signal_ms", signal_ms)
            a.release("4")
        # An error travels through the daemon and reaches the waiter; the timeline goes on.
        # On a fast timeline the signaller also rings the waiter sleeping with no fence
        # (20 s of it), which then asks the daemon: it has the error within seconds.
        wakes(b, h, 45, lambda: a.run("vmbuf signal %s 45 -e 5" % h), "error EIO", within=10)
        if fast:
            b.param("fast_wait_ms", wait_ms)
        wakes(b, h, 46, lambda: a.run("vmbuf signal %s 46" % h), "reached 46")
        # A revoked export's waiters end with ECANCELED; a new fast export works.
        wakes(b, h, 100, lambda: a.run("vmbuf revoke " + h), "error ECANCELED")
        b.release("7")
        a.release("7")
        out = a.hold("5", "vmbuf export -p p -s 4K -n ff2 -t b --fast")
        h2 = vmkit.handle_in(out)
        assert ("fast timeline" in out) == fast, out
        b.hold("5", "vmbuf import -n ff2")
        wakes(b, h2, 1, lambda: a.run("vmbuf signal %s 1" % h2), "reached 1")
        # The signaller's QEMU dies while B waits: ENODEV from the daemon.
        wakes(b, h2, 2, a.kill, "error ENODEV")
        b.release("5")
        b.release("6")
        kit.wait_used("p", 0)


def scenario_host_share(t):
    """Host clients through libvmbuf: import a guest's export and read its bytes, export
    to guests, wait on a guest's signal and signal a guest's wait; garbage on host.sock
    disturbs nothing."""
    import socket
    import subprocess
    with t.kit("hostshare", {"a": {}, "b": {}}, {"p": ("8M", ["a", "b"])}) as kit:
        ctl = [kit.paths.vmbufctl, "-s", kit.sockdir]
        a, b = kit.boot("a", "b")
        # A guest export the host may import.
        out = a.hold("7", "vmbuf export -p p -s 1M -f seq:3 -n cam0 --host --width 640 "
                           "--height 480 --fourcc AR24 --label guest")
        h = vmkit.handle_in(out)
        out = kit.ctl("import", "-n", "cam0", "-c", "seq:3", "-f", "seq:4").decode()
        assert "from VM 'a'" in out and "check seq:3 ok" in out, out
        assert "meta 640x480 fourcc AR24" in out and "memfd + offset" in out, out
        a.tell("7", "check seq:4", "check seq:4 ok")    # the host wrote, the guest reads
        r = subprocess.run(ctl + ["import", "-n", "nope"], capture_output=True, text=True)
        assert r.returncode == 1 and "(ENOENT)" in r.stderr, r.stderr

        # The host waits, a guest signals.
        w = subprocess.Popen(ctl + ["wait", h, "1", "-t", "20000"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)
        assert w.poll() is None, "host wait returned before the guest signalled"
        a.run("vmbuf signal %s 1" % h)
        out, err = w.communicate(timeout=30)
        assert w.returncode == 0 and "reached 1" in out, out + err

        # A host export read by a guest; the guest waits, the host signals.
        x = subprocess.Popen(ctl + ["export", "-p", "p", "-s", "64K", "-f", "seq:8", "-n",
                                    "hostbuf", "-P", "-O", "-S", "-k"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = [x.stdout.readline() for _ in range(4)]
        assert lines[0] == "filled seq:8\n" and lines[2].startswith("exported") and \
            lines[3] == "holding\n", "host export failed: %r %s" % (lines, x.stderr.read() if x.poll() is not None else "")
        h2 = vmkit.handle_in(lines[1])
        _, out = b.run("vmbuf import -n hostbuf -c seq:8")
        assert "check seq:8 ok" in out and "from VM 'host'" in out, out
        b.spawn("vmbuf wait %s 5 -t 20000 > /tmp/hw 2>&1" % h2)
        time.sleep(0.5)
        _, early = b.run("cat /tmp/hw")
        assert "reached" not in early, early
        # Another host client may signal only because the export allows host clients
        # to import (-O) and importers to signal (-S).
        kit.ctl("signal", h2, "5")
        b.wait_file("/tmp/hw", "reached 5")
        assert kit.status()["host_clients"] >= 1
        listing = kit.ctl("list").decode()
        assert re.search(r"p\s+cam0\s+a\s+1048576 " + h[:8], listing), listing
        assert re.search(r"p\s+hostbuf\s+host\s+65536 " + h2[:8], listing), listing

        # Garbage on host.sock: short, long, unknown, truncated requests, a hang-up mid-way.
        for junk in (b"", b"x", b"\x03" + b"\0" * 60, b"\x03\0\0\0" + b"\xff" * 2000,
                     bytes(range(56)), b"\x04" + b"\0" * 55):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            s.connect(os.path.join(kit.sockdir, "host.sock"))
            s.send(junk)
            s.close()
        assert kit.daemon.poll() is None, "vmbufd died"
        assert kit.status()["pools"][0]["used"] == (1 << 20) + 65536
        x.stdin.write("\n")
        x.stdin.flush()
        x.wait(timeout=30)
        a.release("7")
        kit.wait_used("p", 0)


def shm_region(vm):
    """(start, size) of the guest-physical BAR of the VM's vmbuf virtio device's region 0."""
    _, out = vm.run("for d in /sys/bus/pci/devices/*; do "
                    "[ \"$(cat $d/vendor):$(cat $d/device)\" = 0x1af4:0x1065 ] && "
                    "sed -n 5p $d/resource; done; true")
    start, end = (int(x, 16) for x in out.split()[:2])
    return start, end - start + 1


def scenario_isolation(t):
    """On transports that map single buffers: the memory QEMU shows a VM in its shared
    memory region holds the buffers it allocated or imported and nothing else, read from
    outside the guest (QMP pmemsave of the region); an import appears there, and a
    revoked import is gone from it and reads zeros in the guest."""
    assert t.maps_per_buffer, "isolation is a property of transports that map single buffers"
    with t.kit("isolation", {"a": {}, "b": {}}, {"p": ("8M", ["a", "b"])}) as kit:
        a, b = kit.boot("a", "b")
        start, size = shm_region(b)
        # Fills no page of another can look like (seq pages repeat after 256 pages).
        mine, secret, shared = vmkit.pattern(MiB, 4), b"\xa5" * MiB, b"\x5c" * MiB
        a.hold("7", "vmbuf alloc -p p -s 1M -f 0xa5")    # a's, shared with nobody
        b.hold("7", "vmbuf alloc -p p -s 1M -f seq:4")
        seen = b.read_phys(start, size)
        at = seen.find(mine[:4096])
        assert at >= 0 and seen[at:at + MiB] == mine, "b's own buffer is not in its region"
        assert seen.find(secret[:4096]) < 0, "a's unshared buffer is visible to b"
        assert seen[:at].count(0) == at and seen[at + MiB:].count(0) == size - at - MiB, \
            "b's region holds bytes besides its one buffer"

        out = a.hold("8", "vmbuf export -p p -s 1M -f 0x5c -n frame -t b")
        handle = vmkit.handle_in(out)
        out = b.hold("8", "vmbuf import -n frame -c 0x5c")
        assert "check 0x5c ok" in out, out
        seen = b.read_phys(start, size)
        assert seen.find(shared[:4096]) >= 0, "the import is not in b's region"
        assert seen.find(secret[:4096]) < 0, "a's unshared buffer became visible to b"

        a.run("vmbuf revoke " + handle)
        seen = b.read_phys(start, size)
        assert seen.find(shared[:4096]) < 0, "a revoked import is still in b's region"
        b.tell("8", "check 0x00", "check 0x00 ok")
        for vm in (a, b):
            vm.release("8")
            vm.release("7")
        kit.wait_used("p", 0)


def scenario_stalled_daemon(t):
    """vmbufd stops answering (SIGSTOP) while 40 processes allocate (the control ring
    holds 32 requests): they time out or wait, interruptibly; once it answers again every
    process ends, the slots of the abandoned requests come back, what the late answers
    allocated is freed, and pool usage returns to 0. A second stall shows the waits
    can be killed."""
    with t.kit("stalled", {"a": {}}, {"p": ("16M", ["a"])}) as kit:
        a = kit.boot("a")
        a.param("timeout_ms", 2000)
        procs = "ps -o stat,comm | grep -c '^[DS].* vmbuf$'"
        kit.daemon.send_signal(signal.SIGSTOP)
        try:
            a.run("for i in $(seq 40); do ( (vmbuf alloc -p p -s 64K; echo \"exit $?\") "
                  "> /tmp/s$i 2>&1 & ); done")
            time.sleep(4)    # past the 2 s timeout: 32 gave up, 8 wait for a slot
            _, out = a.run("cat /tmp/s*")
            assert out.count("ETIMEDOUT") >= 32, out
        finally:
            kit.daemon.send_signal(signal.SIGCONT)
        deadline = time.time() + 60
        while True:
            _, out = a.run("cat /tmp/s* | grep -c '^exit'; " + procs, check=False)
            done, running = (int(x) for x in out.split()[:2])
            if done == 40 and running == 0:
                break
            assert time.time() < deadline, "processes still waiting: " + out
            time.sleep(0.5)
        _, out = a.run("cat /tmp/s*")
        assert out.count("exit 0") == 40 - out.count("ETIMEDOUT"), out
        kit.wait_used("p", 0)    # the late ALLOC answers were given back

        # Killable: stall again, then kill the waiting processes.
        kit.daemon.send_signal(signal.SIGSTOP)
        try:
            a.run("rm -f /tmp/s*; for i in $(seq 40); do ( vmbuf alloc -p p -s 64K "
                  "> /tmp/s$i 2>&1 & ); done")
            time.sleep(1)
            a.run("killall -9 vmbuf; sleep 1")
            _, out = a.run(procs, check=False)
            assert int(out.split()[0]) == 0, "killed requests still waiting: " + out
        finally:
            kit.daemon.send_signal(signal.SIGCONT)
        kit.wait_used("p", 0)
        st, out = a.run("vmbuf alloc -p p -s 1M -f 0x11")
        assert st == 0, out


def scenario_lost_events(t):
    """More distinct timelines reach their points than a stopped guest can queue events
    for (64 posted buffers, 256 waiting in the device): the device drops the oldest and
    flags LOST, and the guest asks for every point it waits on (QUERY), so every fence
    completes at once on resume, none by its (20 s) watchdog."""
    n = 330
    with t.kit("lostev", {"a": {}, "b": {"fence-timeout-ms": "20000"}},
                   {"p": ("16M", ["a", "b"])}) as kit:
        a, b = kit.boot("a", "b")
        b.param("max_fences_per_user", 1024)
        a.hold("7", "fence_flood export p b %d" % n, suffix="", ready="exported %d" % n,
               timeout=120)
        b.hold("7", "fence_flood wait %d 1 15000" % n, suffix="", ready="armed %d" % n,
               timeout=120)
        b.qmp("stop")
        try:
            a.tell("7", "signal 1", "signalled 1 errors 0")
        finally:
            b.qmp("cont")
        b.run("echo go >&7")
        out = b.wait_file("/tmp/o7", "done", timeout=60)
        m = re.search(r"done ok=(\d+) error=(\d+) pending=(\d+) last_ms=(\d+)", out)
        assert m and int(m.group(1)) == n, out
        assert int(m.group(4)) < 8000, "fences waited for their watchdog: " + out
        _, dbg = b.run("cat /sys/kernel/debug/vmbuf/timelines")
        m2 = re.search(r"requeries after lost events: (\d+)", dbg)
        assert m2 and int(m2.group(1)) >= 1, dbg
        print("%d fences, the last %s ms after resuming; %s re-queries" %
              (n, m.group(4), m2.group(1)))
        b.run("exec 7>&-")      # fence_flood wait has ended by itself
        a.release("7")
        kit.wait_used("p", 0)


def scenario_unprivileged(t):
    """An unprivileged user inside a guest (uid 65534): /dev/vmbuf and the heaps are
    root's; given the node (as a udev rule for a group would), the user sees no other
    file's handles in events, cannot revoke or signal root's exports even knowing the
    handle (EPERM), holds at most max_fences_per_user fences (ENOSPC), and a dropped
    or timed-out fence gives the daemon's waiter back at once."""
    nobody = "asuser 65534 "
    with t.kit("unpriv", {"a": {}, "b": {"fence-timeout-ms": "2000"}},
                   {"p": ("16M", ["a", "b"])}) as kit:
        a, b = kit.boot("a", "b")
        a.fails(nobody + "vmbuf info", "EACCES")
        a.fails(nobody + "vmbuf alloc -p p -s 4K", "EACCES")
        _, mode = a.run("stat -c %a /dev/vmbuf /dev/dma_heap/vmbuf-p")
        assert mode.split() == ["600", "600"], mode
        for vm in (a, b):
            vm.run("chmod 666 /dev/vmbuf")
        # Root's and the user's event listeners in b; root in a exports to b.
        b.spawn("vmbuf events > /tmp/evroot 2>&1")
        b.spawn(nobody + "vmbuf events > /tmp/evuser 2>&1")
        b.wait_file("/tmp/evroot", "listening")
        b.wait_file("/tmp/evuser", "listening")
        out = a.hold("7", "vmbuf export -p p -s 64K -f 0x42 -n cam -t b")
        h = vmkit.handle_in(out)
        b.wait_file("/tmp/evroot", "event OFFERED handle %s name 'cam'" % h)
        b.wait_file("/tmp/evuser", "event OFFERED handle %s name 'cam'" % ("0" * 32))
        # Knowing the handle is not enough to revoke or signal root's export.
        a.fails(nobody + "vmbuf revoke " + h, "EPERM")
        a.fails(nobody + "vmbuf signal %s 5" % h, "EPERM")
        st, out = b.run(nobody + "vmbuf wait %s 1 -t 100" % h, check=False)
        assert st == 1 and "error EPERM" in out, out
        # Root in b waits (so the daemon sends b the TIMELINE event), a signals.
        b.spawn("vmbuf wait %s 1 -t 20000 > /tmp/wroot 2>&1" % h)
        time.sleep(0.5)
        a.run("vmbuf signal %s 1" % h)
        b.wait_file("/tmp/wroot", "reached 1")
        b.wait_file("/tmp/evroot", "event TIMELINE handle %s" % h)
        _, evuser = b.run("cat /tmp/evuser")
        assert h not in evuser and "TIMELINE" not in evuser, evuser
        # The user imports by name: its own view now has the handle; fences are capped.
        b.param("max_fences_per_user", 8)
        out = b.hold("8", nobody + "vmbuf import -n cam -c 0x42")
        assert "check 0x42 ok" in out, out
        b.tell("8", "watch 8 100", "watching 8")
        b.tell("8", "watch 1 100", "watch failed ENOSPC with 8 held")

        def waiters(vm):
            return [v for v in kit.status()["vms"] if v["name"] == vm][0]["waiters"]

        assert waiters("b") == 8, kit.status()
        b.tell("8", "drop", "dropped")
        deadline = time.time() + 10
        while waiters("b"):
            assert time.time() < deadline, "dropped fences keep their waiters"
            time.sleep(0.1)
        # Fences that time out (b's fence timeout: 2 s) give their waiters back too.
        b.tell("8", "watch 4 200", "watching 4")
        assert waiters("b") == 4
        time.sleep(3)
        assert waiters("b") == 0, "timed-out fences keep their waiters"
        b.tell("8", "drop", "dropped")
        b.release("8")
        _, out = b.run(nobody + "vmbuf import -n cam -c 0x42")     # still exported
        assert "check 0x42 ok" in out, out
        a.release("7")
        kit.wait_used("p", 0)


def scenario_daemon_stop(t):
    """vmbufd stops (SIGTERM) under running guests: it tells them first, so a fence that
    waits completes with ENODEV at once (not at its watchdog), later requests fail with
    ENODEV at once, debugfs no longer shows a device, and the buffers guests still map
    keep their bytes (nothing is zeroed under them)."""
    with t.kit("dstop", {"a": {}, "b": {}}, {"p": ("16M", ["a", "b"])}) as kit:
        a, b = kit.boot("a", "b")
        out = a.hold("7", "vmbuf export -p p -s 1M -f seq:3 -n x -t b")
        h = vmkit.handle_in(out)
        b.hold("7", "vmbuf import -n x -c seq:3")
        b.spawn("vmbuf wait %s 5 -t 60000 > /tmp/w 2>&1" % h)
        time.sleep(0.5)
        t0 = time.time()
        assert kit.stop_daemon() == 0, "vmbufd did not exit 0 on SIGTERM"
        out = b.wait_file("/tmp/w", "error", timeout=20)
        assert "error ENODEV" in out, out
        assert time.time() - t0 < 8, "the fence waited %.1f s" % (time.time() - t0)
        for vm in (a, b):
            t1 = time.time()
            vm.fails("vmbuf alloc -p p -s 4K", "ENODEV")
            assert time.time() - t1 < 5, "a request after the stop took %.1f s" % (time.time() - t1)
            _, dbg = vm.run("cat /sys/kernel/debug/vmbuf/device")
            assert "no control device" in dbg, dbg
        a.tell("7", "check seq:3", "check seq:3 ok")
        b.tell("7", "check seq:3", "check seq:3 ok")
        for vm in (a, b):
            vm.release("7")


def pool_device(vm, size):
    """PCI address of the VM's ivshmem device whose BAR2 is @size bytes (a pool's)."""
    _, out = vm.run("for d in /sys/bus/pci/devices/*; do "
                    "[ \"$(cat $d/vendor):$(cat $d/device)\" = 0x1af4:0x1110 ] && "
                    "echo ${d##*/} $(sed -n 3p $d/resource); done; true")
    for line in out.splitlines():
        f = line.split()
        if len(f) == 4 and int(f[2], 16) - int(f[1], 16) + 1 == size:
            return f[0]
    vmkit._fail("vm %s: no ivshmem device with a %d-byte BAR2: %s" % (vm.name, size, out))


def scenario_pool_remove(t):
    """A pool device goes away under live users (ivshmem: QMP device_del behind a PCIe
    root port, and sysfs unbind): a waiting fence ends with ENODEV, a process touching
    its mapping gets SIGBUS, the heap goes, no splat (and none on the debug kernel), and
    the memory returns to the pool once every holder let go."""
    assert not t.maps_per_buffer, "pool devices are the ivshmem transport's"
    with t.kit("poolrm", {"a": {}, "b": {}}, {"p": ("16M", ["a", "b"])}) as kit:
        a, b = kit.boot("a", "b")
        out = a.hold("7", "vmbuf export -p p -s 1M -f 0x5a -n x -t b")
        h = vmkit.handle_in(out)
        # b imports, maps, and waits on the export's timeline; the holder says how it ends.
        b.hold("7", "sh -c 'vmbuf import -n x -c 0x5a -k; echo exit $?'", suffix="")
        b.tell("7", "map", "mapped")
        b.tell("7", "peek 4096", "peek 4096 0x5a")
        b.spawn("vmbuf wait %s 5 -t 60000 > /tmp/w 2>&1" % h)
        time.sleep(0.5)
        b.qmp("device_del", id="p")
        deadline = time.time() + 30
        while "pool 'p' removed" not in b.run("dmesg | grep vmbuf")[1]:
            assert time.time() < deadline, "b never removed the pool device"
            time.sleep(0.2)
        out = b.wait_file("/tmp/w", "error")
        assert "error ENODEV" in out, out
        b.run("echo 'peek 4096' >&7")
        b.wait_file("/tmp/o7", "exit 135")     # 128 + SIGBUS
        b.run("exec 7>&-")
        st, out = b.run("test -e /dev/dma_heap/vmbuf-p; echo heap $?")
        assert "heap 1" in out, out
        b.fails("vmbuf alloc -p p -s 4K", "ENOENT")
        # b's import went with its holder; a still holds its buffer, then lets go.
        deadline = time.time() + 20
        while kit.pool_status("p")["buffers"][0]["refs"] != 1:
            assert time.time() < deadline, kit.pool_status("p")
            time.sleep(0.2)
        a.tell("7", "check 0x5a", "check 0x5a ok")
        a.release("7")
        kit.wait_used("p", 0)

        # The same through sysfs: unbind a's pool device while a maps a buffer of it.
        a.hold("8", "sh -c 'vmbuf alloc -p p -s 2M -f 0x33 -k; echo exit $?'", suffix="")
        a.tell("8", "map", "mapped")
        dev = pool_device(a, 16 << 20)
        a.run("echo %s > /sys/bus/pci/drivers/vmbuf/unbind" % dev)
        a.run("echo 'peek 0' >&8")
        a.wait_file("/tmp/o8", "exit 135")
        a.run("exec 8>&-")
        kit.wait_used("p", 0)


def scenario_rogue_header(t):
    """A pool member that writes the pool's header (here through sysfs, without vmbuf.ko)
    can no longer deny the pool to VMs that probe later, nor make them take the pool
    device for their control device: guests tell devices apart by IVPosition, which
    only the daemon sets."""
    assert not t.maps_per_buffer, "pool devices are the ivshmem transport's"
    with t.kit("rogue", {"a": {}, "b": {}}, {"p": ("16M", ["a", "b"])}) as kit:
        kit.pool_vectors = 3        # as many as a control device has
        a = kit.boot("a")
        dev = pool_device(a, 16 << 20)
        # A rogue member drives the BAR itself (the kernel refuses to map a BAR a driver
        # holds) and writes a control region's header (magic, version 2, kind 1, size
        # 16 MiB) over the pool's.
        a.run("echo %s > /sys/bus/pci/drivers/vmbuf/unbind" % dev)
        a.run("poke /sys/bus/pci/devices/%s/resource2 0 564d424602000100%s" %
              (dev, (16 << 20).to_bytes(8, "little").hex()))
        b = kit.boot("b")
        _, info = b.run("vmbuf info")
        assert "pool p" in info and "heap yes" in info, info
        out = b.hold("7", "vmbuf alloc -p p -s 1M -f 0x21")
        assert "allocated" in out, out
        assert "second vmbuf control device" not in b.console_text(), b.console_text()
        b.release("7")
        # b reloads the module: still its pool, whatever the header says.
        b.run("rmmod vmbuf && insmod /vmbuf.ko")
        _, info = b.run("sleep 1; vmbuf info")
        assert "pool p" in info and "heap yes" in info, info
        kit.wait_used("p", 0)


def scenario_ioctl_fuzz(t):
    """Random sequences of every /dev/vmbuf and heap ioctl with random arguments
    (tests/vm/guest/ioctl_fuzz.c), 4 processes in each of two guests exporting to each
    other, for a bounded time: no splat (on the debug kernel: no KASAN, lockdep or UBSAN
    report), no process killed, the daemon serving, and every byte back in the pool
    once the processes are gone."""
    seconds = int(os.environ.get("VMBUF_IOCTL_FUZZ_SECONDS", "20"))
    seed = int(os.environ.get("VMBUF_IOCTL_FUZZ_SEED", str(int(time.time()))))
    with t.kit("ioctlfuzz", {"a": {"quota": "32M"}, "b": {"quota": "32M"}},
                   {"p": ("64M", ["a", "b"])}) as kit:
        a, b = kit.boot("a", "b")
        for vm, peer, k in ((a, "b", 1), (b, "a", 2)):
            vm.spawn("ioctl_fuzz %d 4 %d p %s > /tmp/fuzz 2>&1" % (seconds, seed + k, peer))
        for vm in (a, b):
            out = vm.wait_file("/tmp/fuzz", "fuzz done", timeout=seconds + 120)
            print(vm.name + ": " + "; ".join(l for l in out.splitlines() if "seed" in l or "ops" in l))
            assert "fuzz done, 0 processes died" in out, out
        assert kit.daemon.poll() is None, "vmbufd died"
        kit.wait_used("p", 0, timeout=60)
        for vm in (a, b):
            _, out = vm.run("vmbuf alloc -p p -s 1M -c 0x00")
            assert "check 0x00 ok" in out, out


def scenario_module_unload(t):
    """Fences and buffers pin vmbuf.ko: rmmod is refused while a process holds a
    cross-VM fence (its ops live in the module) or a buffer, and succeeds once they are
    gone; loaded again, the module starts a new session (HELLO) and works."""
    with t.kit("rmmod", {"a": {}, "b": {}}, {"p": ("16M", ["a", "b"])}) as kit:
        a, b = kit.boot("a", "b")
        out = a.hold("7", "vmbuf export -p p -s 64K -n x -t b")
        vmkit.handle_in(out)
        b.hold("7", "vmbuf import -n x")
        b.tell("7", "watch 3 5", "watching 3")
        st, out = b.run("rmmod vmbuf", check=False)
        assert st != 0 and ("in use" in out or "temporarily unavailable" in out), out
        b.release("7")          # buffer and fences go with the holder
        deadline = time.time() + 20
        while True:
            st, out = b.run("rmmod vmbuf", check=False)
            if st == 0:
                break
            assert time.time() < deadline, "rmmod still refused: " + out
            time.sleep(0.5)
        assert [v for v in kit.status()["vms"] if v["name"] == "b"][0]["waiters"] == 0
        b.run("insmod /vmbuf.ko")
        _, out = b.run("sleep 1; vmbuf import -n x -c 0x00")
        assert "check 0x00 ok" in out, out
        a.release("7")
        kit.wait_used("p", 0)


def scenario_heap_abi(t):
    with t.kit("heapabi", {"a": {}}, {"p": ("16M", ["a"])}) as kit:
        a = kit.boot("a")
        st, out = a.run("heap_abi p %d" % (16 * MiB), timeout=120, check=False)
        print(out)
        assert st == 0 and "PASS" in out, "heap_abi failed"
        # Many processes allocating at once (requests run in parallel in the driver).
        _, out = a.run("(for i in 1 2 3 4 5 6 7 8; do vmbuf alloc -p p -s 1M -c 0x00 -f 0x%d%d "
                       "> /tmp/par$i 2>&1 & done; wait); cat /tmp/par*" % (1, 1), timeout=120)
        assert out.count("check 0x00 ok") == 8 and out.count("filled") == 8, out
        kit.wait_used("p", 0)
        # libvmbuf's udmabuf path, where /dev/udmabuf exists (not in Debian's 6.1).
        st, _ = a.run("test -e /dev/udmabuf", check=False)
        if st == 0:
            st, out = a.run("udmabuf_test", timeout=60, check=False)
            print(out)
            assert st == 0 and "PASS" in out, "udmabuf_test failed"
        else:
            print("no /dev/udmabuf in this guest kernel: udmabuf_test not run")
        kit.wait_used("p", 0)


if __name__ == "__main__":
    sys.exit(vmkit.main(globals()))
