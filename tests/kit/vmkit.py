"""vmkit - boots real QEMU guests against a real vmbufd for the VM tests.

A Kit owns one temporary directory: the daemon's config and sockets, an
initramfs (busybox, vmbuf.ko, the static guest tools), and per VM the
console log. Each VM runs its kernel console on ttyS0 (a file, checked for
splats when the kit closes) and a shell on ttyS1 (a socket the kit drives).
Everything is private to the kit, so scenarios can run in parallel.

A Kit is a context manager: leaving the block stops the VMs and the daemon
and raises if a kernel splatted or the daemon misbehaved; when the block
failed (or kit.mark_failed() was called) the consoles and the daemon log are
printed and the directory is kept.

Scenario files hold only scenarios: functions scenario_NAME(t) that take a
Target (the build tree and the transport) and make their kits with t.kit();
main(globals()) runs the one named on the command line as NAME@TRANSPORT.
Meson registers each scenario once per transport (share@ivshmem, ...).
"""

import argparse
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

# What the kernel prints when something is wrong; the debug kernel's checkers included
# (lockdep, KASAN, UBSAN, DEBUG_OBJECTS, DMA_API_DEBUG, hung tasks).
SPLAT = re.compile(r"WARNING:|BUG:|Oops|general protection fault|"
                   r"possible circular locking|possible recursive locking|"
                   r"inconsistent lock state|suspicious RCU usage|lock held when returning|"
                   r"refcount_t:|UBSAN:|KASAN:|ODEBUG:|DMA-API:|blocked for more than|"
                   r"kernel BUG|Call Trace:")

INIT = r"""#!/bin/busybox sh
/bin/busybox mkdir -p /sbin /usr/bin /usr/sbin /proc /sys /dev /tmp
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
# Modules vmbuf.ko needs that the guest kernel has as modules (Debian 6.1's virtio core).
for m in $(cat /modules.order 2>/dev/null); do insmod /modules/$m.ko; done
echo "vmbuf-init: insmod vmbuf.ko"
if insmod /vmbuf.ko; then echo "vmbuf-init: module loaded"; else echo "vmbuf-init: insmod failed"; fi
stty -F /dev/ttyS1 -echo -onlcr
echo "vmbuf-init: shell tty ready"
cd /tmp
export PS1=
# busybox's line editor ends the interactive shell when SIGCHLD from a background
# job that ends by itself interrupts its read: the kit starts such jobs as
# "( cmd & )", so they are init's children. init itself never exits.
while :; do
	setsid sh -c 'exec sh -i </dev/ttyS1 >/dev/ttyS1 2>&1'
	echo "vmbuf-init: shell exited with status $?"
done
"""


class KitError(Exception):
    pass


def _die_with_parent():
    """In a child before exec: SIGKILL when the test that started it dies, so a test
    killed at its timeout leaves no QEMU (or daemon) behind to load the machine."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _fail(msg):
    raise KitError(msg)


HANDLE = re.compile(r"handle ([0-9a-f]{32})")


def handle_in(text):
    """The first export handle (32 hex digits after 'handle ') the guest tools printed."""
    m = HANDLE.search(text)
    if not m:
        _fail("no handle in: %r" % text[-500:])
    return m.group(1)


MEMORY_MB = 384
# no_timer_check: on a loaded host the TCG guest's early IO-APIC timer check can miss its
# ticks and panic ("IO-APIC + timer doesn't work!"). rcu_cpu_stall_suppress_at_boot: four
# TCG guests booting on two host cores can starve a guest's RCU kthread for 10 s before
# init runs (a stall splat with no vmbuf code loaded: vmbuf.ko is insmodded by init, after
# in-kernel boot ends, so any stall from then on is still reported and fails the test).
# cryptomgr.notests: the kernel's crypto self-tests check its own ciphers on TCG's emulated
# CPU, not vmbuf; one failed once in CI (a WARNING from crypto/testmgr.c in a thread started
# during boot, in ioctl_fuzz@ivshmem) and failed the test for a reason outside the project.
GUEST_CMDLINE = ("console=ttyS0 panic=-1 loglevel=6 no_timer_check"
                 " rcupdate.rcu_cpu_stall_suppress_at_boot=1 cryptomgr.notests=1")

# Where tests/deps.sh puts a Debian trixie tree with QEMU >= 10.2 from trixie-backports.
QEMU_TREE = os.environ.get("VMBUF_QEMU_TREE", "/var/cache/vmbuf-tests/trixie")


def ivshmem_pools(kit, vm, pools):
    """One ivshmem-doorbell device per pool, on the VM's own socket for it, each behind a
    PCIe root port of its own so that it can be hot-unplugged (QMP device_del POOL)."""
    args = []
    for i, pool in enumerate(pools):
        args += ["-device", "pcie-root-port,id=rp%d,chassis=%d,slot=0" % (i, i + 1),
                 "-chardev", "socket,id=pool%d,path=%s/%s/pool-%s.sock" % (i, kit.sockdir, vm, pool),
                 "-device", "ivshmem-doorbell,id=%s,bus=rp%d,chardev=pool%d,vectors=%d"
                 % (pool, i, i, kit.pool_vectors)]
    return args


class Ivshmem:
    """Transport T1: per VM a private ivshmem-doorbell control device and one per pool,
    with Debian 12's backports QEMU."""

    name = "ivshmem"
    maps_per_buffer = False     # every pool member maps the whole pool

    def qemu(self, kit=None):
        """The system's QEMU, or one unpacked into a directory (kit.qemu_dir: Debian 12's
        own 7.2 for the compatibility matrix), started with its own firmware path."""
        d = kit.qemu_dir if kit else None
        if not d:
            return ["qemu-system-x86_64"]
        return ["env", "QEMU_MODULE_DIR=" + os.path.join(d, "usr/lib/x86_64-linux-gnu/qemu"),
                os.path.join(d, "usr/bin/qemu-system-x86_64"), "-L", os.path.join(d, "usr/share/qemu"),
                "-L", "/usr/share/seabios"]

    def libvirt_emulator(self, kit):
        return "/usr/bin/qemu-system-x86_64"

    def qemu_args(self, kit, vm, pools):
        return ["-M", "q35", "-m", str(MEMORY_MB),
                "-chardev", "socket,id=ctl,path=%s/%s/ctl.sock" % (kit.sockdir, vm),
                "-device", "ivshmem-doorbell,chardev=ctl,vectors=3"] + ivshmem_pools(kit, vm, pools)


class VhostUser:
    """Transport T2: the control device is QEMU's generic vhost-user device (virtio-id 37)
    served by vmbufd; guest RAM is a shared memfd. QEMU 11.1 negotiates SHMEM, so the VM
    has no pool device: vmbufd maps each buffer it may use into the device's shared
    memory region. QEMU comes from the trixie tree, run through the tree's own loader."""

    name = "vhost-user"
    maps_per_buffer = True

    def qemu(self, kit=None):
        t = QEMU_TREE
        binary = os.path.join(t, "usr/bin/qemu-system-x86_64")
        if not os.path.exists(binary):
            _fail("no QEMU for vhost-user at %s (tests/deps.sh builds it)" % binary)
        # Its modules, not the host QEMU's (same path inside the tree): QEMU aborts on
        # modules of another build, which libvirt's capability probe loads. A module the
        # tree lacks is looked up in the host's directory too, so the tree must hold
        # every module the host has (tests/deps.sh installs the same module packages).
        moddir = os.path.join(t, "usr/lib/x86_64-linux-gnu/qemu")
        host_mods = "/usr/lib/x86_64-linux-gnu/qemu"
        if os.path.isdir(host_mods):
            missing = sorted(set(os.listdir(host_mods)) - set(os.listdir(moddir)))
            if missing:
                _fail("the QEMU tree %s lacks modules the host's QEMU has (%s): QEMU would "
                      "load the host's and abort; run tests/deps.sh" % (t, ", ".join(missing)))
        return ["env", "QEMU_MODULE_DIR=" + moddir,
                os.path.join(t, "lib64/ld-linux-x86-64.so.2"), "--library-path",
                os.path.join(t, "usr/lib/x86_64-linux-gnu"), binary,
                "-L", os.path.join(t, "usr/share/qemu"), "-L", os.path.join(t, "usr/share/seabios")]

    def libvirt_emulator(self, kit):
        """libvirt wants one executable: a script that runs the tree's QEMU."""
        path = os.path.join(kit.tmp, "qemu-system-x86_64")
        if not os.path.exists(path):
            with open(path, "w") as f:
                f.write("#!/bin/sh\nexec %s \"$@\"\n" % " ".join(self.qemu(kit)))
            os.chmod(path, 0o755)
        return path

    def qemu_args(self, kit, vm, pools):
        return ["-object", "memory-backend-memfd,id=ram,size=%dM,share=on" % MEMORY_MB,
                "-M", "q35,memory-backend=ram", "-m", str(MEMORY_MB),
                "-chardev", "socket,id=vu,path=%s/%s/vhost-user.sock" % (kit.sockdir, vm),
                "-device", "vhost-user-test-device-pci,chardev=vu,virtio-id=37,num_vqs=2,"
                "config_size=16"]


TRANSPORTS = {t.name: t for t in (Ivshmem(), VhostUser())}


class Paths:
    """The build's programs and module, and the guest kernel (Debian's, or @kernel with
    its own @module, e.g. the debug kernel)."""

    def __init__(self, build, kernel=None, module=None):
        self.build = os.path.abspath(build)
        self.vmbufd = os.path.join(self.build, "host", "daemon", "vmbufd")
        self.vmbufctl = os.path.join(self.build, "host", "ctl", "vmbufctl")
        self.ko = module or os.path.join(self.build, "kmod", "vmbuf.ko")
        self.own_kernel = kernel is not None    # a debug or matrix kernel, not Debian's
        self.guest_bins = [os.path.join(self.build, "guest", "vmbuf"),
                           os.path.join(self.build, "guest", "vmbuf-demo"),
                           os.path.join(self.build, "guest", "vmbuf-bench"),
                           os.path.join(self.build, "tests", "vm", "guest", "heap_abi"),
                           os.path.join(self.build, "tests", "vm", "guest", "udmabuf_test"),
                           os.path.join(self.build, "tests", "vm", "guest", "asuser"),
                           os.path.join(self.build, "tests", "vm", "guest", "fence_flood"),
                           os.path.join(self.build, "tests", "vm", "guest", "poke"),
                           os.path.join(self.build, "tests", "vm", "guest", "ioctl_fuzz")]
        # tests/deps.sh records the guest kernel beside the VM scenarios.
        here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vm")
        ver = os.environ.get("VMBUF_KERNEL_VERSION")
        if not ver:
            try:
                with open(os.path.join(here, ".kernel-version")) as f:
                    ver = f.read().strip()
            except OSError:
                _fail("no guest kernel: run tests/deps.sh (writes tests/vm/.kernel-version)")
        self.kernel = kernel or os.environ.get("VMBUF_KERNEL", "/boot/vmlinuz-" + ver)
        for p in [self.vmbufd, self.vmbufctl, self.ko, self.kernel] + self.guest_bins:
            if not os.path.exists(p):
                _fail("missing " + p)


class VM:
    def __init__(self, kit, name, pools, generation=0):
        self.kit = kit
        self.name = name
        self.dir = os.path.join(kit.tmp, "vm-" + name + ("-%d" % generation if generation else ""))
        os.makedirs(self.dir)
        self.console = os.path.join(self.dir, "console.log")
        self.shell_path = os.path.join(self.dir, "shell.sock")
        self.qmp_path = os.path.join(self.dir, "qmp.sock")
        self.sock = None
        self.buf = b""
        self.nonce = 0
        self.proc = None
        self._start(pools)

    def alive(self):
        return self.proc.poll() is None

    def _start(self, pools):
        kit, name = self.kit, self.name
        # kit.displays[name]: a D-Bus address for a VGA display on QEMU's D-Bus display
        # (vmbuf-capture's tests): a stock VM, no vmbuf device. Else no display at all.
        bus = kit.displays.get(name)
        display = ["-display", "dbus,gl=off,addr=" + bus, "-vga", "std", "-name", name] \
            if bus else ["-display", "none"]
        args = kit.transport.qemu(kit) + [
            "-accel", "tcg", "-smp", "1",
            "-nodefaults", "-no-user-config"] + display + ["-no-reboot",
            "-kernel", kit.paths.kernel, "-initrd", kit.initramfs,
            "-append", GUEST_CMDLINE,
            "-chardev", "file,id=con,path=" + self.console, "-serial", "chardev:con",
            "-chardev", "socket,id=sh,path=%s,server=on,wait=off" % self.shell_path,
            "-serial", "chardev:sh",
            "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path,
        ] + (["-M", "q35", "-m", str(MEMORY_MB)] if bus else   # stock: no vmbuf device
             kit.transport.qemu_args(kit, name, pools))
        self.qemu_log = open(os.path.join(self.dir, "qemu.log"), "wb")
        self.proc = subprocess.Popen(args, stdout=self.qemu_log, stderr=subprocess.STDOUT,
                                     preexec_fn=_die_with_parent)

    def _connect(self, deadline):
        while time.time() < deadline:
            if not self.alive():
                _fail("vm %s: qemu exited: %s" % (self.name, self.read_file("qemu.log")[-2000:]))
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(self.shell_path)
                self.sock = s
                return
            except OSError:
                time.sleep(0.1)
        _fail("vm %s: shell socket never appeared" % self.name)

    def _read_until(self, marker, deadline):
        while marker not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                _fail("vm %s: timed out waiting for %r; got %r; console tail: %s"
                      % (self.name, marker, self.buf[-500:], self.console_text()[-1500:]))
            self.sock.settimeout(min(left, 1.0))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                if not self.alive():
                    _fail("vm %s: qemu exited; console tail: %s"
                          % (self.name, self.console_text()[-1500:]))
                continue
            if not data:
                _fail("vm %s: shell closed" % self.name)
            self.buf += data
        i = self.buf.index(marker)
        out, self.buf = self.buf[:i], self.buf[i + len(marker):]
        return out

    def wait_ready(self, timeout=None):
        # The debug kernel (KASAN, lockdep) boots four VMs in parallel on two cores in
        # well over two minutes when another test runs beside them: give it five.
        if timeout is None:
            timeout = 300 if self.kit.paths.own_kernel else 120
        deadline = time.time() + timeout
        self._connect(deadline)
        # Nothing may reach ttyS1 before init has set it up (stty may flush input
        # and lose half a line); then poke the shell until it answers, each poke
        # starting with ^C so a half-read line from an earlier poke is dropped.
        while "shell tty ready" not in self.console_text():
            if time.time() > deadline or not self.alive():
                _fail("vm %s: init never set up the shell: %s"
                      % (self.name, self.console_text()[-2000:]))
            time.sleep(0.1)
        while True:
            self.sock.sendall(b"\x03\nprintf '@@%s@@\\n' READY\n")
            try:
                self._read_until(b"@@READY@@\n", min(deadline, time.time() + 5))
                break
            except KitError:
                if time.time() >= deadline:
                    raise
        self.buf = b""
        if "module loaded" not in self.console_text():
            _fail("vm %s: vmbuf.ko did not load: %s" % (self.name, self.console_text()[-2000:]))

    def run(self, cmd, timeout=60, check=True):
        """Run a shell command in the guest; returns (status, output)."""
        self.nonce += 1
        tag = "E%d" % self.nonce
        self.sock.sendall(("%s\nprintf '@@%%s %%d@@\\n' %s $?\n" % (cmd, tag)).encode())
        out = self._read_until(("@@%s " % tag).encode(), time.time() + timeout)
        rest = self._read_until(b"@@\n", time.time() + 5)
        status = int(rest.decode().strip())
        text = out.decode(errors="replace").replace("\r", "")
        if check and status != 0:
            _fail("vm %s: '%s' exited %d:\n%s" % (self.name, cmd, status, text))
        return status, text

    def spawn(self, cmd, pidfile=None):
        """Run cmd in the background, detached from the shell (see INIT)."""
        self.run("( %s & %s)" % (cmd, "echo $! > %s " % pidfile if pidfile else ""))

    # A guest program holding a buffer, driven through fifo /tmp/h<tag> on shell fd <tag>:
    # its output goes to /tmp/o<tag> and its pid to /tmp/p<tag>. The vmbuf tools hold
    # with -k and take 'check PAT', 'fill PAT', ... and 'quit' on standard input.

    def hold(self, tag, cmd, suffix=" -k", ready="holding", timeout=30):
        """Start cmd + suffix holding; returns its output once it printed ready."""
        self.run("mkfifo /tmp/h%s" % tag)
        self.spawn("%s%s < /tmp/h%s > /tmp/o%s 2>&1" % (cmd, suffix, tag, tag), "/tmp/p%s" % tag)
        self.run("exec %s>/tmp/h%s" % (tag, tag))
        return self.wait_file("/tmp/o%s" % tag, ready, timeout=timeout)

    def tell(self, tag, line, expect):
        """Send a command line to holder tag; returns its output once it shows expect."""
        self.run("echo '%s' >&%s" % (line, tag))
        return self.wait_file("/tmp/o%s" % tag, expect)

    def release(self, tag):
        """Tell holder tag to quit, close its fifo and wait until it exited."""
        self.run("echo quit >&%s; exec %s>&-; while kill -0 $(cat /tmp/p%s) 2>/dev/null; do "
                 "sleep 0.1; done" % (tag, tag, tag))

    def fails(self, cmd, errno_name):
        """cmd must exit 1 naming errno_name."""
        st, out = self.run(cmd, check=False)
        assert st == 1 and "(%s)" % errno_name in out, \
            "%s: expected %s, got: %s" % (cmd, errno_name, out)

    def param(self, name, value):
        """Set the guest module's parameter @name to @value; returns what it was."""
        path = "/sys/module/vmbuf/parameters/" + name
        _, old = self.run("cat " + path)
        self.run("echo %s > %s" % (value, path))
        return old.strip()

    def wait_file(self, path, text, timeout=30):
        deadline = time.time() + timeout
        out = ""
        while time.time() < deadline:
            _, out = self.run("cat %s 2>/dev/null" % path, check=False)
            if text in out:
                return out
            time.sleep(0.2)
        _fail("vm %s: %s never contained %r; it holds %r" % (self.name, path, text, out))

    def read_file(self, name):
        try:
            with open(os.path.join(self.dir, name), "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def console_text(self):
        return self.read_file("console.log")

    def splats(self):
        """Every report line, each with the line before it when that one is not a report:
        WARN() prints its message there (e.g. which crypto self-test failed)."""
        lines = self.console_text().splitlines()
        out = []
        for i, l in enumerate(lines):
            if not SPLAT.search(l):
                continue
            before = lines[i - 1] if i else ""
            if before and not SPLAT.search(before) and "cut here" not in before:
                l = before.strip() + " | " + l
            out.append(l)
        return out

    def qmp(self, command, **arguments):
        """One QMP command on the VM's monitor; returns its "return" value."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(60)
        s.connect(self.qmp_path)
        f = s.makefile("rw")

        def answer():
            while True:
                msg = json.loads(f.readline())
                if "return" in msg or "error" in msg:
                    return msg

        json.loads(f.readline())    # the greeting
        for cmd, args in (("qmp_capabilities", {}), (command, arguments)):
            f.write(json.dumps({"execute": cmd, "arguments": args}) + "\n")
            f.flush()
            msg = answer()
            if "error" in msg:
                _fail("vm %s: QMP %s: %s" % (self.name, cmd, msg["error"]))
        s.close()
        return msg["return"]

    def read_phys(self, addr, size):
        """size bytes of the VM's guest-physical memory at addr, as QEMU sees them."""
        path = os.path.join(self.dir, "pmem-%x" % addr)
        self.qmp("pmemsave", val=addr, size=size, filename=path)
        with open(path, "rb") as f:
            data = f.read()
        os.unlink(path)
        return data

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.sock.sendall(b"poweroff -f\n")
                self.proc.wait(timeout=10)
            except Exception:
                self.kill()
        if self.sock:
            self.sock.close()
        self.qemu_log.close()


class LibvirtVM(VM):
    """The same guest, defined and started through libvirtd (domain type qemu)."""

    def _start(self, pools):
        kit = self.kit
        self.domain = "vmbuf-%s-%s" % (os.path.basename(kit.tmp).split("-")[-1], self.name)
        os.chmod(self.dir, 0o777)	# QEMU runs as libvirt's user and creates files here
        cmd = [kit.paths.vmbufctl, "libvirt-xml", "-c", kit.conf, "-t", kit.transport.name]
        opts = []
        if kit.hook:
            # Not in vmbufd.conf: the metadata says it all, the hook registers it.
            opts = ["--pools", ",".join(pools)] if pools else []
            for k, v in kit.vm_cfg[self.name].items():
                opts += ["--" + k, str(v)]

        def xml(part):
            return subprocess.run(cmd + [part, self.name] + opts, check=True,
                                  capture_output=True, text=True).stdout
        vmbuf = xml("--devices")
        metadata = "  <metadata>\n%s  </metadata>\n" % xml("--metadata") if kit.hook else ""
        # ivshmem: <shmem> devices inside <devices>; vhost-user: elements under <domain>.
        inside = kit.transport.name == "ivshmem"
        xml = LIBVIRT_DOMAIN % {
            "name": self.domain, "kernel": kit.kernel_copy, "initrd": kit.initramfs,
            "cmdline": GUEST_CMDLINE,
            "console": self.console, "shell": self.shell_path,
            "devices": vmbuf if inside else "", "domain": "" if inside else vmbuf,
            "emulator": kit.transport.libvirt_emulator(kit), "metadata": metadata,
        }
        self.xml = os.path.join(self.dir, "domain.xml")
        with open(self.xml, "w") as f:
            f.write(xml)
        r = subprocess.run(["virt-xml-validate", self.xml, "domain"], capture_output=True, text=True)
        if r.returncode != 0:
            _fail("vm %s: virt-xml-validate refused the domain: %s%s" % (self.name, r.stdout, r.stderr))
        virsh("define", self.xml)
        self.defined = True
        virsh("start", self.domain)

    def alive(self):
        r = subprocess.run(["virsh", "-c", "qemu:///system", "domstate", self.domain],
                           capture_output=True, text=True)
        return r.returncode == 0 and r.stdout.strip() == "running"

    def kill(self):
        subprocess.run(["virsh", "-c", "qemu:///system", "destroy", self.domain],
                       capture_output=True)

    def stop(self):
        self.kill()
        if self.sock:
            self.sock.close()
        if getattr(self, "defined", False):
            virsh("undefine", self.domain)
            self.defined = False

    def read_file(self, name):
        if name == "qemu.log":
            try:
                with open("/var/log/libvirt/qemu/%s.log" % self.domain, "rb") as f:
                    return f.read().decode(errors="replace")
            except OSError:
                return ""
        return VM.read_file(self, name)


LIBVIRT_DOMAIN = """<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>%(name)s</name>
%(metadata)s  <memory unit='MiB'>384</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>%(kernel)s</kernel>
    <initrd>%(initrd)s</initrd>
    <cmdline>%(cmdline)s</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>%(emulator)s</emulator>
    <controller type='usb' model='none'/>
    <serial type='file'>
      <source path='%(console)s'/>
      <target port='0'/>
    </serial>
    <serial type='unix'>
      <source mode='bind' path='%(shell)s'/>
      <target port='1'/>
    </serial>
%(devices)s    <memballoon model='none'/>
  </devices>
%(domain)s</domain>
"""


def virsh(*args):
    r = subprocess.run(["virsh", "-c", "qemu:///system"] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        _fail("virsh %s: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout



class Kit:
    """vms: {name: {"quota": "32M"}}; pools: {name: (size, [members][, {key: value}])}.
    libvirt: True (domains through libvirtd) or "hook" (also: the VMs are not in
    vmbufd.conf, their domains carry <vmbuf:vm> metadata for the libvirt hook)."""

    def __init__(self, name, build, vms, pools, libvirt=False, transport="ivshmem",
                 kernel=None, module=None, qemu_dir=None):
        if transport not in TRANSPORTS:
            _fail("unknown transport %r (known: %s)" % (transport, ", ".join(TRANSPORTS)))
        self.transport = TRANSPORTS[transport]
        self.failed = False
        self.paths = Paths(build, kernel, module)
        self.qemu_dir = qemu_dir
        self.tmp = tempfile.mkdtemp(prefix="vmbuf-%s-" % name)
        self.sockdir = os.path.join(self.tmp, "run")
        self.vms = {}
        self.vm_cfg = vms
        self.pools = pools
        self.daemon = None
        self.vm_class = LibvirtVM if libvirt else VM
        self.displays = {}         # VM name -> D-Bus address of its QEMU display
        self.hook = libvirt == "hook"
        self.pool_vectors = 1      # doorbell vectors of each pool device (ivshmem)
        conf = ["[vmbufd]", "socket-dir = " + self.sockdir,
                "state-dir = " + os.path.join(self.tmp, "state")]
        if libvirt:
            # libvirt runs QEMU as libvirt-qemu: give its group the VM sockets, and
            # let it read the kernel and initramfs.
            os.chmod(self.tmp, 0o755)
            conf.append("socket-group = libvirt-qemu")
            self.kernel_copy = os.path.join(self.tmp, "vmlinuz")
            shutil.copy(self.paths.kernel, self.kernel_copy)
            os.chmod(self.kernel_copy, 0o644)
        conf.append("")
        for vm, opts in ({} if self.hook else vms).items():
            conf.append("[vm %s]" % vm)
            for k, v in opts.items():
                conf.append("%s = %s" % (k, v))
            conf.append("")
        for pool, spec in pools.items():
            size, members = spec[0], [] if self.hook else spec[1]
            conf += ["[pool %s]" % pool, "size = %s" % size]
            conf += ["members = " + " ".join(members)] if members else []
            conf += ["%s = %s" % kv for kv in (spec[2] if len(spec) > 2 else {}).items()] + [""]
        self.conf = os.path.join(self.tmp, "vmbufd.conf")
        if self.hook:
            if os.environ.get("VMBUF_PRIVATE_LIBVIRT") != "1":
                _fail("libvirt='hook' writes /etc/vmbuf: only inside libvirt_test.py's namespace")
            # Where the installed hook reads the socket directory (libvirt_test.py
            # runs in a mount namespace of its own, /etc an overlay).
            self.conf = "/etc/vmbuf/vmbufd.conf"
            os.makedirs("/etc/vmbuf", exist_ok=True)
        with open(self.conf, "w") as f:
            f.write("\n".join(conf))
        self.initramfs = os.path.join(self.tmp, "initramfs.cpio.gz")
        self._make_initramfs()
        self.daemon_log = open(os.path.join(self.tmp, "vmbufd.log"), "wb")
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:exitcode=99")
        self.daemon = subprocess.Popen([self.paths.vmbufd, "-c", self.conf, "-v"],
                                       stdout=self.daemon_log, stderr=subprocess.STDOUT, env=env,
                                       preexec_fn=_die_with_parent)
        deadline = time.time() + 20
        while not os.path.exists(os.path.join(self.sockdir, "host.sock")):
            if self.daemon.poll() is not None or time.time() > deadline:
                _fail("vmbufd did not start: " + self.daemon_text())
            time.sleep(0.05)

    def _module_deps(self):
        """The kernel's modules vmbuf.ko depends on (modinfo), in load order, as files."""
        m = re.match(r"(.*)/(?:boot/vmlinuz-|usr/lib/modules/|lib/modules/)([^/]+)", self.paths.kernel)
        if not m:
            return []
        root, ver = m.group(1), m.group(2)
        moddir = next((d for d in (root + "/lib/modules/" + ver, root + "/usr/lib/modules/" + ver)
                       if os.path.isdir(d)), None)
        if not moddir:
            return []
        files = {}
        for dirpath, _, names in os.walk(moddir):
            for n in names:
                if n.endswith(".ko"):
                    files[n[:-3].replace("-", "_")] = os.path.join(dirpath, n)
        order = []

        def visit(path):
            deps = subprocess.run(["modinfo", "-F", "depends", path], capture_output=True,
                                  text=True).stdout.strip()
            for d in filter(None, deps.split(",")):
                f = files.get(d.replace("-", "_"))
                if f and f not in order:
                    visit(f)
                    order.append(f)
        visit(self.paths.ko)
        return order

    def _make_initramfs(self):
        root = os.path.join(self.tmp, "initramfs")
        os.makedirs(os.path.join(root, "bin"))
        shutil.copy("/bin/busybox", os.path.join(root, "bin", "busybox"))
        shutil.copy(self.paths.ko, os.path.join(root, "vmbuf.ko"))
        deps = self._module_deps()
        if deps:
            os.makedirs(os.path.join(root, "modules"))
            for f in deps:
                shutil.copy(f, os.path.join(root, "modules"))
            with open(os.path.join(root, "modules.order"), "w") as f:
                f.write("\n".join(os.path.basename(d)[:-3] for d in deps) + "\n")
        for b in self.paths.guest_bins:
            shutil.copy(b, os.path.join(root, "bin", os.path.basename(b)))
        with open(os.path.join(root, "init"), "w") as f:
            f.write(INIT)
        os.chmod(os.path.join(root, "init"), 0o755)
        files = subprocess.run(["find", "."], cwd=root, check=True, capture_output=True).stdout
        cpio = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root, input=files,
                              check=True, capture_output=True).stdout
        with open(self.initramfs, "wb") as f:
            f.write(subprocess.run(["gzip", "-1"], input=cpio, check=True,
                                   capture_output=True).stdout)
        os.chmod(self.initramfs, 0o644)

    def boot(self, *names):
        """Boot VMs in parallel; returns them once every shell answers."""
        started = []
        for name in names:
            pools = [p for p, spec in self.pools.items() if name in spec[1]]
            vm = self.vm_class(self, name, pools)
            self.vms[name] = vm
            started.append(vm)
        for vm in started:
            vm.wait_ready()
        return started[0] if len(started) == 1 else started

    def reboot(self, name):
        """Kill VM @name's QEMU and boot it again (a fresh guest, same VM to the daemon);
        the dead guest's console still counts for splats when the kit closes."""
        self.kill(name)
        return self.boot_again(name)

    def kill(self, name):
        """Kill VM @name's QEMU and wait until the daemon has let go of it."""
        old = self.vms[name]
        old.kill()
        self.retired = getattr(self, "retired", []) + [old]
        # The daemon takes one connection per VM: let it see the old one close first.
        deadline = time.time() + 20
        while [v for v in self.status()["vms"] if v["name"] == name][0]["connected"]:
            if time.time() > deadline:
                _fail("vm %s: the daemon still has the killed guest connected" % name)
            time.sleep(0.1)

    def boot_again(self, name):
        """Boot a fresh guest for VM @name after kill(); returns it, ready."""
        pools = [p for p, spec in self.pools.items() if name in spec[1]]
        vm = self.vm_class(self, name, pools, generation=len(self.retired))
        self.vms[name] = vm
        vm.wait_ready()
        return vm

    def ctl(self, *args):
        r = subprocess.run([self.paths.vmbufctl, "-s", self.sockdir] + list(args),
                           capture_output=True)
        if r.returncode != 0:
            _fail("vmbufctl %s: %s" % (" ".join(args), r.stderr.decode()))
        return r.stdout

    def status(self):
        return json.loads(self.ctl("status", "--json"))

    def pool_status(self, pool):
        for p in self.status()["pools"]:
            if p["name"] == pool:
                return p
        _fail("no pool " + pool)

    def wait_used(self, pool, used, timeout=20):
        deadline = time.time() + timeout
        while True:
            p = self.pool_status(pool)
            if p["used"] == used:
                return p
            if time.time() > deadline:
                _fail("pool %s: used %d, expected %d" % (pool, p["used"], used))
            time.sleep(0.1)

    def read_pool(self, pool, offset, length):
        out = b""
        while length:
            n = min(length, 65536)
            out += self.ctl("read", pool, str(offset), str(n))
            offset += n
            length -= n
        return out

    def daemon_text(self):
        with open(os.path.join(self.tmp, "vmbufd.log"), "rb") as f:
            return f.read().decode(errors="replace")

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            self.close(exc_type is None and not self.failed)
        except KitError:
            if exc_type is None:
                raise
            # The block's own failure is the one to report; the kit's problems are printed.
            traceback.print_exc()
        return False

    def stop_daemon(self, timeout=20):
        """SIGTERM vmbufd as a scenario step; returns its exit status (None: it hung)."""
        self.daemon.send_signal(signal.SIGTERM)
        try:
            rc = self.daemon.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.daemon.kill()
            rc = None
        self.daemon_stopped = rc
        return rc

    def mark_failed(self):
        """The scenario failed without raising: print the logs and keep the directory."""
        self.failed = True

    def close(self, ok):
        """Stop everything; raise if the daemon or a kernel misbehaved."""
        problems = []
        for vm in list(self.vms.values()) + getattr(self, "retired", []):
            vm.stop()
            for s in vm.splats():
                problems.append("vm %s kernel: %s" % (vm.name, s))
        if self.daemon and hasattr(self, "daemon_stopped"):
            if self.daemon_stopped != 0:
                problems.append("vmbufd exited with %s after SIGTERM" % self.daemon_stopped)
            self.daemon_log.close()
        elif self.daemon:
            if self.daemon.poll() is not None:
                problems.append("vmbufd died early with status %d" % self.daemon.returncode)
            else:
                self.daemon.send_signal(signal.SIGTERM)
                try:
                    rc = self.daemon.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    self.daemon.kill()
                    rc = "hung"
                if rc != 0:
                    problems.append("vmbufd exited with %s after SIGTERM" % rc)
            self.daemon_log.close()
        text = self.daemon_text()
        if "ERROR: AddressSanitizer" in text or "runtime error:" in text or \
           "LeakSanitizer" in text:
            problems.append("vmbufd sanitizer report")
        if problems or not ok:
            for vm in self.vms.values():
                print("---- console of %s ----\n%s" % (vm.name, vm.console_text()[-6000:]))
            print("---- vmbufd log ----\n" + text[-6000:])
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if problems:
            raise KitError("; ".join(problems))


def pattern(n, seed):
    """The guest's 'seq:SEED' fill pattern (guest/libvmbuf_guest.c)."""
    return bytes(((i * 131 + seed * 7 + (i >> 12)) & 0xFF) for i in range(n))


def add_transport_argument(ap):
    """--transport for programs that boot guests (demo, benchmarks)."""
    ap.add_argument("--transport", choices=sorted(TRANSPORTS), default="ivshmem",
                    help="how the guests reach vmbufd (default ivshmem)")


class Target:
    """What a scenario runs on: the build tree, the transport, and the guest kernel
    (None: Debian's) with the module built for it."""

    def __init__(self, build, transport, kernel=None, module=None, qemu_dir=None):
        self.build = build
        self.transport = transport
        self.kernel = kernel
        self.module = module
        self.qemu_dir = qemu_dir
        # Whether the transport gives a VM single buffers rather than whole pools.
        self.maps_per_buffer = TRANSPORTS[transport].maps_per_buffer

    def kit(self, name, vms, pools, **kw):
        return Kit(name, self.build, vms, pools, transport=self.transport, kernel=self.kernel,
                   module=self.module, qemu_dir=self.qemu_dir, **kw)


def main(namespace, doc=None, around=None):
    """Run the scenario named on the command line: SCENARIO[@TRANSPORT] --build-dir DIR.

    namespace: a scenario file's globals(); every scenario_NAME(t) in it is a
    scenario. around: an optional context manager factory wrapped around the
    run (e.g. one that starts libvirtd). Prints PASS or FAIL; returns the exit code.
    """
    scenarios = {k[len("scenario_"):]: f for k, f in namespace.items()
                 if k.startswith("scenario_") and callable(f)}
    ap = argparse.ArgumentParser(description=doc or namespace.get("__doc__"),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", help="NAME@TRANSPORT; NAME: %s; TRANSPORT: %s (default ivshmem)"
                    % (", ".join(sorted(scenarios)), ", ".join(TRANSPORTS)))
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--kernel", help="guest kernel image (default: Debian's, tests/deps.sh)")
    ap.add_argument("--module", help="vmbuf.ko built for --kernel")
    ap.add_argument("--qemu", help="a directory QEMU was unpacked into (ivshmem; default: "
                    "the system's)")
    args = ap.parse_args()
    name, _, transport = args.scenario.partition("@")
    transport = transport or "ivshmem"
    if name not in scenarios or transport not in TRANSPORTS:
        print("unknown scenario or transport: " + args.scenario, file=sys.stderr)
        return 2
    t = time.time()
    target = Target(args.build_dir, transport, args.kernel, args.module, args.qemu)
    try:
        if around:
            with around():
                scenarios[name](target)
        else:
            scenarios[name](target)
    except Exception:
        traceback.print_exc()
        print("FAIL %s (%.1fs)" % (args.scenario, time.time() - t))
        return 1
    print("PASS %s (%.1fs)" % (args.scenario, time.time() - t))
    return 0

